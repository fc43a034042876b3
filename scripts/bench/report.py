"""docs/benchmarks.md, results.csv and ratios.png from the bench's results.jsonl.

usage: report.py RESULTS.jsonl OUT.md OUT_DIR
Each section comes from the latest run that measured it (runs no section uses any more are dropped
from the file). docs/benchmarks/findings.md (hand-written analysis of the numbers) is included
verbatim; everything else is generated.
"""

from __future__ import annotations

import csv
import json
import statistics
import sys
from pathlib import Path

SCENARIOS = [
    ("cold", "cold build (cache pruned first)"),
    ("noop", "no-op rebuild"),
    ("code", "code-only change"),
    ("deps", "dependency change"),
    ("fresh_code", "fresh machine + registry cache, code change"),
]
SERVICES = [("example", "api"), ("example", "web"), ("realistic", "api"), ("realistic", "web")]
DOCKERFILE_FRONTEND_MB = 18  # BuildKit's published Dockerfile frontend image, none can be pulled here
TARGET_PIN, TARGET_COLD = 0.3, 1.1
# Issue 6: layercake ÷ the hand-written Dockerfile, in one run.
TARGETS_VS_DOCKERFILE = [("cold", 1.0), ("noop", 1.0), ("code", 1.0), ("deps", 0.8)]
TARGET_CODE_FLOOR = 1.5
TARGET_PYTHON_IMAGE = 0.8
TARGET_FRONTEND_IMAGE_BYTES = 4e6


def load(path: Path) -> tuple[dict, list[dict], dict[str, str]]:
    """Rows of the latest run of each section (a run may measure only some sections, e.g.
    BENCH_SECTIONS=sizes); the environment is that of the latest run that measured `main`."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    envs = {r["run"]: r for r in rows if r.get("section") == "env"}
    if not envs:
        raise SystemExit(f"{path}: no run recorded")
    latest: dict[str, str] = {}
    for row in rows:
        section = row.get("section")
        if section not in ("env", "done") and row.get("run") in envs:
            latest[section] = max(latest.get(section, ""), row["run"])
    # A failed chain is measured again from its start; the failed attempt's timings do not count.
    kept = [r for r in rows if latest.get(r.get("section")) == r.get("run") and not r.get("discarded")]
    main_run = latest.get("main", max(envs))
    kept += [r for r in rows if r.get("run") == main_run and r.get("section") in ("env", "done")]
    return envs[main_run], kept, latest


def compact(path: Path) -> None:
    """Keep only the runs the report still uses (results.jsonl is committed)."""
    _, _, latest = load(path)
    used = set(latest.values())
    rows = [line for line in path.read_text().splitlines() if line.strip() and json.loads(line).get("run") in used]
    path.write_text("\n".join(rows) + "\n")


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_s(value: float | None) -> str:
    return "–" if value is None else (f"{value:.2f} s" if value < 10 else f"{value:.1f} s")


def fmt_ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.1f} ms"


def fmt_ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def fmt_mb(value: float | None) -> str:
    return "–" if value is None else f"{value / 1e6:.1f} MB"


def fmt_bytes(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 1e6:
        return f"{value / 1e3:.1f} kB"
    return f"{value / 1e6:.1f} MB"


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


class Results:
    def __init__(self, rows: list[dict]):
        self.rows = rows

    def select(self, **match) -> list[dict]:
        return [r for r in self.rows if all(r.get(k) == v for k, v in match.items())]

    def med(self, field: str = "seconds", **match) -> float | None:
        return median([r.get(field) for r in self.select(**match)])

    def least(self, field: str = "seconds", **match) -> float | None:
        values = [r.get(field) for r in self.select(**match) if r.get(field) is not None]
        return min(values) if values else None

    def count(self, **match) -> int:
        return len(self.select(**match))


def main_tables(res: Results) -> tuple[list[str], dict]:
    lines: list[str] = []
    ratios: dict = {}
    for project, service in SERVICES:
        if not res.select(section="main", project=project, service=service):
            continue
        lines += [
            f"### {project} / {service}",
            "",
            "| scenario | layercake | Dockerfile | layercake ÷ Dockerfile | ÷ of the fastest runs | floor (copy only) | runs |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for scenario, title in SCENARIOS:
            lc = res.med(section="main", project=project, service=service, variant="layercake", scenario=scenario)
            df = res.med(section="main", project=project, service=service, variant="dockerfile", scenario=scenario)
            floor = res.med(section="main", project=project, service=service, scenario="floor") if scenario == "code" else None
            n_lc = res.count(section="main", project=project, service=service, variant="layercake", scenario=scenario)
            n_df = res.count(section="main", project=project, service=service, variant="dockerfile", scenario=scenario)
            r = ratio(lc, df)
            best = ratio(
                res.least(section="main", project=project, service=service, variant="layercake", scenario=scenario),
                res.least(section="main", project=project, service=service, variant="dockerfile", scenario=scenario),
            )
            ratios[(f"{project}/{service}", scenario)] = r
            lines.append(
                f"| {title} | {fmt_s(lc)} | {fmt_s(df)} | {fmt_ratio(r)} | {fmt_ratio(best)} | {fmt_s(floor) if floor else ''} | {n_lc} + {n_df} |"
            )
        errors = res.select(section="main", project=project, service=service, scenario="error")
        for error in errors:
            lines.append(f"\n**FAILED** ({error['variant']}, rep {error['rep']}): `{error['error'].splitlines()[0][:300]}`")
        lines.append("")
    return lines, ratios


def fresh_table(res: Results) -> list[str]:
    lines = [
        "| service | variant | dependency steps that EXECUTED (median run) | bytes pushed to the cache | of which cache export time |",
        "|---|---|---|---:|---:|",
    ]
    for project, service in SERVICES:
        for variant in ("layercake", "dockerfile"):
            rows = res.select(section="main", project=project, service=service, variant=variant, scenario="fresh_code")
            if not rows:
                continue
            executed = sorted({name for r in rows for name in r.get("dep_executed_names", [])})
            shown = "none" if not executed else "<br>".join(f"`{n[:90]}`" for n in executed)
            lines.append(
                f"| {project}/{service} | {variant} | {shown} (of {rows[0].get('dep_steps', '?')} dependency steps) "
                f"| {fmt_bytes(median([r.get('pushed_bytes') for r in rows]))} | {fmt_s(median([r.get('cache_export_seconds') for r in rows]))} |"
            )
    return lines


def group_tables(res: Results) -> tuple[list[str], dict]:
    lines: list[str] = []
    data: dict = {}
    projects = sorted({r["project"] for r in res.select(section="groups")}, key=lambda p: (p != "realistic-api", p))
    for project in projects:
        variants = sorted(
            {r["variant"] for r in res.select(section="groups", project=project)},
            key=lambda v: (v == "dockerfile", int(v[1:]) if v.startswith("g") else 0),
        )
        df_cold = res.med(section="groups", project=project, variant="dockerfile", scenario="cold_ci")
        df_pin = res.med(section="groups", project=project, variant="dockerfile", scenario="pin_fresh")
        lines += [
            f"### {project}",
            "",
            "| variant | cold (CI: prune, export mode=max) | ÷ Dockerfile | cache records with a layer after the cold export | one pin changed, fresh machine + registry cache | ÷ Dockerfile | wheel steps executed | executed wheel steps / install steps (wall) | both targets |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for variant in variants:
            cold = res.med(section="groups", project=project, variant=variant, scenario="cold_ci")
            pin = res.med(section="groups", project=project, variant=variant, scenario="pin_fresh")
            pins = res.select(section="groups", project=project, variant=variant, scenario="pin_fresh")
            executed = median([r.get("wheel_steps_executed") for r in pins])
            total = pins[0].get("wheel_steps") if pins else None
            wheel_s = median([r.get("wheel_seconds_executed") for r in pins])
            install_s = median([r.get("install_seconds") for r in pins])
            rc, rp = ratio(cold, df_cold), ratio(pin, df_pin)
            data[(project, variant)] = (rc, rp)
            ok = ""
            if variant != "dockerfile" and rc is not None and rp is not None:
                ok = "**yes**" if rc <= TARGET_COLD and rp <= TARGET_PIN else "no"
            name = "Dockerfile" if variant == "dockerfile" else f"layercake, group size {variant[1:]}"
            colds = res.select(section="groups", project=project, variant=variant, scenario="cold_ci")
            layered = ", ".join(
                f"{r['cache_records_with_layers']}/{r['cache_records']}" for r in colds if r.get("cache_records") is not None
            )
            lines.append(
                f"| {name} | {fmt_s(cold)} | {fmt_ratio(rc)} | {layered} | {fmt_s(pin)} | {fmt_ratio(rp)} "
                f"| {'' if executed is None else f'{executed:g} / {total}'} | {fmt_s(wheel_s)} / {fmt_s(install_s)} | {ok} |"
            )
        for error in res.select(section="groups", project=project, scenario="error"):
            lines.append(f"\n**FAILED** ({error['variant']}, rep {error['rep']}): `{error['error'].splitlines()[0][:300]}`")
        lines.append("")
    return lines, data


def size_table(res: Results) -> list[str]:
    lines = ["| image | layercake | Dockerfile | layercake ÷ Dockerfile |", "|---|---:|---:|---:|"]
    projects = [f"{p}/{s}" for p, s in SERVICES] + ["realistic-api (groups)", "api-compiled"]
    for name in projects:
        if "/" in name:
            project, service = name.split("/")
            lc = res.select(section="sizes", project=project, service=service, variant="layercake", scenario="image")
            df = res.select(section="sizes", project=project, service=service, variant="dockerfile", scenario="image")
        else:
            project = name.split(" ")[0]
            lc = res.select(section="sizes", project=project, variant="g4", scenario="image")
            df = res.select(section="sizes", project=project, variant="dockerfile", scenario="image")
            if project == "realistic-api":
                continue  # the same service as realistic/api
        if not lc and not df:
            continue
        lcu = lc[0]["uncompressed"] if lc else None
        dfu = df[0]["uncompressed"] if df else None
        lcc = lc[0]["compressed"] if lc else None
        dfc = df[0]["compressed"] if df else None
        lines.append(
            f"| {name} | {fmt_mb(lcu)} ({fmt_mb(lcc)} gzip) | {fmt_mb(dfu)} ({fmt_mb(dfc)} gzip) | {fmt_ratio(ratio(lcu, dfu))} |"
        )
    frontend = res.select(section="sizes", scenario="frontend_image")
    if frontend:
        f = frontend[0]
        lines += [
            "",
            "| frontend image | uncompressed | compressed |",
            "|---|---:|---:|",
            f"| layercake (static binary `FROM scratch`, the image under test) | {fmt_mb(f['uncompressed'])} | {fmt_mb(f['compressed'])} |",
            f"| BuildKit's Dockerfile frontend (`docker/dockerfile`, published figure; cannot be pulled here) | about {DOCKERFILE_FRONTEND_MB} MB | – |",
        ]
    return lines


REQS_SCENARIOS = [
    ("cold", "cold build (cache pruned first, exporting the registry cache)"),
    ("noop", "no-op rebuild"),
    ("code", "code-only change"),
    ("pin_fresh", "one top-level pin bumped, fresh machine + registry cache"),
    ("fresh_code", "code change, fresh machine + registry cache (same requirement files)"),
]
TARGET_REQS_COLD, TARGET_REQS_PIN, TARGET_REQS_ROUND_TRIP = 1.1, 0.3, 0.030


def reqs_table(res: Results) -> tuple[list[str], list[str]]:
    """The requirements section (issue 22) and its target rows."""
    med = lambda variant, scenario, field="seconds": res.med(field, section="requirements", variant=variant, scenario=scenario)  # noqa: E731
    lines = [
        "| scenario | top-level file (lock stage) | full closure (no lock) | seed Dockerfile | top-level ÷ Dockerfile | closure ÷ Dockerfile | top-level − closure | lock step (top-level) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    targets: list[str] = []
    for scenario, label in REQS_SCENARIOS:
        top, closure, dockerfile = (med(v, scenario) for v in ("toplevel", "closure", "dockerfile"))
        if top is None and closure is None and dockerfile is None:
            continue
        lock_rows = res.select(section="requirements", variant="toplevel", scenario=scenario)
        ran = sum(1 for r in lock_rows if r.get("lock_executed"))
        lock_s = median([r.get("lock_seconds") for r in lock_rows])
        lock = f"ran in {ran}/{len(lock_rows)}, {fmt_s(lock_s)}" if lock_rows else "–"
        diff = None if top is None or closure is None else top - closure
        lines.append(
            f"| {label} | {fmt_s(top)} | {fmt_s(closure)} | {fmt_s(dockerfile)} | {fmt_ratio(ratio(top, dockerfile))} | "
            f"{fmt_ratio(ratio(closure, dockerfile))} | {fmt_ms(diff)} | {lock} |"
        )
        if scenario == "cold" and ratio(top, dockerfile) is not None:
            r = ratio(top, dockerfile)
            targets.append(f"| top-level-only requirements: cold ≤ {TARGET_REQS_COLD}× the seed Dockerfile | {fmt_ratio(r)} | {met(r <= TARGET_REQS_COLD)} |")
        if scenario == "pin_fresh":
            for variant, what in (("toplevel", "top-level-only requirements"), ("closure", "a full closure (no regression)")):
                r = ratio(med(variant, scenario), dockerfile)
                if r is not None:
                    targets.append(f"| {what}: one changed pin on a fresh machine ≤ {TARGET_REQS_PIN}× the seed Dockerfile | {fmt_ratio(r)} | {met(r <= TARGET_REQS_PIN)} |")
        if scenario in ("noop", "code") and diff is not None:
            targets.append(
                f"| the lock stage's round trip: {label} within {TARGET_REQS_ROUND_TRIP * 1000:.0f} ms of the full closure's | "
                f"{fmt_ms(diff)} | {met(diff <= TARGET_REQS_ROUND_TRIP)} |"
            )
    return lines, targets


def met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def fmt_target_ratio(value: float, limit: float) -> str:
    """Two decimals, or three where two would hide which side of the limit the ratio is on."""
    shown = fmt_ratio(value)
    return f"{value:.3f}×" if shown == fmt_ratio(limit) and value != limit else shown


def dockerfile_targets(res: Results, ratios: dict) -> list[str]:
    """Issue 6's targets: each scenario's median ratio, the floor, the image sizes."""
    titles = dict(SCENARIOS)
    lines = []
    for project, service in SERVICES:
        name = f"{project}/{service}"
        for scenario, limit in TARGETS_VS_DOCKERFILE:
            r = ratios.get((name, scenario))
            if r is not None:
                lines.append(f"| {name}: {titles[scenario]} ≤ {limit}× Dockerfile | {fmt_target_ratio(r, limit)} | {met(r <= limit)} |")
            if scenario == "code":
                lc = res.med(section="main", project=project, service=service, variant="layercake", scenario="code")
                floor = res.med(section="main", project=project, service=service, scenario="floor")
                f = ratio(lc, floor)
                if f is not None:
                    lines.append(
                        f"| {name}: code-only change ≤ {TARGET_CODE_FLOOR}× the floor | {fmt_ratio(f)} | {met(f <= TARGET_CODE_FLOOR)} |"
                    )
        if service == "api":
            lc = res.select(section="sizes", project=project, service=service, variant="layercake", scenario="image")
            df = res.select(section="sizes", project=project, service=service, variant="dockerfile", scenario="image")
            r = ratio(lc[0]["uncompressed"], df[0]["uncompressed"]) if lc and df else None
            if r is not None:
                lines.append(
                    f"| {name}: runtime image ≤ {TARGET_PYTHON_IMAGE}× the Dockerfile's (uncompressed) | {fmt_ratio(r)} | {met(r <= TARGET_PYTHON_IMAGE)} |"
                )
    frontend = res.select(section="sizes", scenario="frontend_image")
    if frontend:
        size = frontend[0]["uncompressed"]
        lines.append(
            f"| frontend image ≤ 4 MB (uncompressed; {frontend[0]['compressed'] / 1e6:.2f} MB compressed) "
            f"| {size / 1e6:.2f} MB | {met(size <= TARGET_FRONTEND_IMAGE_BYTES)} |"
        )
    return lines


def frontend_table(res: Results) -> list[str]:
    lines = [
        "| spec | frontend | wall time (no-op build) | resolve the frontend image | frontend start → first Solve | frontend start → export (≈ Return) | export | process start → first Solve (own clock) | process start → result (own clock) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    cases = sorted({(r["project"], r["variant"]) for r in res.select(section="frontend", scenario="noop_phases")})
    for case, variant in sorted(cases, key=lambda c: (c[0], c[1] != "layercake")):

        def m(field: str, case: str = case, variant: str = variant) -> float | None:
            return res.med(field, section="frontend", project=case, variant=variant, scenario="noop_phases")

        spec = {
            "example-api": "example, --target api",
            "many-20-api-01": "20 services, --target api-01",
            "many-20-web-10": "20 services, --target web-10",
        }.get(case, case)
        who = "layercake (`# syntax=`)" if variant == "layercake" else "builtin Dockerfile"
        resolve = fmt_s(m("resolve_frontend")) if variant == "layercake" else "(built in)"
        lines.append(
            f"| {spec} | {who} | {fmt_s(m('seconds'))} | {resolve} | {fmt_s(m('to_first_solve'))} | {fmt_s(m('to_export'))} | {fmt_s(m('export'))} "
            f"| {fmt_ms(m('process_to_first_solve'))} | {fmt_ms(m('process_to_result'))} |"
        )
    floor = res.med("container_seconds", section="frontend", project="container-floor", scenario="container_start")
    if floor is not None:
        lines += [
            "",
            f"A container start on this engine (a `RUN [\"/usr/local/bin/layercake\", \"--version\"]` step from the frontend image, "
            f"which starts a container and exits at once; median): **{fmt_s(floor)}**. A gateway frontend runs in such a "
            "container, so this is the floor under \"frontend start → first Solve\".",
        ]
    return lines


def overlap_note(res: Results) -> str:
    timed = [r for r in res.rows if "seconds" in r]
    watched = [r for r in timed if "foreign_clients" in r]
    if not watched:
        return "not recorded by this run"
    busy = [r for r in watched if r["foreign_clients"]]
    prunes = [r for r in busy if any(" prune" in c for c in r["foreign_clients"])]
    return (
        f"{len(busy)} of {len(watched)} timed builds overlapped another client's build or prune "
        f"({len(prunes)} a prune); see `foreign_clients` in results.jsonl"
    )


# Other work during a timed build (outside the engine and the bench), in cores on average, above
# which the build counts as disturbed: a quarter of one of the 2 CPUs.
OTHER_CORES_LIMIT = 0.25


def disturbed(row: dict) -> bool:
    other = row.get("other_cpu_seconds", 0.0)
    return other > 0.2 and other > OTHER_CORES_LIMIT * row["seconds"]


def other_load_note(res: Results) -> str:
    timed = [r for r in res.rows if "seconds" in r and "other_cpu_seconds" in r]
    if not timed:
        return "not recorded by these runs (`other_cpu_seconds`, from the next `make bench` on)"
    hit = [r for r in timed if disturbed(r)]
    return (
        f"{len(hit)} of {len(timed)} timed builds shared the CPUs with other work (outside the engine "
        f"and the bench) of more than {OTHER_CORES_LIMIT} of a core on average; see "
        "`other_cpu_seconds` in results.jsonl"
    )


def chart(ratios: dict, groups: dict, out: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 6.5), gridspec_kw={"width_ratios": [3, 2]})
    services = [f"{p}/{s}" for p, s in SERVICES if any(k[0] == f"{p}/{s}" for k in ratios)]
    width = 0.8 / max(1, len(SCENARIOS))
    for i, (scenario, title) in enumerate(SCENARIOS):
        values = [ratios.get((svc, scenario)) or 0 for svc in services]
        xs = [x + (i - (len(SCENARIOS) - 1) / 2) * width for x in range(len(services))]
        bars = left.bar(xs, values, width, label=title)
        for bar, value in zip(bars, values):
            if value:
                left.text(bar.get_x() + bar.get_width() / 2, value, f"{value:.2f}", ha="center", va="bottom", fontsize=7)
    left.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    left.set_xticks(range(len(services)), services)
    left.set_ylabel("layercake ÷ hand-written Dockerfile (median wall time)")
    left.set_title("Scenarios (below 1 = layercake faster)")
    left.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=3)
    projects = sorted({p for p, _ in groups}, key=lambda p: (p != "realistic-api", p))
    variants = sorted({v for _, v in groups if v != "dockerfile"}, key=lambda v: int(v[1:]))
    width = 0.8 / max(1, 2 * len(projects))
    k = 0
    for project in projects:
        for which, label in ((1, "one pin, fresh machine"), (0, "cold")):
            values = [(groups.get((project, v)) or (None, None))[which] or 0 for v in variants]
            xs = [x + (k - (2 * len(projects) - 1) / 2) * width for x in range(len(variants))]
            colour = {
                ("realistic-api", 1): "tab:blue",
                ("realistic-api", 0): "lightsteelblue",
                ("api-compiled", 1): "tab:green",
                ("api-compiled", 0): "yellowgreen",
            }.get((project, which))
            bars = right.bar(xs, values, width, label=f"{project}: {label}", color=colour)
            for bar, value in zip(bars, values):
                if value:
                    right.text(bar.get_x() + bar.get_width() / 2, value, f"{value:.2f}", ha="center", va="bottom", fontsize=7)
            k += 1
    right.axhline(TARGET_PIN, color="green", linewidth=0.8, linestyle=":", label=f"target one pin ≤ {TARGET_PIN}×")
    right.axhline(TARGET_COLD, color="red", linewidth=0.8, linestyle=":", label=f"target cold ≤ {TARGET_COLD}×")
    right.set_xticks(range(len(variants)), [f"group size {v[1:]}" for v in variants])
    right.set_title("Wheel group sizes ÷ Dockerfile")
    right.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=2)
    fig.tight_layout()
    fig.savefig(out / "ratios.png", dpi=110)
    return True


def write_csv(rows: list[dict], out: Path) -> None:
    fields = [
        "section",
        "project",
        "service",
        "variant",
        "scenario",
        "rep",
        "seconds",
        "dep_steps",
        "dep_executed",
        "pushed_bytes",
        "cache_export_seconds",
        "wheel_steps",
        "wheel_steps_executed",
        "wheel_seconds_executed",
        "install_seconds",
        "install_steps_executed",
        "container_seconds",
        "other_cpu_seconds",
        "resolve_frontend",
        "to_first_solve",
        "to_export",
        "process_to_first_solve",
        "process_to_result",
        "export",
        "uncompressed",
        "compressed",
    ]
    with (out / "results.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            if row.get("section") in ("env", "done"):
                continue
            writer.writerow({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()})


def main() -> None:
    results_path, md_path, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    compact(results_path)
    env, rows, latest = load(results_path)
    run_envs = {
        r["run"]: r
        for r in (json.loads(line) for line in results_path.read_text().splitlines() if line.strip())
        if r.get("section") == "env"
    }
    res = Results(rows)
    done = next((r for r in rows if r.get("section") == "done"), {})
    main_lines, ratios = main_tables(res)
    group_lines, groups = group_tables(res)
    reqs_lines, reqs_targets = reqs_table(res)
    charted = chart(ratios, groups, out)
    write_csv(rows, out)

    targets = ["| target | achieved | met |", "|---|---|---|", *dockerfile_targets(res, ratios), *reqs_targets]
    for project in ("realistic-api", "api-compiled"):
        for variant in sorted({v for p, v in groups if p == project and v != "dockerfile"}, key=lambda v: int(v[1:])):
            rc, rp = groups[(project, variant)]
            if rc is None or rp is None:
                continue
            targets.append(
                f"| {project}, group size {variant[1:]}: one pin changed on a fresh machine ≤ {TARGET_PIN}× Dockerfile | {fmt_ratio(rp)} | {'yes' if rp <= TARGET_PIN else '**no**'} |"
            )
            targets.append(
                f"| {project}, group size {variant[1:]}: cold ≤ {TARGET_COLD}× Dockerfile | {fmt_ratio(rc)} | {'yes' if rc <= TARGET_COLD else '**no**'} |"
            )
    for project, service in SERVICES:
        rows_fresh = res.select(section="main", project=project, service=service, variant="layercake", scenario="fresh_code")
        if rows_fresh:
            executed = sorted({n for r in rows_fresh for n in r.get("dep_executed_names", [])})
            targets.append(
                f"| {project}/{service}: fresh machine + registry cache, code change: no dependency step executes | "
                f"{'none executed' if not executed else ', '.join(f'`{n[:60]}`' for n in executed)} | {'yes' if not executed else '**no**'} |"
            )

    own = [
        (case, res.med("process_to_first_solve", section="frontend", project=case, variant="layercake", scenario="noop_phases"))
        for case in sorted({r["project"] for r in res.select(section="frontend", scenario="noop_phases", variant="layercake")})
    ]
    for case, value in own:
        if value is not None:
            targets.append(
                f"| {case}: frontend process start → first Solve ≤ 50 ms (its own clock, median) | {fmt_ms(value)} | {'yes' if value <= 0.05 else '**no**'} |"
            )

    findings = out / "findings.md"
    doc = [
        "# Benchmarks",
        "",
        "<!-- Generated by `make bench` (scripts/bench.sh → scripts/bench/report.py). Do not edit by hand:",
        "     the analysis lives in docs/benchmarks/findings.md and is included below. -->",
        "",
        "layercake (a `# syntax=` gateway frontend) against the hand-written two-stage Dockerfiles of",
        "[testdata/dockerfiles](../testdata/dockerfiles) built by the engine's builtin Dockerfile frontend,",
        "on the same projects, the same engine and the same base images. Wall times of",
        "`docker buildx build`, medians over the repetitions; the variants alternate (A, B, B, A, …). The",
        "ratio of the fastest runs is given too: on a shared engine the noise only ever adds time.",
        "",
        "| | |",
        "|---|---|",
        f"| date | {env.get('date')} |",
        f"| engine | Docker {env.get('engine')} (containerd image store), buildx {env.get('buildx', '').split(' ')[1] if ' ' in env.get('buildx', '') else env.get('buildx')} |",
        f"| BuildKit | the engine's embedded BuildKit (reports `{env.get('buildkit')}`; Debian's docker.io 26.1.5 vendors BuildKit v0.13, 28.5 the v0.25 line) |",
        f"| machine | {env.get('nproc')} CPUs ({env.get('cpu')}), {env.get('memory_gib')} GiB memory, Linux {env.get('kernel')} |",
        f"| frontend under test | `{env.get('frontend', '')[:19]}…` |",
        f"| repetitions | {env.get('reps')} (`BENCH_REPS`) |",
        (
            f"| run time (the `main` run) | {done.get('minutes', '?')} min, {done.get('prunes', '?')} × `docker buildx prune -af`; "
            f"{len(res.select(scenario='retried'))} scenario chains (of every run shown) measured again after a failed build |"
        ),
        f"| other clients on the engine | {overlap_note(res)} |",
        f"| other load on the CPUs | {other_load_note(res)} |",
        "| runs | "
        + ", ".join(
            f"{section}: `{run}` (Docker {run_envs.get(run, {}).get('engine', '?')}, {run_envs.get(run, {}).get('date', '?')})"
            for section, run in sorted(latest.items())
        )
        + " |",
        "",
        "Network: pip and npm download from PyPI and the npm registry through this machine's egress proxy,",
        "so every cold or dependency build includes real downloads. The engine is shared with other",
        "developers' test runs; their builds compete for the 2 CPUs and their prunes may land in the middle",
        "of a scenario, so single runs are noisy: read the medians.",
        "",
        "## Targets",
        "",
        *targets,
        "",
    ]
    if findings.exists():
        doc += [findings.read_text().rstrip(), ""]
    doc += [
        "## Chart",
        "",
        "![layercake ÷ Dockerfile per scenario, and per wheel group size](benchmarks/ratios.png)"
        if charted
        else "_(no chart: matplotlib was not available)_",
        "",
        "## Scenarios",
        "",
        "- **cold**: image removed, `docker buildx prune -af`, build. Base images stay local (both variants).",
        "- **no-op**: the same build again.",
        "- **code-only change**: one line appended to a source file (`app/main.py`, `src/main.js[x]`).",
        "  **floor**: a `FROM <the image just built>` + `COPY <that file>` Dockerfile — what any build that",
        "  re-uses every layer and copies only the changed file costs on this engine.",
        "- **dependency change**: python: one pin bumped in requirements.txt (`idna==3.20` → `3.19`);",
        "  npm: `ms@2.1.3` added to package.json and the lockfile (`npm install --package-lock-only` on the host).",
        "- **fresh machine + registry cache**: the previous state exported with `--cache-to type=registry,mode=max`;",
        "  a code-only change; the built image removed (`docker rmi`) and `docker buildx prune -af`; then the",
        '  timed build with `--cache-from` and `--cache-to` (mode=max), as a CI job runs it. "Executed" means',
        "  the step's process wrote output in `--progress=rawjson` (a step restored from the registry prints",
        "  no CACHED line, so CACHED lines cannot tell).",
        "",
        *main_lines,
        "### Fresh machine with registry cache: what ran, what was pushed",
        "",
        "Bytes pushed: blobs in the cache manifest after the build that were not in it before (registry API).",
        "",
        *fresh_table(res),
        "",
        "## Wheel group sizes (issue 9)",
        "",
        "Pinned requirements are built in hash buckets of about `LAYERCAKE_WHEEL_GROUP_SIZE` requirements",
        "(build arg), one `pip wheel --no-deps` step each, merged with MergeOp. Per variant: a cold CI build",
        "(image removed, prune, `--cache-to …,mode=max` into an empty ref), then one pin changed",
        "(`idna==3.20` → `3.19`), image removed, prune, and the timed build with `--cache-from` + `--cache-to`.",
        "`realistic-api` is testdata/realistic's api (29 pins, every one a wheel on PyPI); `api-compiled`",
        "(testdata/bench/api-compiled) adds pyyaml and builds markupsafe and pyyaml from source",
        "(`--no-binary`, gcc + python3-dev + libyaml-dev in the builder), with its hand-written Dockerfile.",
        f"Targets: one changed pin on a fresh machine ≤ {TARGET_PIN}× the Dockerfile, cold ≤ {TARGET_COLD}×.",
        "",
        *group_lines,
        "## Requirement files as written (issue 22)",
        "",
        "testdata/pyreqs' `toplevel` service: six top-level `==` pins, 25 packages once resolved. Three",
        "variants per repetition: layercake on that file (the `lock` stage resolves it inside BuildKit),",
        "layercake on the full closure compiled from it (testdata/bench/pyreqs-closure, uv's header: no",
        "lock stage) and the seed's Dockerfile (testdata/dockerfiles/pyreqs: `pip wheel -r` on the",
        "top-level file). The chain: cold with `--cache-to …,mode=max`, no-op, code-only, then",
        f"`{'orjson==3.10.12'}` → `3.10.11` with the image removed and the cache pruned (`--cache-from` +",
        "`--cache-to`), then a code change on a fresh machine again. \"top-level − closure\" is the lock",
        "stage's cost where nothing changed: its extra Solve and ReadFile round trip.",
        "",
        *reqs_lines,
        "",
        "## Sizes",
        "",
        "Final images: the layers' bytes from `docker save` (uncompressed tar streams, and as stored, gzip).",
        "Bytes pushed to the registry cache by a code-only change are in the fresh-machine table above.",
        "",
        *size_table(res),
        "",
        "## The frontend's own cost",
        "",
        "From BuildKit's progress timestamps (`--progress=rawjson`) of no-op builds (every step cached),",
        'so the phases are the frontends\' own work. "Frontend start" is the completion of the',
        "`docker-image://…layercake…` vertex (the frontend container starts next; for the builtin frontend,",
        'the start of `[internal] load build definition`); "first Solve" is the start of the first vertex',
        'the frontend creates (`[internal] load spec …`; builtin: the definition loaded); "export" is the',
        "start of `exporting to image`, right after the frontend returns its result. The container start",
        "falls inside \"frontend start → first Solve\", and BuildKit's progress cannot separate it, so the",
        "frontend also reports its own times by its own clock, from the start of its process:",
        "`--build-arg LAYERCAKE_FRONTEND_TIMINGS=1` makes it write one line to stderr, which BuildKit",
        "appends to the daemon's log (the last two columns).",
        "",
        *frontend_table(res),
        "",
        "Raw numbers: [benchmarks/results.csv](benchmarks/results.csv) and",
        "[benchmarks/results.jsonl](benchmarks/results.jsonl) (every build, with the dependency steps that executed).",
        "",
    ]
    md_path.write_text("\n".join(doc))


if __name__ == "__main__":
    main()
