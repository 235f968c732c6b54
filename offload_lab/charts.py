"""PNG charts of one run. Each function takes data and an output path and returns the path.

Figures are built with `matplotlib.figure.Figure` on the Agg canvas, never through
`pyplot`, so nothing global is touched (a Jupyter kernel's backend stays as it was)
and every figure is freed when the function returns. A chart without data still
gets drawn, saying "not measured yet", so a run folder always has every chart.

Data shapes (the `summary` ones are those of DESIGN.md / `results.SUMMARY_SCHEMA`):
    variants    summary["variants"]: {variant: {"latency_ms": {p50, p95, p99}, "accepted_rps", ...}}
    baseline    summary["baseline"]: {"health_rps", "health_latency_ms": {p50, p95, p99}}
    history     {variant: [{"t": seconds since the variant's run began, "p50": ms, "p99": ms}, ...]}
                bystander (GET /health) latency over time while that variant was under load; extra
                keys are ignored and a None percentile is drawn as a gap, so the /health rows of
                `loadgen.LocustResult.history` can be passed as they are
    scaling     summary["scaling"]: [{"workers", "jobs_per_s"}]   (I/O-bound jobs)
    cpu         [{"worker_type": "thread" | "process", "workers", "jobs_per_s"}]   (CPU-bound jobs)
    backlog     [{"t": seconds since the burst began, "depth": jobs waiting in the queue}]
    reliability summary["reliability"]: [{variant, signal, acks_late, delivered_unique, lost, duplicates, ...}]
"""
import math
import os
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from offload_lab.results import VARIANTS

FIGURE_SIZE = (8, 4.5)  # inches; at DPI this is 800 x 450 pixels
DPI = 100
LOG_FLOOR_MS = 0.1  # a log axis cannot show 0: smaller values are drawn at this height
NOT_MEASURED = "not measured yet"

VARIANT_LABELS = {
    "blocking_await": "blocking (await)",
    "blocking_sync": "blocking (sync)",
    "fire_and_forget": "fire-and-forget",
    "queue": "queue + worker",
}
VARIANT_COLORS = {
    "blocking_await": "#e69f00",
    "blocking_sync": "#d55e00",
    "fire_and_forget": "#56b4e9",
    "queue": "#009e73",
}
PERCENTILE_SHADES = {"p50": 1.0, "p95": 0.7, "p99": 0.45}  # bar opacity per percentile

CHART_FILES = {
    "latency": "latency_percentiles.png",
    "bystander": "bystander_latency.png",
    "throughput": "throughput.png",
    "scaling": "scaling.png",
    "cpu": "cpu_bound.png",
    "backlog": "queue_depth.png",
    "reliability": "reliability.png",
}


def new_figure() -> tuple[Figure, object]:
    figure = Figure(figsize=FIGURE_SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def save(figure: Figure, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=DPI)
    return path


def save_empty(title: str, path: Path, message: str = NOT_MEASURED) -> Path:
    """A chart that says plainly that there is nothing to draw yet."""
    figure, axes = new_figure()
    axes.set_title(title)
    axes.text(0.5, 0.5, message, ha="center", va="center", fontsize=18, color="grey", transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])
    return save(figure, path)


def _variants_present(data: dict) -> list[str]:
    return [variant for variant in VARIANTS if variant in data]


def _label_bars(axes, bars, format_value=str) -> None:
    for bar, value in zip(bars, bars.datavalues):
        axes.annotate(format_value(value), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                      ha="center", va="bottom", fontsize=7, xytext=(0, 2), textcoords="offset points")  # fmt: skip


def _milliseconds(value: float) -> str:
    return f"{value / 1000:.3g} s" if value >= 1000 else f"{value:.3g}"


# --- latency -----------------------------------------------------------------------
def latency_chart(variants: dict, path: Path, baseline: dict | None = None) -> Path:
    """Grouped bars of p50/p95/p99 per variant on a log axis; idle /health p50 as a line."""
    title = "Response time per variant (log scale)"
    names = _variants_present(variants)
    if not names:
        return save_empty(title, path)
    figure, axes = new_figure()
    width = 0.8 / len(PERCENTILE_SHADES)
    for offset, (percentile, alpha) in enumerate(PERCENTILE_SHADES.items()):
        heights = [max(variants[name]["latency_ms"][percentile], LOG_FLOOR_MS) for name in names]
        positions = [index + (offset - 1) * width for index in range(len(names))]
        bars = axes.bar(positions, heights, width, label=percentile, alpha=alpha,
                        color=[VARIANT_COLORS[name] for name in names], edgecolor="black", linewidth=0.5)  # fmt: skip
        _label_bars(axes, bars, _milliseconds)
    if baseline:
        axes.axhline(baseline["health_latency_ms"]["p50"], color="grey", linestyle=":", label="idle /health p50")
    axes.set_yscale("log")
    axes.set_xticks(range(len(names)), [VARIANT_LABELS[name] for name in names])
    axes.set_ylabel("milliseconds")
    axes.set_title(title)
    axes.legend(title="bars, left to right", fontsize=8)
    return save(figure, path)


def bystander_chart(history: dict, path: Path, idle_p99_ms: float | None = None) -> Path:
    """GET /health latency over time while each variant runs: p99 solid, p50 dashed, log axis."""
    title = "Bystander /health latency while each variant is under load"
    names = [name for name in _variants_present(history) if history[name]]
    if not names:
        return save_empty(title, path)
    figure, axes = new_figure()
    for name in names:
        times = [point["t"] for point in history[name]]
        color = VARIANT_COLORS[name]
        # markers: a stalled variant may leave only a few points, and a lone point draws no line
        axes.plot(times, _gaps(history[name], "p99"), color=color, marker="o", markersize=3,
                  label=f"{VARIANT_LABELS[name]} p99")  # fmt: skip
        axes.plot(times, _gaps(history[name], "p50"), color=color, linestyle="--", marker=".", markersize=3,
                  label=f"{VARIANT_LABELS[name]} p50")  # fmt: skip
    if idle_p99_ms is not None:
        axes.axhline(max(idle_p99_ms, LOG_FLOOR_MS), color="grey", linestyle=":", label="idle /health p99")
    axes.set_yscale("log")
    axes.set_xlabel("seconds into the variant's run")
    axes.set_ylabel("milliseconds")
    axes.set_title(title)
    axes.legend(fontsize=7, ncols=2)
    return save(figure, path)


def _gaps(points: list[dict], key: str) -> list[float]:
    """Values for a log axis; a missing one (Locust writes N/A before the first answer) is a gap."""
    return [math.nan if point.get(key) is None else max(point[key], LOG_FLOOR_MS) for point in points]


# --- throughput --------------------------------------------------------------------
def throughput_chart(variants: dict, path: Path, baseline: dict | None = None) -> Path:
    """Accepted requests per second per variant (log axis); /health alone as a line."""
    title = "Accepted requests per second at saturation (log scale)"
    names = _variants_present(variants)
    if not names:
        return save_empty(title, path)
    figure, axes = new_figure()
    heights = [max(variants[name]["accepted_rps"], 0.01) for name in names]
    bars = axes.bar([VARIANT_LABELS[name] for name in names], heights,
                    color=[VARIANT_COLORS[name] for name in names], edgecolor="black", linewidth=0.5)  # fmt: skip
    _label_bars(axes, bars, "{:.3g}".format)
    if baseline:
        axes.axhline(baseline["health_rps"], color="grey", linestyle=":", label="GET /health alone")
        axes.legend(fontsize=8)
    axes.set_yscale("log")
    axes.set_ylabel("requests / second")
    axes.set_title(title)
    return save(figure, path)


def scaling_chart(scaling: list[dict], path: Path) -> Path:
    """I/O-bound jobs completed per second against worker count, beside the ideal (linear) line."""
    title = "Queue workers: jobs per second against worker count"
    points = sorted(scaling, key=lambda point: point["workers"])
    if not points:
        return save_empty(title, path)
    figure, axes = new_figure()
    workers = [point["workers"] for point in points]
    fewest = points[0]
    ideal = [fewest["jobs_per_s"] * count / fewest["workers"] for count in workers]
    axes.plot(workers, ideal, color="grey", linestyle="--", label="ideal (linear from fewest workers)")
    axes.plot(workers, [point["jobs_per_s"] for point in points], marker="o", color=VARIANT_COLORS["queue"],
              label="measured")  # fmt: skip
    axes.set_xscale("log", base=2)
    axes.set_xticks(workers, [str(count) for count in workers])
    axes.set_xlabel("worker concurrency")
    axes.set_ylabel("jobs / second")
    axes.set_ylim(bottom=0)
    axes.set_title(title)
    axes.legend(fontsize=8)
    return save(figure, path)


def cpu_chart(cpu: list[dict], path: Path, cpu_count: int) -> Path:
    """CPU-bound jobs/s for thread and process workers, beside the core count and its ideal."""
    title = f"CPU-bound jobs: threads against processes ({cpu_count} cores)"
    if not cpu:
        return save_empty(title, path)
    figure, axes = new_figure()
    colors = {"thread": "#cc79a7", "process": "#0072b2", "greenlet": "#999999"}
    for worker_type in sorted({point["worker_type"] for point in cpu}):
        points = sorted((p for p in cpu if p["worker_type"] == worker_type), key=lambda p: p["workers"])
        axes.plot([p["workers"] for p in points], [p["jobs_per_s"] for p in points], marker="o",
                  color=colors.get(worker_type), label=f"{worker_type} workers")  # fmt: skip
    fewest = min(cpu, key=lambda point: (point["workers"], point["worker_type"] != "process"))
    per_worker = fewest["jobs_per_s"] / fewest["workers"]
    counts = sorted({point["workers"] for point in cpu})
    axes.plot(counts, [per_worker * min(count, cpu_count) for count in counts], color="grey", linestyle="--",
              label="ideal: one job per core at a time")  # fmt: skip
    axes.axvline(cpu_count, color="grey", linestyle=":", label=f"{cpu_count} cores")
    axes.set_xticks(counts, [str(count) for count in counts])
    axes.set_xlabel("worker concurrency")
    axes.set_ylabel("jobs / second")
    axes.set_ylim(bottom=0)
    axes.set_title(title)
    axes.legend(fontsize=8)
    return save(figure, path)


def backlog_chart(backlog: list[dict], path: Path) -> Path:
    """Jobs waiting in the queue over time: a burst builds the backlog, the workers drain it."""
    title = "Queue depth during a burst"
    if not backlog:
        return save_empty(title, path)
    figure, axes = new_figure()
    times = [point["t"] for point in backlog]
    depths = [point["depth"] for point in backlog]
    axes.fill_between(times, depths, step="post", alpha=0.3, color=VARIANT_COLORS["queue"])
    axes.step(times, depths, where="post", color=VARIANT_COLORS["queue"])
    axes.set_xlabel("seconds since the burst began")
    axes.set_ylabel("jobs waiting")
    axes.set_ylim(bottom=0)
    axes.set_title(title)
    return save(figure, path)


# --- reliability -------------------------------------------------------------------
def reliability_chart(reliability: list[dict], path: Path) -> Path:
    """Delivered, lost and duplicated jobs per variant and signal (acks late marked)."""
    title = "Jobs delivered, lost and duplicated when the working process is killed"
    if not reliability:
        return save_empty(title, path)
    figure, axes = new_figure()
    labels = [
        f"{VARIANT_LABELS.get(e['variant'], e['variant'])}\n{e['signal']}" + ("\nacks late" if e["acks_late"] else "")
        for e in reliability
    ]
    outcomes = {"delivered_unique": ("delivered", "#009e73"), "lost": ("lost", "#d55e00"),
                "duplicates": ("duplicated", "#e69f00")}  # fmt: skip
    width = 0.8 / len(outcomes)
    for offset, (key, (name, color)) in enumerate(outcomes.items()):
        positions = [index + (offset - 1) * width for index in range(len(reliability))]
        bars = axes.bar(positions, [e[key] for e in reliability], width, label=name, color=color)
        _label_bars(axes, bars)
    axes.set_xticks(range(len(reliability)), labels, fontsize=7)
    axes.set_ylabel("jobs")
    axes.set_title(title)
    axes.legend(fontsize=8)
    return save(figure, path)


# --- a run's whole set -------------------------------------------------------------
def draw_all(
    run_dir: Path,
    summary: dict,
    history: dict | None = None,
    backlog: list[dict] | None = None,
    cpu: list[dict] | None = None,
) -> dict[str, Path]:
    """Every chart of a run into `run_dir` (file names: CHART_FILES); missing data draws "not measured yet".

    `cpu` defaults to summary["cpu_bound"] when the summary has it.
    """
    run_dir = Path(run_dir)
    variants, baseline = summary["variants"], summary["baseline"]
    cpu_count = summary.get("machine", {}).get("cpu_count") or os.cpu_count() or 1
    return {
        "latency": latency_chart(variants, run_dir / CHART_FILES["latency"], baseline),
        "bystander": bystander_chart(history or {}, run_dir / CHART_FILES["bystander"],
                                     baseline["health_latency_ms"]["p99"]),  # fmt: skip
        "throughput": throughput_chart(variants, run_dir / CHART_FILES["throughput"], baseline),
        "scaling": scaling_chart(summary["scaling"], run_dir / CHART_FILES["scaling"]),
        "cpu": cpu_chart(cpu if cpu is not None else summary.get("cpu_bound", []), run_dir / CHART_FILES["cpu"],
                         cpu_count),  # fmt: skip
        "backlog": backlog_chart(backlog or [], run_dir / CHART_FILES["backlog"]),
        "reliability": reliability_chart(summary["reliability"], run_dir / CHART_FILES["reliability"]),
    }
