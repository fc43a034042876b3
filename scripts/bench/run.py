"""`make bench`: layercake (`# syntax=` frontend) against the hand-written Dockerfiles.

Every scenario runs on scratch copies of the test projects (other helpers' tests read testdata/),
alternating the variants, BENCH_REPS times. Raw results go to one JSON-lines file; report.py turns
them into docs/benchmarks.md and the chart. Run through scripts/bench.sh.
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import buildlog  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TESTDATA = ROOT / "testdata"
WORK = Path(os.environ.get("BENCH_WORK", "/tmp/layercake-bench"))
REPS = int(os.environ.get("BENCH_REPS", "3"))
FRONTEND = os.environ.get("BENCH_FRONTEND_TAG", "layercake:bench")
REGISTRY = "127.0.0.1:5000"
SECTIONS = set(os.environ.get("BENCH_SECTIONS", "main,groups,sizes,frontend,requirements").split(","))
GROUP_SIZES = [int(g) for g in os.environ.get("BENCH_GROUP_SIZES", "1,2,4,8").split(",")]
RESULTS = Path(os.environ.get("BENCH_RESULTS", str(WORK / "results.jsonl")))
RUN_ID = time.strftime("%Y%m%d%H%M%S")


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def loud(message: str) -> None:
    bar = "!" * 100
    print(f"[bench] {bar}\n[bench] !!! {message}\n[bench] {bar}", flush=True)


def record(**fields) -> None:
    fields.setdefault("run", RUN_ID)
    if "seconds" in fields:
        fields.setdefault("foreign_clients", list(LAST_FOREIGN))
        if LAST_OTHER_CPU:
            fields.setdefault("other_cpu_seconds", LAST_OTHER_CPU[0])
    with RESULTS.open("a") as out:
        out.write(json.dumps(fields, sort_keys=True) + "\n")


# ---------------------------------------------------------------- engine helpers


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kwargs)


PRUNES = 0


def prune() -> None:
    """Empty BuildKit's cache. It is the engine's only cache: every helper on this engine loses theirs."""
    global PRUNES
    PRUNES += 1
    loud(
        f"docker buildx prune -af (#{PRUNES}): this EMPTIES THE SHARED BuildKit cache of this engine, "
        "every helper's, not only the bench's"
    )
    run(["docker", "buildx", "prune", "-af"])


def rmi(*tags: str) -> None:
    # Missing tags are fine: the point is that none of them is left.
    subprocess.run(["docker", "rmi", "-f", *tags], capture_output=True, text=True, check=False)


class BuildFailed(Exception):
    pass


def process_table() -> dict[int, tuple[int, str, int]]:
    """Every process now: pid → (parent pid, command, CPU ticks of its own and of its reaped
    children: utime + stime + cutime + cstime)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        head, rest = stat.rsplit(")", 1)
        after = rest.split()
        # After the command: state (field 3 of proc(5)) is index 0, ppid (4) index 1, and utime,
        # stime, cutime, cstime (14–17) indexes 11–14.
        table[int(entry.name)] = (int(after[1]), head.split("(", 1)[1], sum(int(v) for v in after[11:15]))
    return table


def descends_from(pid: int, roots: set[int], table: dict[int, tuple[int, str, int]]) -> bool:
    """`pid` is one of `roots` or below one of them."""
    for _ in range(64):
        if pid in roots:
            return True
        if pid not in table or pid <= 1:
            return False
        pid = table[pid][0]
    return False


def foreign_engine_clients() -> set[str]:
    """Other clients' builds and prunes running now (not children of this bench): on a shared engine
    they compete for the CPUs, and a prune can remove results between a step and the cache export."""
    table = process_table()
    found = set()
    for pid in table:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv if a]
        if not any(w.endswith("buildx") or w == "buildx" for w in words[:3]):
            continue
        if not any(w in ("build", "bake", "prune") for w in words[1:4]):
            continue
        if not descends_from(pid, {os.getpid()}, table):
            found.add(" ".join(words[:6])[:120])
    return found


class ForeignWatch:
    """Samples foreign engine clients twice a second while a build runs."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.seen |= foreign_engine_clients()
            self._stop.wait(0.5)

    def __enter__(self) -> ForeignWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# The engine's own processes: their CPU (and their reaped children's: runc, the build steps) is
# the builds' work; so is the bench's own tree (buildx, docker). Everything else is other load.
ENGINE_COMMANDS = ("dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2", "runc")


def cpu_split() -> tuple[float, float]:
    """(seconds of CPU busy on the whole machine since boot, seconds spent by the engine's and the
    bench's process trees, reaped children included)."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    # user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    values = [int(v) for v in fields[:8]]
    busy = sum(values) - values[3] - values[4]
    table = process_table()
    roots = {pid for pid, (_, name, _) in table.items() if name in ENGINE_COMMANDS} | {os.getpid()}
    ours = sum(spent for pid, (_, _, spent) in table.items() if descends_from(pid, roots, table))
    return busy / ticks, ours / ticks


# Every image tag the bench built: removed when the run ends.
TAGS: set[str] = set()

# Foreign clients seen during the last build() call (recorded with its scenario).
LAST_FOREIGN: list[str] = []
# CPU seconds the last build() call saw spent outside the engine and the bench (other load).
LAST_OTHER_CPU: list[float] = []


def build(
    label: str,
    dockerfile: Path,
    context: Path,
    tag: str,
    target: str | None = None,
    args: dict[str, str] | None = None,
    cache_from: str | None = None,
    cache_to: str | None = None,
) -> tuple[float, buildlog.BuildLog]:
    """One timed `docker buildx build`; returns the wall time and the parsed progress."""
    TAGS.add(tag)
    cmd = ["docker", "buildx", "build", "--progress=rawjson", "-f", str(dockerfile), "-t", tag]
    if target:
        cmd += ["--target", target]
    for key, value in sorted((args or {}).items()):
        cmd += ["--build-arg", f"{key}={value}"]
    if cache_from:
        cmd += ["--cache-from", f"type=registry,ref={cache_from}"]
    if cache_to:
        cmd += ["--cache-to", f"type=registry,ref={cache_to},mode=max"]
    cmd.append(str(context))
    logdir = WORK / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    logfile = logdir / f"{label}.json"
    with ForeignWatch() as watch:
        busy_before, ours_before = cpu_split()
        start = time.monotonic()
        proc = subprocess.run(cmd, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        seconds = time.monotonic() - start
        busy_after, ours_after = cpu_split()
    LAST_FOREIGN[:] = sorted(watch.seen)
    # A process that was alive at the first sample and reaped by an engine process since counts
    # twice on our side, so this errs low; other work that competes shows up all the same.
    LAST_OTHER_CPU[:] = [round(max(0.0, (busy_after - busy_before) - (ours_after - ours_before)), 2)]
    logfile.write_text(proc.stderr)
    if proc.returncode != 0:
        errors = [line for line in proc.stderr.splitlines() if line.startswith("ERROR")] or ["(no ERROR line)"]
        raise BuildFailed(f"{label}: {errors[-1]} (exit {proc.returncode}; log {logfile}; {' '.join(cmd)})")
    return seconds, buildlog.parse(proc.stderr)


# ---------------------------------------------------------------- the projects


class Service:
    """One service of one project, buildable by both variants from a scratch copy."""

    def __init__(self, project: str, service: str, kind: str, folder: str, code_file: str):
        self.project = project
        self.service = service
        self.kind = kind  # python | node
        self.folder = folder  # service folder inside the project
        self.code_file = code_file  # a source file inside the folder, changed by code-only scenarios
        self.source = TESTDATA / project
        self.dockerfile_dir = TESTDATA / "dockerfiles" / project

    @property
    def name(self) -> str:
        return f"{self.project}/{self.service}"

    def work(self) -> Path:
        return WORK / "src" / self.project

    def reset(self) -> None:
        """A fresh copy of the project (and of its Dockerfiles, with their .dockerignore files)."""
        shutil.rmtree(self.work(), ignore_errors=True)
        shutil.copytree(self.source, self.work(), ignore=shutil.ignore_patterns("node_modules", "dist", "__pycache__"))
        dockerfiles = WORK / "dockerfiles" / self.project
        shutil.rmtree(dockerfiles, ignore_errors=True)
        shutil.copytree(self.dockerfile_dir, dockerfiles)

    def variant_build(self, variant: str, label: str, tag: str, **kwargs):
        if variant == "layercake":
            args = {"BUILDKIT_SYNTAX": FRONTEND}
            args.update(kwargs.pop("args", {}) or {})
            return build(label, self.work() / "layercake.yaml", self.work(), tag, target=self.service, args=args, **kwargs)
        dockerfile = WORK / "dockerfiles" / self.project / f"{self.service}.Dockerfile"
        return build(label, dockerfile, self.work() / self.folder, tag, **kwargs)

    def change_code(self, token: str) -> Path:
        path = self.work() / self.folder / self.code_file
        comment = "#" if path.suffix == ".py" else "//"
        with path.open("a") as out:
            out.write(f"\n{comment} bench change {token}\n")
        return path


SERVICES = [
    Service("example", "api", "python", "backend", "app/main.py"),
    Service("example", "web", "node", "frontend", "src/main.js"),
    Service("realistic", "api", "python", "api", "app/main.py"),
    Service("realistic", "web", "node", "web", "src/main.jsx"),
]

# Dependency changes: one pin bumped (an older idna: pure Python, no dependants' limits) and one
# npm dependency added with its lockfile written by the host's npm.
PIN_FROM, PIN_TO = "idna==3.20", "idna==3.19"
NPM_ADDED = "ms@2.1.3"


def bump_pin(requirements: Path) -> None:
    text = requirements.read_text()
    if PIN_FROM not in text:
        raise BuildFailed(f"{requirements}: no line {PIN_FROM} to bump")
    requirements.write_text(text.replace(PIN_FROM, PIN_TO))


PREPARED_NPM: dict[str, Path] = {}


def prepare_npm_change(svc: Service) -> Path:
    """package.json + lockfile with one more dependency, made once per project on the host."""
    if svc.name in PREPARED_NPM:
        return PREPARED_NPM[svc.name]
    out = WORK / "prepared" / svc.project
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(svc.source / svc.folder / name, out / name)
    say(f"{svc.name}: npm install --package-lock-only {NPM_ADDED} (host npm, for the dependency change)")
    run(
        ["npm", "install", "--package-lock-only", "--save-exact", "--ignore-scripts", "--no-audit", "--no-fund", NPM_ADDED],
        cwd=out,
    )
    PREPARED_NPM[svc.name] = out
    return out


def change_dependencies(svc: Service) -> None:
    folder = svc.work() / svc.folder
    if svc.kind == "python":
        bump_pin(folder / "requirements.txt")
    else:
        prepared = prepare_npm_change(svc)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(prepared / name, folder / name)


# ---------------------------------------------------------------- registry cache


def cache_blobs(ref: str) -> dict[str, int]:
    """digest → size of every blob a registry cache manifest references (empty if none yet)."""
    repo, tag = ref.split("/", 1)[1].rsplit(":", 1)
    request = urllib.request.Request(
        f"http://{REGISTRY}/v2/{repo}/manifests/{tag}",
        headers={
            "Accept": ", ".join(
                [
                    "application/vnd.oci.image.index.v1+json",
                    "application/vnd.oci.image.manifest.v1+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json",
                    "application/vnd.docker.distribution.manifest.v2+json",
                ]
            )
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            manifest = json.load(response)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return {}
        raise
    blobs = {}
    for descriptor in (manifest.get("manifests") or []) + (manifest.get("layers") or []):
        blobs[descriptor["digest"]] = int(descriptor.get("size", 0))
    if manifest.get("config"):
        blobs[manifest["config"]["digest"]] = int(manifest["config"].get("size", 0))
    return blobs


def cache_records(ref: str) -> dict:
    """How many cache records the exported cache config holds, and how many of them carry a layer
    (a record without one cannot restore its step's result on another machine: the step runs)."""
    repo, tag = ref.split("/", 1)[1].rsplit(":", 1)
    request = urllib.request.Request(
        f"http://{REGISTRY}/v2/{repo}/manifests/{tag}",
        headers={"Accept": "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            manifest = json.load(response)
        configs = [
            d["digest"]
            for d in (manifest.get("manifests") or []) + (manifest.get("layers") or [])
            if "cacheconfig" in d.get("mediaType", "")
        ]
        if manifest.get("config", {}).get("mediaType", "").endswith("cacheconfig.v0"):
            configs.append(manifest["config"]["digest"])
        if not configs:
            return {}
        with urllib.request.urlopen(f"http://{REGISTRY}/v2/{repo}/blobs/{configs[0]}", timeout=10) as response:
            config = json.load(response)
    except (urllib.error.URLError, ValueError, KeyError):
        return {}
    records = config.get("records") or []
    return {"cache_records": len(records), "cache_records_with_layers": sum(1 for r in records if r.get("layers"))}


def pushed_bytes(before: dict[str, int], after: dict[str, int]) -> int:
    return sum(size for digest, size in after.items() if digest not in before)


# ---------------------------------------------------------------- image sizes


def image_bytes(tag: str) -> tuple[int, int]:
    """(uncompressed, compressed) bytes of an image's layers, from `docker save`."""
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        archive = Path(tmp) / "image.tar"
        run(["docker", "save", "-o", str(archive), tag])
        with tarfile.open(archive) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
            uncompressed = compressed = 0
            for layer in manifest[0]["Layers"]:
                member = tar.getmember(layer)
                compressed += member.size
                handle = tar.extractfile(member)
                head = handle.read(2)
                handle.seek(0)
                stream = gzip.GzipFile(fileobj=handle) if head == b"\x1f\x8b" else handle
                while chunk := stream.read(1 << 20):
                    uncompressed += len(chunk)
    return uncompressed, compressed


# ---------------------------------------------------------------- section 1: the scenarios


def dependency_summary(log: buildlog.BuildLog) -> dict:
    steps = log.dependency_steps()
    executed = [v.name for v in steps if v.executed]
    ran = [v.name for v in log.ordered() if v.executed]
    return {"dep_steps": len(steps), "dep_executed": len(executed), "dep_executed_names": executed, "executed_names": ran}


def main_chain(svc: Service, variant: str, rep: int) -> None:
    """cold → no-op → code-only (+ floor) → dependency change → fresh machine + registry cache."""
    tag = f"lcb-{svc.project}-{svc.service}-{variant}:bench"
    base = f"{svc.project}-{svc.service}-{variant}-r{rep}"
    common = {"section": "main", "project": svc.project, "service": svc.service, "variant": variant, "rep": rep}
    svc.reset()

    rmi(tag)
    prune()
    seconds, log = svc.variant_build(variant, f"{base}-cold", tag)
    record(scenario="cold", seconds=seconds, **common, **dependency_summary(log))
    say(f"{svc.name} {variant} r{rep}: cold {seconds:.1f}s")

    seconds, log = svc.variant_build(variant, f"{base}-noop", tag)
    record(scenario="noop", seconds=seconds, **common, **dependency_summary(log))

    changed = svc.change_code(f"{RUN_ID}-{rep}-code")
    seconds, log = svc.variant_build(variant, f"{base}-code", tag)
    record(scenario="code", seconds=seconds, **common, **dependency_summary(log))
    say(f"{svc.name} {variant} r{rep}: code-only {seconds:.1f}s")

    # The floor: only the changed file copied onto the image just built (every layer cached).
    floor_dir = WORK / "floor" / base
    shutil.rmtree(floor_dir, ignore_errors=True)
    floor_dir.mkdir(parents=True)
    shutil.copy(changed, floor_dir / changed.name)
    dest = "/app/" + svc.code_file if svc.kind == "python" else "/usr/share/nginx/html/" + changed.name
    (floor_dir / "Dockerfile").write_text(f"FROM {tag}\nCOPY {changed.name} {dest}\n")
    seconds, _ = build(f"{base}-floor", floor_dir / "Dockerfile", floor_dir, f"lcb-floor-{svc.project}-{svc.service}:bench")
    record(scenario="floor", seconds=seconds, **common)

    change_dependencies(svc)
    seconds, log = svc.variant_build(variant, f"{base}-deps", tag)
    record(scenario="deps", seconds=seconds, **common, **dependency_summary(log))
    say(f"{svc.name} {variant} r{rep}: dependency change {seconds:.1f}s")

    # Fresh machine: the previous build's state exported (mode=max), a code change, then the image
    # removed and BuildKit's cache emptied before the rebuild with --cache-from.
    ref = f"{REGISTRY}/layercake-bench/{svc.project}-{svc.service}-{variant}:{RUN_ID}-r{rep}"
    svc.variant_build(variant, f"{base}-seed", tag, cache_to=ref)
    seeded = cache_records(ref)
    before = cache_blobs(ref)
    svc.change_code(f"{RUN_ID}-{rep}-fresh")
    rmi(tag, f"lcb-floor-{svc.project}-{svc.service}:bench")
    prune()
    seconds, log = svc.variant_build(variant, f"{base}-fresh", tag, cache_from=ref, cache_to=ref)
    after = cache_blobs(ref)
    export = log.first(r"^exporting cache")
    record(
        scenario="fresh_code",
        seconds=seconds,
        pushed_bytes=pushed_bytes(before, after),
        cache_export_seconds=export.seconds if export else None,
        seed_cache_records=seeded.get("cache_records"),
        seed_cache_records_with_layers=seeded.get("cache_records_with_layers"),
        **common,
        **dependency_summary(log),
    )
    say(
        f"{svc.name} {variant} r{rep}: fresh machine + registry cache, code change {seconds:.1f}s; "
        f"dependency steps executed: {dependency_summary(log)['dep_executed_names'] or 'none'}"
    )


ATTEMPTS = int(os.environ.get("BENCH_ATTEMPTS", "2"))


def attempt(chain, *args, **where) -> None:
    """Run one scenario chain; on a failed build start the whole chain again (it begins with a
    prune, so a retry measures the same thing). Other users of the shared engine prune and remove
    images too, which can fail a build mid-export ("failed to solve: not found")."""
    for number in range(1, ATTEMPTS + 1):
        try:
            chain(*args)
            return
        except BuildFailed as error:
            final = number == ATTEMPTS
            say(f"FAILED (attempt {number}/{ATTEMPTS}{', giving up' if final else ', the chain starts again'}): {error}")
            record(scenario="error" if final else "retried", attempt=number, error=str(error)[:2000], **where)
            # Drop the partial chain's timings: the retry re-measures every scenario of the chain.
            drop(where)


def drop(where: dict) -> None:
    """Mark the records of a failed chain attempt so the report ignores them."""
    if not RESULTS.exists():
        return
    keep = []
    for line in RESULTS.read_text().splitlines():
        row = json.loads(line)
        if (
            row.get("run") == RUN_ID
            and all(row.get(k) == v for k, v in where.items())
            and row.get("scenario") not in ("error", "retried")
        ):
            row["discarded"] = True
        keep.append(json.dumps(row, sort_keys=True))
    RESULTS.write_text("\n".join(keep) + "\n")


def section_main() -> None:
    for svc in SERVICES:
        for rep in range(1, REPS + 1):
            # Alternate which variant goes first so neither always follows the other's prune.
            order = ["layercake", "dockerfile"] if rep % 2 else ["dockerfile", "layercake"]
            for variant in order:
                attempt(
                    main_chain,
                    svc,
                    variant,
                    rep,
                    section="main",
                    project=svc.project,
                    service=svc.service,
                    variant=variant,
                    rep=rep,
                )


# ---------------------------------------------------------------- section 2: wheel group sizes (issue 9)


class GroupProject:
    """A python service for the group-size scenarios: a copy of the realistic project, optionally with
    a bench-only spec, requirements file and Dockerfile laid over it."""

    def __init__(self, name: str, overlay: Path | None):
        self.name, self.overlay = name, overlay
        self.folder, self.service = "api", "api"

    def work(self) -> Path:
        return WORK / "groups" / self.name

    def reset(self) -> None:
        shutil.rmtree(self.work(), ignore_errors=True)
        shutil.copytree(TESTDATA / "realistic", self.work(), ignore=shutil.ignore_patterns("node_modules", "dist", "__pycache__"))
        dockerfiles = self.overlay or TESTDATA / "dockerfiles" / "realistic"
        for name in ("api.Dockerfile", "api.Dockerfile.dockerignore"):
            shutil.copy(dockerfiles / name, self.work() / name)
        if self.overlay:
            shutil.copy(self.overlay / "layercake.yaml", self.work() / "layercake.yaml")
            shutil.copy(self.overlay / "requirements.txt", self.work() / self.folder / "requirements.txt")

    def build(self, variant: str, label: str, tag: str, **kwargs):
        if variant == "dockerfile":
            return build(label, self.work() / "api.Dockerfile", self.work() / self.folder, tag, **kwargs)
        size = variant.removeprefix("g")
        args = {"BUILDKIT_SYNTAX": FRONTEND, "LAYERCAKE_WHEEL_GROUP_SIZE": size}
        return build(label, self.work() / "layercake.yaml", self.work(), tag, target=self.service, args=args, **kwargs)


GROUP_PROJECTS = [
    GroupProject("realistic-api", None),
    GroupProject("api-compiled", TESTDATA / "bench" / "api-compiled"),
]


def span(vertices: list[buildlog.Vertex]) -> float:
    """Wall time from the first start to the last completion (parallel steps overlap)."""
    starts = [v.started for v in vertices if v.started]
    ends = [v.completed for v in vertices if v.completed]
    return max(ends) - min(starts) if starts and ends else 0.0


def group_chain(project: GroupProject, variant: str, rep: int) -> None:
    tag = f"lcb-groups-{project.name}-{variant}:bench"
    base = f"groups-{project.name}-{variant}-r{rep}"
    common = {"section": "groups", "project": project.name, "service": project.service, "variant": variant, "rep": rep}
    ref = f"{REGISTRY}/layercake-bench/groups-{project.name}-{variant}:{RUN_ID}-r{rep}"
    project.reset()

    # Cold, CI style: nothing local, nothing in the registry cache yet; exports mode=max.
    rmi(tag)
    prune()
    seconds, log = project.build(variant, f"{base}-cold", tag, cache_to=ref)
    export = log.first(r"^exporting cache")
    record(
        scenario="cold_ci",
        seconds=seconds,
        cache_export_seconds=export.seconds if export else None,
        **cache_records(ref),
        **common,
        **dependency_summary(log),
    )
    say(f"groups {project.name} {variant} r{rep}: cold (with cache export) {seconds:.1f}s")

    # One pin changed, on a fresh machine with the registry cache of the build above.
    bump_pin(project.work() / project.folder / "requirements.txt")
    rmi(tag)
    prune()
    seconds, log = project.build(variant, f"{base}-pin", tag, cache_from=ref, cache_to=ref)
    export = log.first(r"^exporting cache")
    wheel_steps = [v for v in log.dependency_steps() if re.search(r"pip wheel|^\[\S+ wheels \d+/\d+\]", v.name)]
    # The single `pip install`, or the install layers and `resolve` (they run side by side).
    install = [
        v
        for v in log.dependency_steps()
        if v.executed and re.search(r"pip install|^\[\S+ install \d+/\d+\]", v.name)
    ]
    record(
        scenario="pin_fresh",
        seconds=seconds,
        cache_export_seconds=export.seconds if export else None,
        wheel_steps=len(wheel_steps),
        wheel_steps_executed=sum(1 for v in wheel_steps if v.executed),
        wheel_seconds_executed=span([v for v in wheel_steps if v.executed]),
        install_seconds=span(install),
        install_steps_executed=len(install),
        **cache_records(ref),
        **common,
        **dependency_summary(log),
    )
    say(
        f"groups {project.name} {variant} r{rep}: one pin changed, fresh machine {seconds:.1f}s "
        f"({sum(1 for v in wheel_steps if v.executed)}/{len(wheel_steps)} wheel steps executed)"
    )


def section_groups() -> None:
    variants = [f"g{g}" for g in GROUP_SIZES] + ["dockerfile"]
    for project in GROUP_PROJECTS:
        for rep in range(1, REPS + 1):
            order = variants if rep % 2 else list(reversed(variants))
            for variant in order:
                attempt(
                    group_chain,
                    project,
                    variant,
                    rep,
                    section="groups",
                    project=project.name,
                    service=project.service,
                    variant=variant,
                    rep=rep,
                )


# ---------------------------------------------------------------- section 3: sizes


def size_of_build(build, label: str, tag: str, project: str, service: str, variant: str) -> None:
    """Builds `tag` with `build(label, tag)` and records the image's size."""
    try:
        build(label, tag)
    except BuildFailed as error:
        say(f"FAILED: {error}")
        return
    uncompressed, compressed = image_bytes(tag)
    record(
        section="sizes",
        project=project,
        service=service,
        variant=variant,
        scenario="image",
        uncompressed=uncompressed,
        compressed=compressed,
    )
    say(f"{project}/{service} {variant}: image {uncompressed / 1e6:.1f} MB uncompressed, {compressed / 1e6:.1f} MB compressed")


def section_sizes() -> None:
    for svc in SERVICES:
        svc.reset()
        for variant in ("layercake", "dockerfile"):
            size_of_build(
                lambda label, tag, svc=svc, variant=variant: svc.variant_build(variant, label, tag),
                f"size-{svc.project}-{svc.service}-{variant}",
                f"lcb-{svc.project}-{svc.service}-{variant}:bench",
                svc.project,
                svc.service,
                variant,
            )
    for project in GROUP_PROJECTS:
        project.reset()
        for variant in ("g4", "dockerfile"):  # g4: the frontend's default group size
            size_of_build(
                lambda label, tag, project=project, variant=variant: project.build(variant, label, tag),
                f"size-{project.name}-{variant}",
                f"lcb-groups-{project.name}-{variant}:bench",
                project.name,
                project.service,
                variant,
            )
    uncompressed, compressed = image_bytes(FRONTEND)
    record(
        section="sizes",
        project="frontend",
        service="-",
        variant="layercake",
        scenario="frontend_image",
        uncompressed=uncompressed,
        compressed=compressed,
    )


# ---------------------------------------------------------------- section 4: the frontend's own cost


def many_services_project() -> Path:
    """The example's two folders behind a spec with 20 services (10 python, 10 node)."""
    root = WORK / "many"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(TESTDATA / "example", root, ignore=shutil.ignore_patterns("node_modules", "dist", "__pycache__"))
    lines = [f"# syntax={FRONTEND}", "# Generated by scripts/bench/run.py: 20 services.", "default: api-01", "services:"]
    for index in range(1, 11):
        lines += [
            f"  api-{index:02d}:",
            "    path: backend",
            '    python: { version: "3.11", requirements: requirements.txt }',
            f'    command: [uvicorn, app.main:app, --host, 0.0.0.0, --port, "{8000 + index}"]',
            f"    port: {8000 + index}",
            "    healthcheck: { http: /api/health }",
            f'    env: {{ SERVICE_INDEX: "{index}" }}',
        ]
    for index in range(1, 11):
        lines += [
            f"  web-{index:02d}:",
            "    path: frontend",
            '    node: { version: "18" }',
            "    serve: { nginx: { spa: true } }",
            "    healthcheck: { http: / }",
        ]
    (root / "layercake.yaml").write_text("\n".join(lines) + "\n")
    return root


def frontend_timings(log: buildlog.BuildLog, variant: str) -> dict:
    """Phases of one build from BuildKit's own timestamps (seconds)."""
    export = log.first(r"^exporting to image")
    if variant == "layercake":
        resolve = log.first(r"^resolve image config for docker-image://.*layercake")
        image = log.first(r"^docker-image://.*layercake")
        spec = log.first(r"^\[internal\] load spec")
        begin = resolve.started if resolve else None
        ready = image.completed if image and image.completed else (resolve.completed if resolve else None)
        first_solve = spec.started if spec else None
    else:
        definition = log.first(r"^\[internal\] load build definition")
        begin = definition.started if definition else None
        ready = begin
        first_solve = definition.completed if definition else None
    return {
        "resolve_frontend": (ready - begin) if begin and ready else None,
        "to_first_solve": (first_solve - ready) if ready and first_solve else None,
        "to_export": (export.started - ready) if ready and export and export.started else None,
        "export": export.seconds if export else None,
    }


# The rig's dockerd log (scripts/lib/engine.sh): BuildKit writes a frontend's stderr there.
DOCKERD_LOG = Path(os.environ.get("BENCH_DOCKERD_LOG", "/var/log/layercake-dockerd.log"))
TIMINGS_ARG = {"LAYERCAKE_FRONTEND_TIMINGS": "1"}


def log_offset() -> int:
    try:
        return DOCKERD_LOG.stat().st_size
    except OSError:
        return 0


def process_timings(offset: int) -> dict:
    """The frontend process's own times by its own clock (seconds), from the line it writes with
    `LAYERCAKE_FRONTEND_TIMINGS=1`: from its start (after the container start) to its first Solve
    and to its result."""
    try:
        with DOCKERD_LOG.open("rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", "replace")
    except OSError:
        return {}
    found = re.findall(r"layercake frontend timings: .*?start_to_first_solve_ms=([\d.]+) start_to_result_ms=([\d.]+)", text)
    if not found:
        return {}
    first_solve, result = found[-1]
    return {"process_to_first_solve": float(first_solve) / 1000, "process_to_result": float(result) / 1000}


def container_floor_project() -> Path:
    """A Dockerfile whose one step starts a container from the frontend image and exits: what any
    container start costs on this engine, the floor under "frontend start → first Solve"."""
    root = WORK / "container-floor"
    root.mkdir(parents=True, exist_ok=True)
    (root / "Dockerfile").write_text(
        f"FROM {FRONTEND}\n"
        "# A new REP each time: the step runs in every build.\n"
        "ARG REP\n"
        'RUN ["/usr/local/bin/layercake", "--version"]\n'
    )
    return root


def section_frontend() -> None:
    floor = container_floor_project()
    for rep in range(1, max(REPS, 5) + 1):
        try:
            seconds, log = build(
                f"frontend-container-floor-r{rep}",
                floor / "Dockerfile",
                floor,
                "lcb-frontend-container-floor:bench",
                args={"REP": f"{RUN_ID}-{rep}"},
            )
        except BuildFailed as error:
            say(f"FAILED: {error}")
            record(section="frontend", project="container-floor", service="-", variant="dockerfile", scenario="error", error=str(error)[:2000])
            break
        step = log.first(r"^\[\d+/\d+\] RUN")
        record(
            section="frontend",
            project="container-floor",
            service="-",
            variant="dockerfile",
            scenario="container_start",
            rep=rep,
            seconds=seconds,
            container_seconds=step.seconds if step else None,
        )
    example = SERVICES[0]
    example.reset()
    many = many_services_project()
    cases = [
        ("example-api", "layercake", lambda label, tag: example.variant_build("layercake", label, tag, args=TIMINGS_ARG)),
        ("example-api", "dockerfile", lambda label, tag: example.variant_build("dockerfile", label, tag)),
        (
            "many-20-api-01",
            "layercake",
            lambda label, tag: build(
                label, many / "layercake.yaml", many, tag, target="api-01", args={"BUILDKIT_SYNTAX": FRONTEND, **TIMINGS_ARG}
            ),
        ),
        (
            "many-20-web-10",
            "layercake",
            lambda label, tag: build(
                label, many / "layercake.yaml", many, tag, target="web-10", args={"BUILDKIT_SYNTAX": FRONTEND, **TIMINGS_ARG}
            ),
        ),
    ]
    for case, variant, do in cases:
        tag = f"lcb-frontend-{case}-{variant}:bench"
        try:
            do(f"frontend-{case}-{variant}-warm", tag)  # everything cached from here on
            for rep in range(1, max(REPS, 5) + 1):
                offset = log_offset()
                seconds, log = do(f"frontend-{case}-{variant}-r{rep}", tag)
                record(
                    section="frontend",
                    project=case,
                    service="-",
                    variant=variant,
                    scenario="noop_phases",
                    rep=rep,
                    seconds=seconds,
                    **frontend_timings(log, variant),
                    **(process_timings(offset) if variant == "layercake" else {}),
                )
        except BuildFailed as error:
            say(f"FAILED: {error}")
            record(section="frontend", project=case, service="-", variant=variant, scenario="error", error=str(error)[:2000])


# ---------------------------------------------------------------- section 5: requirement files as written (issue 22)

REQS_PIN_FROM, REQS_PIN_TO = "orjson==3.10.12", "orjson==3.10.11"
REQS_VARIANTS = ["toplevel", "closure", "dockerfile"]


class ReqsProject:
    """testdata/pyreqs' `toplevel` service three ways: layercake on its top-level requirements.txt
    (the lock stage resolves it), layercake on the full closure compiled from it
    (testdata/bench/pyreqs-closure: no lock stage, the path every earlier bench measured), and the
    seed's Dockerfile (`pip wheel -r` on the top-level file)."""

    folder = service = "toplevel"

    def work(self) -> Path:
        return WORK / "reqs"

    def requirements(self) -> Path:
        return self.work() / self.folder / "requirements.txt"

    def reset(self, variant: str) -> None:
        shutil.rmtree(self.work(), ignore_errors=True)
        shutil.copytree(TESTDATA / "pyreqs", self.work(), ignore=shutil.ignore_patterns("__pycache__"))
        dockerfiles = TESTDATA / "dockerfiles" / "pyreqs"
        for name in ("toplevel.Dockerfile", "toplevel.Dockerfile.dockerignore"):
            shutil.copy(dockerfiles / name, self.work() / name)
        if variant == "closure":
            shutil.copy(TESTDATA / "bench" / "pyreqs-closure" / "requirements.txt", self.requirements())

    def build(self, variant: str, label: str, tag: str, **kwargs):
        if variant == "dockerfile":
            return build(label, self.work() / "toplevel.Dockerfile", self.work() / self.folder, tag, **kwargs)
        args = {"BUILDKIT_SYNTAX": FRONTEND}
        return build(label, self.work() / "layercake.yaml", self.work(), tag, target=self.service, args=args, **kwargs)

    def change_code(self, token: str) -> None:
        with (self.work() / self.folder / "app" / "main.py").open("a") as out:
            out.write(f"\n# bench change {token}\n")

    def bump(self) -> None:
        text = self.requirements().read_text()
        if REQS_PIN_FROM not in text:
            raise BuildFailed(f"{self.requirements()}: no line {REQS_PIN_FROM} to bump")
        self.requirements().write_text(text.replace(REQS_PIN_FROM, REQS_PIN_TO))


def lock_summary(log: buildlog.BuildLog) -> dict:
    lock = log.first(r"^\[toplevel lock 1/1\]")
    return {
        "lock_seconds": lock.seconds if lock else None,
        "lock_executed": bool(lock and lock.executed),
    }


def reqs_chain(project: ReqsProject, variant: str, rep: int) -> None:
    """cold (exporting the registry cache) → no-op → code-only → one top-level pin bumped on a
    fresh machine with the registry cache → a code change on a fresh machine (same files)."""
    tag = f"lcb-reqs-{variant}:bench"
    base = f"reqs-{variant}-r{rep}"
    common = {"section": "requirements", "project": "pyreqs", "service": "toplevel", "variant": variant, "rep": rep}
    ref = f"{REGISTRY}/layercake-bench/reqs-{variant}:{RUN_ID}-r{rep}"
    project.reset(variant)

    rmi(tag)
    prune()
    seconds, log = project.build(variant, f"{base}-cold", tag, cache_to=ref)
    record(scenario="cold", seconds=seconds, **common, **dependency_summary(log), **lock_summary(log))
    say(f"reqs {variant} r{rep}: cold {seconds:.1f}s")

    seconds, log = project.build(variant, f"{base}-noop", tag)
    record(scenario="noop", seconds=seconds, **common, **dependency_summary(log), **lock_summary(log))

    project.change_code(f"{RUN_ID}-{rep}-code")
    seconds, log = project.build(variant, f"{base}-code", tag)
    record(scenario="code", seconds=seconds, **common, **dependency_summary(log), **lock_summary(log))
    say(f"reqs {variant} r{rep}: code-only {seconds:.1f}s")

    project.bump()
    rmi(tag)
    prune()
    seconds, log = project.build(variant, f"{base}-pin", tag, cache_from=ref, cache_to=ref)
    record(scenario="pin_fresh", seconds=seconds, **common, **dependency_summary(log), **lock_summary(log))
    say(
        f"reqs {variant} r{rep}: one top-level pin bumped, fresh machine {seconds:.1f}s "
        f"(dependency steps executed: {dependency_summary(log)['dep_executed']})"
    )

    project.change_code(f"{RUN_ID}-{rep}-fresh")
    rmi(tag)
    prune()
    seconds, log = project.build(variant, f"{base}-fresh", tag, cache_from=ref)
    record(scenario="fresh_code", seconds=seconds, **common, **dependency_summary(log), **lock_summary(log))
    say(f"reqs {variant} r{rep}: fresh machine, code change {seconds:.1f}s")


def section_requirements() -> None:
    project = ReqsProject()
    for rep in range(1, REPS + 1):
        order = REQS_VARIANTS if rep % 2 else list(reversed(REQS_VARIANTS))
        for variant in order:
            attempt(
                reqs_chain,
                project,
                variant,
                rep,
                section="requirements",
                project="pyreqs",
                service="toplevel",
                variant=variant,
                rep=rep,
            )


# ---------------------------------------------------------------- entry


def environment() -> dict:
    def out(cmd: list[str]) -> str:
        try:
            return run(cmd).stdout.strip()
        except (subprocess.CalledProcessError, FileNotFoundError):
            return "?"

    meminfo = Path("/proc/meminfo").read_text()
    mem_kib = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))
    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "engine": out(["docker", "version", "--format", "{{.Server.Version}}"]),
        "buildx": out(["docker", "buildx", "version"]),
        "buildkit": out(["docker", "buildx", "inspect", "--bootstrap"]),
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "cpu": cpu.group(1) if cpu else "?",
        "kernel": platform.release(),
        "frontend": out(["docker", "image", "inspect", FRONTEND, "--format", "{{.Id}}"]),
        "reps": REPS,
        "sections": sorted(SECTIONS),
    }


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    env = environment()
    buildkit = re.search(r"BuildKit version:\s*(\S+)", env["buildkit"])
    env["buildkit"] = buildkit.group(1) if buildkit else env["buildkit"]
    record(section="env", **env)
    say(f"run {RUN_ID}: {REPS} repetitions, sections {sorted(SECTIONS)}, results in {RESULTS}")
    started = time.monotonic()
    for name, section in (
        ("frontend", section_frontend),
        ("main", section_main),
        ("groups", section_groups),
        ("sizes", section_sizes),
        ("requirements", section_requirements),
    ):
        if name in SECTIONS:
            say(f"== section {name}")
            section()
            say(f"== section {name} done after {(time.monotonic() - started) / 60:.1f} min")
    record(section="done", prunes=PRUNES, minutes=round((time.monotonic() - started) / 60, 1))
    if TAGS:
        rmi(*sorted(TAGS))


if __name__ == "__main__":
    main()
