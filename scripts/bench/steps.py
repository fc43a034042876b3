"""Print the step timeline of one bench build log, to find where a scenario's time goes.

usage: python3 scripts/bench/steps.py /tmp/layercake-bench/logs/<label>.json [...]
Columns: start offset, duration, E = executed (its process wrote output) / C = cached, log lines, name.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import buildlog  # noqa: E402


def show(path: Path) -> None:
    log = buildlog.parse(path.read_text())
    vertices = log.ordered()
    origin = min((v.started for v in vertices if v.started), default=0.0)
    end = max((v.completed for v in vertices if v.completed), default=origin)
    print(f"== {path.name}: {end - origin:.2f}s from the first vertex to the last")
    for v in vertices:
        offset = (v.started - origin) if v.started else 0.0
        flag = "E" if v.executed else ("C" if v.cached else " ")
        print(f"{offset:7.2f} {v.seconds:7.2f} {flag} {v.log_lines:5d}  {v.name[:110]}")


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        show(Path(arg))
