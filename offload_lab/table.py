"""The lesson's comparison table, rebuilt from one run's measurements.

The seed lesson compares three ways to send a welcome email (awaiting it in the
handler, firing and forgetting it, queueing it for a worker) on latency,
reliability and scalability. Here every cell is a word chosen by a stated
threshold from the numbers in `summary.json`, followed by the numbers themselves:

    rows = build_table(summary)            # Row(approach, latency=Cell(word, figure, rule), ...)
    print(render_markdown(summary))        # table.md: the table, the run's parameters, the legend
    console.print(render_rich(summary))    # the same table in the terminal

The `classify_*` functions hold every rule; the constants below are the thresholds.
"""
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from offload_lab.results import MIN_QUEUE_TO_HEALTH_RPS, VARIANTS

# --- thresholds --------------------------------------------------------------------
# Latency, from the variant's own p50 under load.
LOW_LATENCY_MS = 50.0  # below this a person notices no wait: the answer comes in milliseconds
HIGH_LATENCY_MS = 1000.0  # at or above this the caller waits whole seconds, i.e. for the work itself

# Scalability, from how the rest of the app fares and how the work grows with workers.
BYSTANDER_BLOCKED_MS = 200.0  # bystander /health p99 this far above idle /health p99: requests wait on each other
KEEPS_UP_RATIO = MIN_QUEUE_TO_HEALTH_RPS  # accepted req/s below this share of /health req/s: the work caps throughput
SCALES_WELL = 0.7  # jobs/s at most workers >= 70 % of ideal (linear from fewest workers): "workers scale"
SCALES_PARTLY = 0.4  # 40-70 % of ideal: adding workers helps, but less and less

# Reliability, from the reliability experiment (issue 4): any accepted job that was never
# delivered counts as lost; any email sent twice counts as a duplicate. No tolerance.
NOT_MEASURED = "not measured yet"

ROW_LABELS = {
    "blocking_await": "Await work inside handler (mode=await)",
    "blocking_sync": "Work inside handler, sync call (mode=sync)",
    "fire_and_forget": "Fire-and-forget (no queue)",
    "queue": "Queue + worker (Huey)",
}
COLUMNS = ("Approach", "Latency", "Reliability", "Scalability")


@dataclass(frozen=True)
class Cell:
    word: str  # the verdict, chosen by a threshold
    figure: str  # the measured numbers behind it
    rule: str  # the threshold rule that chose the word


@dataclass(frozen=True)
class Row:
    variant: str
    approach: str
    latency: Cell
    reliability: Cell
    scalability: Cell


# --- the rules ---------------------------------------------------------------------
def classify_latency(p50_ms: float) -> tuple[str, str]:
    """(word, rule) for a variant's p50 latency."""
    if p50_ms < LOW_LATENCY_MS:
        return "Low (ms)", f"p50 < {LOW_LATENCY_MS:g} ms"
    if p50_ms < HIGH_LATENCY_MS:
        return "Medium (sub-second)", f"{LOW_LATENCY_MS:g} ms <= p50 < {HIGH_LATENCY_MS:g} ms"
    return "High (seconds)", f"p50 >= {HIGH_LATENCY_MS:g} ms"


def classify_reliability(entry: dict) -> tuple[str, str]:
    """(word, rule) for one row of summary["reliability"] (one variant under one signal)."""
    crash = "without a crash" if entry["signal"] == "none" else f"on {entry['signal']}"
    if entry["lost"] > 0:
        return f"Lost {entry['lost']} of {entry['submitted']} {crash}", "lost > 0: accepted, never delivered"
    if entry["duplicates"] > 0:
        return f"No loss, {entry['duplicates']} sent twice", "lost = 0, duplicates > 0"
    if entry["client_errors"] > 0:
        return f"Fails {crash}, caller sees it", "lost = 0, client_errors > 0: the caller knows and can retry"
    if entry.get("retried", 0) > 0:
        return "No loss, retried", "lost = 0, duplicates = 0, retried > 0"
    return "No loss", "lost = 0, duplicates = 0, client_errors = 0"


def classify_scalability(
    bystander_extra_ms: float, throughput_ratio: float, efficiency: float | None = None
) -> tuple[str, str]:
    """(word, rule) from the bystander's extra p99 over idle, accepted/health req/s, and worker scaling.

    `efficiency` is `scaling_efficiency(summary["scaling"])` for the queue, None otherwise.
    """
    if bystander_extra_ms >= BYSTANDER_BLOCKED_MS:
        return "Poor — blocks other requests", f"bystander p99 - idle p99 >= {BYSTANDER_BLOCKED_MS:g} ms"
    if throughput_ratio < KEEPS_UP_RATIO:
        return "Limited — the work caps throughput", f"accepted req/s < {KEEPS_UP_RATIO:g} x /health req/s"
    if efficiency is None:
        return "Good — others not blocked", f"bystander unaffected, accepted req/s >= {KEEPS_UP_RATIO:g} x /health"
    if efficiency >= SCALES_WELL:
        return "Excellent — workers scale", f"jobs/s >= {SCALES_WELL:.0%} of ideal at most workers"
    if efficiency >= SCALES_PARTLY:
        return "Good — workers scale partly", f"{SCALES_PARTLY:.0%} <= jobs/s < {SCALES_WELL:.0%} of ideal"
    return "Fair — more workers barely help", f"jobs/s < {SCALES_PARTLY:.0%} of ideal at most workers"


def scaling_efficiency(scaling: list[dict]) -> float | None:
    """Jobs/s at the most workers over the ideal (linear growth from the fewest workers); None if unmeasured."""
    points = sorted(scaling, key=lambda point: point["workers"])
    if len(points) < 2 or points[0]["jobs_per_s"] <= 0:
        return None
    fewest, most = points[0], points[-1]
    ideal = fewest["jobs_per_s"] * most["workers"] / fewest["workers"]
    return most["jobs_per_s"] / ideal


# --- the table ---------------------------------------------------------------------
def format_ms(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 10:
        return f"{ms:.0f} ms"
    return f"{ms:.1f} ms"


def format_share(share: float) -> str:
    return f"{share:.1%}" if 0 < share < 0.1 else f"{share:.0%}"


def latency_cell(numbers: dict) -> Cell:
    latency = numbers["latency_ms"]
    word, rule = classify_latency(latency["p50"])
    return Cell(word, f"p50 {format_ms(latency['p50'])}, p99 {format_ms(latency['p99'])}", rule)


def reliability_cell(entries: list[dict]) -> Cell:
    """The worst outcome gives the word; every measured signal is listed in the figure."""
    if not entries:
        return Cell(NOT_MEASURED, "—", "filled by the reliability experiment")

    def badness(entry: dict) -> tuple:
        submitted = max(entry["submitted"], 1)
        return (entry["lost"] / submitted, entry["duplicates"] / submitted, entry["client_errors"] / submitted)

    word, rule = classify_reliability(max(entries, key=badness))
    figures = []
    for entry in entries:
        label = entry["signal"] + (" + acks late" if entry["acks_late"] else "")
        figure = f"{label}: lost {entry['lost']}/{entry['submitted']}, dup {entry['duplicates']}"
        figure += f", errors {entry['client_errors']}"
        if "retried" in entry:
            figure += f", retried {entry['retried']}"
        figures.append(figure)
    return Cell(word, "; ".join(figures), rule)


def scalability_cell(variant: str, numbers: dict, summary: dict) -> Cell:
    baseline = summary["baseline"]
    idle_p99 = baseline["health_latency_ms"]["p99"]
    bystander_p99 = numbers["bystander_ms"]["p99"]
    health_rps = baseline["health_rps"]
    ratio = numbers["accepted_rps"] / health_rps if health_rps > 0 else 0.0
    efficiency = scaling_efficiency(summary["scaling"]) if variant == "queue" else None
    word, rule = classify_scalability(bystander_p99 - idle_p99, ratio, efficiency)
    figure = (
        f"bystander p99 {format_ms(bystander_p99)} (idle {format_ms(idle_p99)}); "
        f"{numbers['accepted_rps']:.1f} req/s = {format_share(ratio)} of /health"
    )
    if variant == "queue":
        if efficiency is None:
            figure += "; worker scaling not measured yet"
        else:
            most = max(summary["scaling"], key=lambda point: point["workers"])
            figure += f"; {most['workers']} workers: {most['jobs_per_s']:.2f} jobs/s"
            figure += f" = {format_share(efficiency)} of ideal"
    return Cell(word, figure, rule)


def build_table(summary: dict) -> list[Row]:
    """One Row per variant, in the lesson's order, each cell derived from `summary`."""
    rows = []
    for variant in VARIANTS:
        numbers = summary["variants"][variant]
        entries = [entry for entry in summary["reliability"] if entry["variant"] == variant]
        rows.append(
            Row(
                variant=variant,
                approach=ROW_LABELS[variant],
                latency=latency_cell(numbers),
                reliability=reliability_cell(entries),
                scalability=scalability_cell(variant, numbers, summary),
            )
        )
    return rows


def thresholds_legend() -> list[str]:
    """Every rule that can choose a word, one line each."""
    return [
        f"Latency (p50 of the variant under load): Low (ms) below {LOW_LATENCY_MS:g} ms; "
        f"Medium (sub-second) below {HIGH_LATENCY_MS:g} ms; High (seconds) from {HIGH_LATENCY_MS:g} ms.",
        "Reliability (reliability experiment, worst signal gives the word): any accepted job never delivered "
        "→ Lost; else any email sent twice → duplicates; else any client error → fails, caller sees it; "
        "else No loss. Until the experiment runs: " + NOT_MEASURED + ".",
        f"Scalability: Poor when the bystander's /health p99 rises {BYSTANDER_BLOCKED_MS:g} ms or more above "
        f"idle; Limited when accepted req/s is below {KEEPS_UP_RATIO:g} x /health req/s; for the queue, "
        f"Excellent when jobs/s at the most workers reach {SCALES_WELL:.0%} of ideal, Good (partly) from "
        f"{SCALES_PARTLY:.0%}, Fair below; otherwise Good.",
    ]


def performance_lines(summary: dict) -> list[str]:
    checks = summary["performance"]
    ratio, latency = checks["throughput_ratio"], checks["queue_latency"]
    loadgen, wall = checks["load_generator"], checks["wall_time"]
    lines = [
        f"{_mark(ratio['ok'])} queue {ratio['queue_rps']:.1f} req/s ÷ /health {ratio['health_rps']:.1f} req/s "
        f"= {ratio['ratio']:.2f} (needs ≥ {ratio['min_ratio']:g})",
        f"{_mark(latency['ok'])} queue p50 {latency['queue_p50_ms']:.1f} ms ≤ 2 × /health p50 + 1 ms "
        f"= {latency['limit_ms']:.1f} ms",
        f"{_mark(not loadgen['saturated'])} load generator CPU {loadgen['cpu_share']:.0%} of one core "
        f"(saturated above {loadgen['saturated_share']:.0%})",
        f"{_mark(wall['ok'])} wall time {wall['seconds']:.0f} s (budget {wall['budget_seconds']:.0f} s)",
    ]
    if loadgen["saturated"]:
        lines.append("WARNING: the load generator saturated its core; these numbers describe Locust, not the app.")
    return lines


def _mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _markdown_cell(cell: Cell) -> str:
    return f"**{cell.word}**<br>{cell.figure}".replace("|", "\\|")


def render_markdown(summary: dict) -> str:
    """table.md: the table, then the run's profile, broker, machine, checks and thresholds."""
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in build_table(summary):
        cells = [_markdown_cell(cell) for cell in (row.latency, row.reliability, row.scalability)]
        lines.append(f"| {row.approach} | " + " | ".join(cells) + " |")
    baseline = summary["baseline"]
    health = baseline["health_latency_ms"]
    parameters = ", ".join(f"{key}={value}" for key, value in summary["parameters"].items()) or "(none)"
    lines += [
        "",
        f"Run `{summary['run_id']}` · profile **{summary['profile']}** · broker **{summary['broker']}** · "
        + _machine_text(summary),
        "",
        f"Profile parameters: {parameters}",
        "",
        f"Baseline: `GET /health` alone serves {baseline['health_rps']:.1f} req/s, "
        f"p50 {format_ms(health['p50'])}, p99 {format_ms(health['p99'])}.",
        "",
        "Performance checks:",
        "",
        *[f"- {line}" for line in performance_lines(summary)],
        "",
        "Thresholds (each word above is computed from the figures by these rules):",
        "",
        *[f"- {line}" for line in thresholds_legend()],
    ]
    return "\n".join(lines) + "\n"


def _machine_text(summary: dict) -> str:
    machine = summary.get("machine")
    if not machine:
        return "machine not recorded"
    return f"{machine['cpu_count']} CPUs, {machine['platform']}, Python {machine['python']}"


def render_rich(summary: dict) -> Table:
    """The same table for the terminal; the caption carries the run and the performance checks."""
    table = Table(
        *COLUMNS,
        title="Why slow work belongs in a queue — measured on this machine",
        caption=f"profile {summary['profile']} · broker {summary['broker']} · {_machine_text(summary)}\n"
        + "\n".join(performance_lines(summary)),
        caption_justify="left",
        show_lines=True,
    )
    for row in build_table(summary):
        cells = [_rich_cell(cell) for cell in (row.latency, row.reliability, row.scalability)]
        table.add_row(row.approach, *cells)
    return table


def _rich_cell(cell: Cell) -> Text:
    return Text.assemble((cell.word, "bold"), "\n", (cell.figure, "dim"))
