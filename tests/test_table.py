"""The comparison table: every word comes from a stated threshold, tested at its edges."""
import io

import pytest
from fake_results import FAKE_RELIABILITY, fake_summary
from rich.console import Console
from rich.table import Table

from offload_lab import table
from offload_lab.table import (
    BYSTANDER_BLOCKED_MS,
    HIGH_LATENCY_MS,
    KEEPS_UP_RATIO,
    LOW_LATENCY_MS,
    SCALES_PARTLY,
    SCALES_WELL,
    classify_latency,
    classify_reliability,
    classify_scalability,
    scaling_efficiency,
)

JUST = 1e-6


@pytest.mark.parametrize(
    "p50, word",
    [
        (0.0, "Low (ms)"),
        (LOW_LATENCY_MS - JUST, "Low (ms)"),
        (LOW_LATENCY_MS, "Medium (sub-second)"),
        (LOW_LATENCY_MS + JUST, "Medium (sub-second)"),
        (HIGH_LATENCY_MS - JUST, "Medium (sub-second)"),
        (HIGH_LATENCY_MS, "High (seconds)"),
        (HIGH_LATENCY_MS + JUST, "High (seconds)"),
        (30_000.0, "High (seconds)"),
    ],
)
def test_latency_words_at_their_edges(p50, word):
    assert classify_latency(p50)[0] == word


def outcome(lost=0, duplicates=0, client_errors=0, signal="SIGKILL", **extra):
    return {"variant": "queue", "signal": signal, "acks_late": False, "submitted": 200,
            "delivered_unique": 200 - lost, "lost": lost, "duplicates": duplicates,
            "client_errors": client_errors, **extra}  # fmt: skip


@pytest.mark.parametrize(
    "entry, word",
    [
        (outcome(), "No loss"),
        (outcome(retried=0), "No loss"),
        (outcome(retried=1), "No loss, retried"),
        (outcome(client_errors=1), "Fails on SIGKILL, caller sees it"),
        (outcome(duplicates=1), "No loss, 1 sent twice"),
        (outcome(duplicates=1, client_errors=5), "No loss, 1 sent twice"),
        (outcome(lost=1), "Lost 1 of 200 on SIGKILL"),
        (outcome(lost=1, duplicates=3, client_errors=2, retried=4), "Lost 1 of 200 on SIGKILL"),
        (outcome(lost=7, signal="none"), "Lost 7 of 200 without a crash"),
    ],
)
def test_reliability_words_at_their_edges(entry, word):
    assert classify_reliability(entry)[0] == word


@pytest.mark.parametrize(
    "extra_ms, ratio, efficiency, word",
    [
        (BYSTANDER_BLOCKED_MS, 1.0, 1.0, "Poor — blocks other requests"),
        (BYSTANDER_BLOCKED_MS + JUST, 1.0, None, "Poor — blocks other requests"),
        (BYSTANDER_BLOCKED_MS - JUST, 1.0, None, "Good — others not blocked"),
        (-5.0, 1.0, None, "Good — others not blocked"),  # bystander faster than idle: noise
        (0.0, KEEPS_UP_RATIO - JUST, None, "Limited — the work caps throughput"),
        (0.0, KEEPS_UP_RATIO - JUST, 1.0, "Limited — the work caps throughput"),
        (0.0, KEEPS_UP_RATIO, None, "Good — others not blocked"),
        (0.0, KEEPS_UP_RATIO, SCALES_WELL, "Excellent — workers scale"),
        (0.0, 1.0, SCALES_WELL + JUST, "Excellent — workers scale"),
        (0.0, 1.0, SCALES_WELL - JUST, "Good — workers scale partly"),
        (0.0, 1.0, SCALES_PARTLY, "Good — workers scale partly"),
        (0.0, 1.0, SCALES_PARTLY - JUST, "Fair — more workers barely help"),
        (0.0, 1.0, 0.0, "Fair — more workers barely help"),
    ],
)
def test_scalability_words_at_their_edges(extra_ms, ratio, efficiency, word):
    assert classify_scalability(extra_ms, ratio, efficiency)[0] == word


def test_scaling_efficiency_compares_the_most_workers_with_linear_growth():
    scaling = [{"workers": 8, "jobs_per_s": 3.0}, {"workers": 1, "jobs_per_s": 0.5}, {"workers": 2, "jobs_per_s": 1}]
    assert scaling_efficiency(scaling) == pytest.approx(3.0 / 4.0)
    assert scaling_efficiency([{"workers": 2, "jobs_per_s": 1.0}, {"workers": 4, "jobs_per_s": 2.0}]) == 1.0
    assert scaling_efficiency([]) is None
    assert scaling_efficiency([{"workers": 1, "jobs_per_s": 0.5}]) is None
    assert scaling_efficiency([{"workers": 1, "jobs_per_s": 0.0}, {"workers": 2, "jobs_per_s": 1.0}]) is None


def words(rows, column):
    return {row.variant: getattr(row, column).word for row in rows}


def test_the_fake_run_reproduces_the_lessons_claims():
    rows = table.build_table(fake_summary())
    assert [row.approach for row in rows] == [table.ROW_LABELS[v] for v in table.VARIANTS]
    assert words(rows, "latency") == {
        "blocking_await": "High (seconds)", "blocking_sync": "High (seconds)",
        "fire_and_forget": "Low (ms)", "queue": "Low (ms)",
    }  # fmt: skip
    assert words(rows, "scalability") == {
        "blocking_await": "Limited — the work caps throughput",
        "blocking_sync": "Poor — blocks other requests",
        "fire_and_forget": "Good — others not blocked",
        "queue": "Excellent — workers scale",
    }
    queue = rows[3]
    assert queue.latency.figure == "p50 5.0 ms, p99 21 ms"
    assert "8 workers: 3.85 jobs/s = 96% of ideal" in queue.scalability.figure
    assert queue.latency.rule == f"p50 < {LOW_LATENCY_MS:g} ms"


def test_reliability_says_not_measured_yet_without_the_experiment():
    rows = table.build_table(fake_summary(reliability=[]))
    assert set(words(rows, "reliability").values()) == {"not measured yet"}
    assert all(row.reliability.figure == "—" for row in rows)


def test_reliability_takes_the_worst_signal_and_lists_them_all():
    rows = table.build_table(fake_summary(reliability=FAKE_RELIABILITY))
    assert words(rows, "reliability") == {
        "blocking_await": "Fails on SIGKILL, caller sees it",
        "blocking_sync": "not measured yet",
        "fire_and_forget": "Lost 29 of 200 on SIGKILL",
        "queue": "Lost 3 of 200 on SIGKILL",
    }
    figure = rows[3].reliability.figure
    assert "SIGINT: lost 0/200, dup 0, errors 0, retried 14" in figure
    assert "SIGKILL + acks late: lost 0/200, dup 1" in figure


def test_queue_scalability_without_scaling_data_says_so():
    rows = table.build_table(fake_summary(scaling=[]))
    assert rows[3].scalability.word == "Good — others not blocked"
    assert "worker scaling not measured yet" in rows[3].scalability.figure


def test_markdown_has_table_footer_checks_and_legend():
    text = table.render_markdown(fake_summary())
    lines = text.splitlines()
    assert lines[0] == "| Approach | Latency | Reliability | Scalability |"
    assert sum(line.startswith("| ") for line in lines) == 5
    assert "**High (seconds)**<br>p50 2.01 s, p99 2.08 s" in text
    assert "profile **quick** · broker **redis** · 2 CPUs" in text
    assert "users=20, duration_s=10, mail_latency_s=2.0" in text
    assert "PASS queue 350.0 req/s ÷ /health 520.0 req/s = 0.67" in text
    assert "not measured yet" in text
    for threshold in (LOW_LATENCY_MS, HIGH_LATENCY_MS, BYSTANDER_BLOCKED_MS):
        assert f"{threshold:g} ms" in text
    assert "WARNING" not in text


def test_markdown_warns_when_the_load_generator_saturates():
    summary = fake_summary()
    summary["performance"]["load_generator"].update(cpu_share=0.97, saturated=True)
    summary["performance"]["wall_time"].update(seconds=75, ok=False)
    text = table.render_markdown(summary)
    assert "FAIL load generator CPU 97% of one core" in text
    assert "FAIL wall time 75 s (budget 60 s)" in text
    assert "WARNING: the load generator saturated" in text


def test_rich_table_renders_every_row():
    rendered = table.render_rich(fake_summary(reliability=FAKE_RELIABILITY))
    assert isinstance(rendered, Table)
    assert rendered.row_count == 4
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(rendered)
    output = console.export_text()
    assert "Queue + worker (Huey)" in output and "Excellent — workers scale" in output
    assert "Lost 29 of 200 on SIGKILL" in output
