"""Run the experiments and turn what they measured into a results folder.

    run_dir = reproduce("quick")              # results/<run-id>/, and results/latest → it
    summary = results.load_summary(run_dir)

Setup → drive → observe happen inside each experiment (offload_lab/experiments/);
this module records: summary.json, table.md, charts, CSVs and provenance.json.
Notebooks call the same functions, so a student's table comes from their own run.
"""
import time
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from offload_lab import charts, results, table
from offload_lab.experiments import latency, reliability, throughput
from offload_lab.experiments.common import make_stack
from offload_lab.profiles import get_profile

EXPERIMENTS = {"latency": latency, "throughput": throughput, "reliability": reliability}


def run_experiments(names, profile, run_dir: Path, broker: str = "auto", console: Console | None = None) -> dict:
    """Run the named experiments in order, with a progress bar each; return their results by name.

    Latency and throughput share one stack (throughput runs second: it changes the
    stack's workers and provider latency); reliability starts stacks of its own.
    """
    console = console or Console()
    profile = get_profile(profile)
    measured = {}
    columns = (TextColumn("{task.description:<12}"), BarColumn(), TextColumn("{task.fields[step]}"),
               TimeElapsedColumn())  # fmt: skip
    shares_stack = {"latency", "throughput"} <= set(names)
    with Progress(*columns, console=console, transient=False) as bar, ExitStack() as cleanup:
        tasks = {name: bar.add_task(name, total=1.0, step="waiting") for name in names}
        shared = {}
        if shares_stack:
            bar.update(tasks["latency"], step="starting the stack")
            stack = cleanup.enter_context(make_stack(profile, Path(run_dir) / "stack", broker))
            shared = {"stack": stack}
        for name in names:

            def report(label, done, total, task=tasks[name]):
                bar.update(task, completed=done / total if total else 0, step=label)

            options = shared if name in ("latency", "throughput") else {}
            measured[name] = EXPERIMENTS[name].run(profile, run_dir, progress=report, broker=broker, **options)
            bar.update(tasks[name], completed=1.0, step=f"done in {measured[name]['seconds']:.0f} s")
    return measured


def build_summary(run_dir: Path, profile, measured: dict, wall_seconds: float) -> dict:
    """summary.json's content from the three experiments' results."""
    lat, thr, rel = measured["latency"], measured["throughput"], measured["reliability"]
    variants = {
        name: {**numbers, "accepted_rps": thr["variants"][name]["accepted_rps"]}
        for name, numbers in lat["variants"].items()
    }
    baseline = {"health_rps": thr["baseline"]["health_rps"], "health_latency_ms": lat["baseline"]["health_latency_ms"]}
    loadgen_share = max(thr["loadgen_cpu_share"], *(run["cores"] for run in lat["loadgen"].values()))
    performance = results.performance_checks(variants, baseline, loadgen_share, wall_seconds, profile.budget_seconds)
    return results.make_summary(
        run_id=run_dir.name,
        broker=lat["broker"],
        profile=profile.name,
        parameters={**profile.parameters(), "footer": profile.footer()},
        variants=variants,
        baseline=baseline,
        scaling=[{"workers": row["workers"], "jobs_per_s": row["jobs_per_s"],
                  "ideal_jobs_per_s": row["ideal_jobs_per_s"]} for row in thr["scaling"]],  # fmt: skip
        performance=performance,
        reliability=rel["reliability"],
        cpu_bound=thr["cpu_bound"],
        durability=rel["durability"] or None,
        outage=rel["outage"],
    )


def record(run_dir: Path, summary: dict, measured: dict) -> None:
    """Write everything a run leaves behind, then point results/latest at it."""
    lat, thr, rel = measured["latency"], measured["throughput"], measured["reliability"]
    results.write_summary(run_dir, summary)
    results.write_provenance(
        run_dir,
        results.collect_provenance(
            run_id=run_dir.name, broker=summary["broker"], profile=summary["profile"],
            parameters=summary["parameters"],
        ),  # fmt: skip
    )
    results.write_csv(run_dir, "variants", results.variant_rows(summary))
    results.write_csv(run_dir, "scaling", thr["scaling"])
    results.write_csv(run_dir, "cpu_bound", thr["cpu_bound"])
    results.write_csv(run_dir, "reliability", rel["reliability"])
    results.write_csv(run_dir, "bystander_history", [
        {"variant": variant, **row} for variant, rows in lat["bystander_history"].items() for row in rows
    ])  # fmt: skip
    backlog = max(thr["backlog"], key=lambda run: run["workers"])["series"] if thr["backlog"] else []
    results.write_csv(run_dir, "queue_depth", [
        {"workers": run["workers"], **point} for run in thr["backlog"] for point in run["series"]
    ])  # fmt: skip
    if rel["durability"]:
        results.write_csv(run_dir, "durability", rel["durability"])
    (run_dir / "table.md").write_text(table.render_markdown(summary), encoding="utf-8")
    charts.draw_all(run_dir, summary, history=lat["bystander_history"], backlog=backlog)
    results.point_latest(run_dir)


def reproduce(profile="standard", broker: str = "auto", results_dir: Path = results.RESULTS_DIR,
              console: Console | None = None) -> Path:  # fmt: skip
    """The whole comparison: every experiment, then the results folder. Returns the run folder."""
    console = console or Console()
    profile = get_profile(profile)
    run_dir = results.create_run_dir(Path(results_dir))
    console.print(f"run [bold]{run_dir.name}[/bold] · profile {profile.name} · broker {broker} · "
                  f"budget {profile.budget_seconds:.0f} s · results in {run_dir}", highlight=False)  # fmt: skip
    started = time.monotonic()
    measured = run_experiments(list(EXPERIMENTS), profile, run_dir, broker, console)
    summary = build_summary(run_dir, profile, measured, time.monotonic() - started)
    record(run_dir, summary, measured)
    return run_dir
