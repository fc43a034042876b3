#!/usr/bin/env bash
# make bench: layercake (as a `# syntax=` frontend) against the hand-written Dockerfiles on the rig's
# engine, then docs/benchmarks.md, docs/benchmarks/results.{jsonl,csv} and the ratio chart.
# Needs `make rig frontend-image` (the Makefile does that).
#
#   BENCH_REPS=3              repetitions of every scenario (medians are reported)
#   BENCH_SECTIONS=main,groups,sizes,frontend,requirements   a subset for a quicker run (the report takes each
#                                               section from the latest run that measured it)
#   BENCH_FRONTEND=layercake:dev                the frontend image to measure; it is snapshotted
#                                               as layercake:bench so a concurrent rebuild of
#                                               layercake:dev cannot change it mid-run
#   BENCH_REPORT_ONLY=1       regenerate the report from docs/benchmarks/results.jsonl
#
# WARNING: the bench runs `docker buildx prune -af` many times. That empties the engine's whole
# BuildKit cache, every user's, not only the bench's.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/docs/benchmarks"
work=${BENCH_WORK:-/tmp/layercake-bench}
venv=${BENCH_VENV:-/tmp/layercake-bench-venv}
frontend=${BENCH_FRONTEND:-layercake:dev}
snapshot=${BENCH_FRONTEND_TAG:-layercake:bench}
export BENCH_WORK=$work BENCH_FRONTEND_TAG=$snapshot

say() { printf '[bench] %s\n' "$*" >&2; }

# matplotlib for the chart, in a venv of its own under /tmp (PyPI); the report still gets written
# without it, with a note instead of the chart.
chart_python() {
    if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
        say "installing matplotlib into $venv"
        if ! { python3 -m venv "$venv" >&2 && "$venv/bin/pip" install -q matplotlib >&2; }; then
            say "WARNING: no matplotlib; the report will have no chart"
            echo python3
            return
        fi
    fi
    echo "$venv/bin/python"
}

report() {
    "$(chart_python)" "$here/scripts/bench/report.py" "$out/results.jsonl" "$here/docs/benchmarks.md" "$out"
}

mkdir -p "$out" "$work"
if [[ -n ${BENCH_REPORT_ONLY:-} ]]; then
    report
    exit 0
fi

docker info >/dev/null 2>&1 || { say "ERROR: no engine answers (run make rig)"; exit 1; }
curl -fsS --max-time 3 http://127.0.0.1:5000/v2/ >/dev/null || { say "ERROR: no registry on 127.0.0.1:5000 (run make rig)"; exit 1; }
command -v npm >/dev/null || { say "ERROR: the dependency-change scenario needs npm on the host"; exit 1; }
if [[ $frontend != "$snapshot" ]]; then
    docker image inspect "$frontend" >/dev/null 2>&1 || { say "ERROR: no frontend image $frontend (run make frontend-image)"; exit 1; }
    docker tag "$frontend" "$snapshot"
fi
say "frontend under test: $frontend → $snapshot ($(docker image inspect "$snapshot" --format '{{.Id}}'))"

say '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
say "!!! This bench runs 'docker buildx prune -af' before every cold and fresh-machine build."
say '!!! That EMPTIES THE WHOLE BuildKit CACHE of this engine, everyone else'"'"'s included.'
say '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'

results="$work/results.jsonl"
rm -f "$results"
BENCH_RESULTS=$results python3 "$here/scripts/bench/run.py"
# Appended: a run of some sections only (BENCH_SECTIONS) keeps the other sections' latest results;
# report.py drops the runs no section uses any more.
cat "$results" >>"$out/results.jsonl"
report
say "wrote docs/benchmarks.md and $out/"
