"""Reading `docker buildx build --progress=rawjson` output.

The stream is a sequence of pretty-printed JSON SolveStatus objects (not one per line), so it is
decoded object by object. A vertex "executed" when its process printed something: a step restored
from the registry cache prints no CACHED line, only layer pulls, so CACHED lines cannot tell
(see /work/shared/reference/real-buildkit-here.md, "Two traps").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime

# Steps that install or build dependencies, in both variants: layercake's wheel buckets
# ("[api wheels 3/8] …", "[api wheels 2/8] mako==…"), its install layers ("[api install 2/8] …"),
# its install/npm/apt steps, and the Dockerfiles' RUN lines.
DEPENDENCY_STEP = re.compile(
    r"pip wheel|pip install|npm ci|npm install|apt-get"
    r"|^\[\S+ (wheels|install) \d+/\d+\]|^\[\S+ (builder|packages)[^\]]*\]"
)


def parse_time(stamp: str | None) -> float | None:
    """RFC 3339 with nanoseconds → seconds since the epoch (microsecond precision is plenty)."""
    if not stamp:
        return None
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", stamp)
    if not match:
        return None
    base, frac, zone = match.groups()
    zone = "+00:00" if zone == "Z" else zone
    moment = datetime.fromisoformat(f"{base}.{(frac or '0')[:6].ljust(6, '0')}{zone}")
    return moment.timestamp()


@dataclass
class Vertex:
    digest: str
    name: str = ""
    started: float | None = None
    completed: float | None = None
    cached: bool = False
    error: str = ""
    log_lines: int = 0
    log_bytes: int = 0

    @property
    def seconds(self) -> float:
        if self.started is None or self.completed is None:
            return 0.0
        return max(0.0, self.completed - self.started)

    @property
    def executed(self) -> bool:
        """Its process ran here: it wrote output and was not a cache hit."""
        return self.log_lines > 0 and not self.cached


@dataclass
class BuildLog:
    vertices: dict[str, Vertex] = field(default_factory=dict)

    def ordered(self) -> list[Vertex]:
        return sorted(self.vertices.values(), key=lambda v: (v.started or float("inf"), v.name))

    def first(self, pattern: str) -> Vertex | None:
        regex = re.compile(pattern)
        for vertex in self.ordered():
            if regex.search(vertex.name):
                return vertex
        return None

    def dependency_steps(self) -> list[Vertex]:
        return [v for v in self.ordered() if DEPENDENCY_STEP.search(v.name)]

    def executed_dependency_steps(self) -> list[str]:
        return [v.name for v in self.dependency_steps() if v.executed]


def parse(text: str) -> BuildLog:
    log = BuildLog()
    decoder = json.JSONDecoder()
    index = 0
    while index < len(text):
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            break
        try:
            status, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError:
            # Not JSON (a buildx warning line): skip to the next line.
            newline = text.find("\n", index)
            index = len(text) if newline < 0 else newline + 1
            continue
        for raw in status.get("vertexes") or []:
            vertex = log.vertices.setdefault(raw["digest"], Vertex(raw["digest"]))
            vertex.name = raw.get("name", vertex.name)
            started = parse_time(raw.get("started"))
            completed = parse_time(raw.get("completed"))
            # A vertex may start several times (retries, shared digests): keep the first start and
            # the last completion.
            if started is not None and (vertex.started is None or started < vertex.started):
                vertex.started = started
            if completed is not None and (vertex.completed is None or completed > vertex.completed):
                vertex.completed = completed
            vertex.cached = vertex.cached or bool(raw.get("cached"))
            vertex.error = raw.get("error", vertex.error) or vertex.error
        for entry in status.get("logs") or []:
            vertex = log.vertices.setdefault(entry["vertex"], Vertex(entry["vertex"]))
            vertex.log_lines += 1
            vertex.log_bytes += len(entry.get("data") or "") * 3 // 4
    return log
