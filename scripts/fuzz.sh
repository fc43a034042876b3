#!/bin/bash
# Bounded fuzzing (make fuzz): every cargo-fuzz target in fuzz/ for FUZZ_SECONDS (60) each.
#
# Runs on the stable toolchain: `--sanitizer none` needs no nightly flags (the library crates
# forbid unsafe code, so AddressSanitizer would add little; libFuzzer's coverage guidance,
# timeouts and RSS limit still apply). Seeds: every testdata spec, the hostile corpus and
# fuzz/seeds. A crash leaves its input in fuzz/artifacts/TARGET/: add it to testdata/hostile
# (or fuzz/seeds) and a regression test, then fix.
set -euo pipefail

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
cd "$ROOT_DIR/fuzz"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "[fuzz] installing cargo-fuzz (once)" >&2
    cargo install --locked cargo-fuzz --version 0.13.2
fi

for target in $(cargo fuzz list); do
    mkdir -p "corpus/$target"
    echo "[fuzz] $target for ${FUZZ_SECONDS}s" >&2
    cargo fuzz run --sanitizer none "$target" "corpus/$target" seeds \
        ../testdata/specs ../testdata/hostile ../testdata/example ../testdata/realistic -- \
        -max_total_time="$FUZZ_SECONDS" -timeout=5 -rss_limit_mb=2048 -max_len=262144 \
        -print_final_stats=1
done
