#!/bin/bash
# Supply-chain audit: cargo-deny (advisories, licenses, bans, sources) against the RustSec
# advisory database copy in ../shared/data/rustsec-advisory-db, fully offline.
#
#   scripts/audit.sh            (make audit)
#   ADVISORY_DB=/path/to/advisory-db scripts/audit.sh
#
# cargo-deny is installed with `cargo install --locked` when missing (a few minutes, cached in
# ~/.cargo/bin). It expects its database as a git checkout under deny.toml's db-path, in a
# folder named after the database URL, so the read-only copy is turned into one there.
set -euo pipefail

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ADVISORY_DB=${ADVISORY_DB:-$ROOT_DIR/../shared/data/rustsec-advisory-db}
# cargo-deny's folder name for https://github.com/rustsec/advisory-db.
DB_DIR=$ROOT_DIR/target/advisory-db/advisory-db-3157b0e258782691
CARGO_DENY_VERSION=0.20.2

log() { printf '[audit] %s\n' "$*" >&2; }

[[ -d $ADVISORY_DB/crates ]] || {
    log "no advisory database at $ADVISORY_DB"
    exit 1
}

if ! command -v cargo-deny >/dev/null 2>&1; then
    log "installing cargo-deny $CARGO_DENY_VERSION (once; takes a few minutes)"
    cargo install --locked cargo-deny --version "$CARGO_DENY_VERSION"
fi

# Refresh the git copy whenever the source differs (cheap: a few thousand small files).
stamp=$(find "$ADVISORY_DB" -type f -newer "$DB_DIR/.git/HEAD" -print -quit 2>/dev/null || echo new)
if [[ ! -d $DB_DIR/.git || -n $stamp ]]; then
    log "preparing the advisory database copy in $DB_DIR"
    rm -rf "$DB_DIR"
    mkdir -p "$DB_DIR"
    cp -r "$ADVISORY_DB"/. "$DB_DIR"/
    chmod -R u+w "$DB_DIR"
    git -C "$DB_DIR" init -q
    git -C "$DB_DIR" add -A
    git -C "$DB_DIR" -c user.name=audit -c user.email=audit@localhost \
        commit -q -m "copy of $ADVISORY_DB"
fi

log "advisories: $(find "$DB_DIR/crates" -name '*.md' | wc -l) in the database"
cd "$ROOT_DIR"
cargo deny --offline check --show-stats
