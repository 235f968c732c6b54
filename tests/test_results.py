"""Recording a run: the summary contract, the run folder, provenance, CSVs and results/latest."""
import csv
import json
import os
from datetime import datetime, timezone

import pytest
from fake_results import FAKE_RELIABILITY, fake_summary

from offload_lab import results
from offload_lab.results import SummaryError, validate_summary


def test_fake_summary_follows_the_contract():
    validate_summary(fake_summary())
    validate_summary(fake_summary(reliability=FAKE_RELIABILITY))


def test_summary_without_a_variant_is_refused_with_its_name():
    summary = fake_summary()
    del summary["variants"]["queue"]
    with pytest.raises(SummaryError, match=r"variants: 'queue' is a required property"):
        validate_summary(summary)


def test_every_problem_is_listed_with_where_it_is():
    summary = fake_summary()
    summary["variants"]["blocking_sync"]["latency_ms"].pop("p99")
    summary["variants"]["queue"]["lost"] = -1
    summary["broker"] = "rabbitmq"
    with pytest.raises(SummaryError) as caught:
        validate_summary(summary)
    message = str(caught.value)
    assert "3 problem(s)" in message
    assert "variants.blocking_sync.latency_ms: 'p99' is a required property" in message
    assert "variants.queue.lost: -1 is less than the minimum of 0" in message
    assert "broker: 'rabbitmq' is not one of ['redis', 'sqlite']" in message


@pytest.mark.parametrize(
    "path, value",
    [
        (("variants", "queue", "submitted"), 1.5),  # a count is an integer
        (("reliability",), [{"variant": "queue", "signal": "kill", "acks_late": False, "submitted": 1,
                             "delivered_unique": 1, "lost": 0, "duplicates": 0, "client_errors": 0}]),
        (("scaling",), [{"workers": 0, "jobs_per_s": 1.0}]),
        (("performance", "wall_time", "ok"), "yes"),
        (("baseline", "health_latency_ms"), 2.5),  # percentiles, not one number
    ],
)  # fmt: skip
def test_wrong_values_are_refused(path, value):
    summary = fake_summary()
    target = summary
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(SummaryError, match=".".join(path)):
        validate_summary(summary)


def test_performance_checks_follow_the_stated_rules():
    summary = fake_summary()
    checks = results.performance_checks(
        summary["variants"], summary["baseline"], loadgen_cpu_share=0.95, wall_seconds=61, budget_seconds=60
    )
    assert checks["throughput_ratio"]["ratio"] == pytest.approx(350 / 520)
    assert checks["throughput_ratio"]["ok"] is True
    assert checks["queue_latency"]["limit_ms"] == pytest.approx(2 * 2.5 + 1)
    assert checks["queue_latency"]["ok"] is True  # 5 ms <= 6 ms
    assert checks["load_generator"]["saturated"] is True
    assert checks["wall_time"]["ok"] is False
    validate_summary(fake_summary(performance=checks))


def test_performance_checks_fail_at_their_edges():
    summary = fake_summary()
    summary["variants"]["queue"]["accepted_rps"] = 259.9  # just under half of 520
    summary["variants"]["queue"]["latency_ms"]["p50"] = 6.01  # just over 2 * 2.5 + 1
    checks = results.performance_checks(summary["variants"], summary["baseline"], 0.9, 60, 60)
    assert checks["throughput_ratio"]["ok"] is False
    assert checks["queue_latency"]["ok"] is False
    assert checks["load_generator"]["saturated"] is False  # exactly 90 % of a core is not yet saturated
    assert checks["wall_time"]["ok"] is True  # exactly on budget
    summary["variants"]["queue"]["accepted_rps"] = 260.0  # exactly half
    summary["variants"]["queue"]["latency_ms"]["p50"] = 6.0  # exactly on the limit
    checks = results.performance_checks(summary["variants"], summary["baseline"], 0.9001, 60.1, 60)
    assert checks["throughput_ratio"]["ok"] is True
    assert checks["queue_latency"]["ok"] is True
    assert checks["load_generator"]["saturated"] is True
    assert checks["wall_time"]["ok"] is False


def test_run_ids_are_utc_timestamps_with_a_suffix_and_sort_by_time():
    early = results.new_run_id(datetime(2026, 12, 4, 9, 0, 1, tzinfo=timezone.utc))
    late = results.new_run_id(datetime(2026, 12, 4, 10, 0, 0, tzinfo=timezone.utc))
    assert early.startswith("20261204T090001Z-") and len(early.split("-")[1]) == 4
    assert sorted([late, early]) == [early, late]
    assert results.new_run_id() != results.new_run_id()


def test_run_folder_holds_summary_schema_and_csvs(tmp_path):
    run_dir = results.create_run_dir(tmp_path, "run-a")
    summary = fake_summary(run_id="run-a")
    path = results.write_summary(run_dir, summary)
    assert results.load_summary(run_dir) == summary
    assert json.loads(path.read_text()) == summary
    assert json.loads((run_dir / "summary.schema.json").read_text()) == results.SUMMARY_SCHEMA

    csv_path = results.write_csv(run_dir, "variants", results.variant_rows(summary))
    rows = list(csv.DictReader(csv_path.open()))
    assert [row["variant"] for row in rows] == list(results.VARIANTS)
    assert rows[3]["latency_p50_ms"] == "5.0" and rows[1]["bystander_p99_ms"] == "4100.0"


def test_an_invalid_summary_is_never_written(tmp_path):
    run_dir = results.create_run_dir(tmp_path)
    with pytest.raises(SummaryError):
        results.write_summary(run_dir, {"run_id": "x"})
    assert not (run_dir / "summary.json").exists()


def test_csv_header_is_the_union_of_keys(tmp_path):
    rows = [{"t": 0, "p50": 1.0}, {"t": 1, "p99": 3.0, "extra": {"a": 1}}]
    path = results.write_csv(tmp_path, "history", rows)
    lines = path.read_text().splitlines()
    assert lines[0] == "t,p50,p99,extra"
    assert lines[2] == '1,,3.0,"{""a"": 1}"'


def test_a_run_folder_is_never_reused(tmp_path):
    results.create_run_dir(tmp_path, "same")
    with pytest.raises(FileExistsError):
        results.create_run_dir(tmp_path, "same")


def test_latest_is_a_relative_link_to_the_newest_run(tmp_path):
    first = results.create_run_dir(tmp_path)
    second = results.create_run_dir(tmp_path)
    results.point_latest(first)
    latest = results.point_latest(second)
    assert latest == tmp_path / "latest"
    assert latest.is_symlink() and os.readlink(latest) == second.name
    assert latest.resolve() == second.resolve()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary link left


def test_latest_refuses_to_replace_a_real_folder(tmp_path):
    (tmp_path / "latest").mkdir()
    with pytest.raises(FileExistsError, match="not a symlink"):
        results.point_latest(results.create_run_dir(tmp_path))


def test_provenance_has_every_key(tmp_path):
    provenance = results.collect_provenance(
        run_id="run-a", broker="sqlite", profile="quick", parameters={"users": 20}, broker_url="sqlite:///q.db"
    )
    assert set(results.PROVENANCE_KEYS) <= set(provenance)
    assert provenance["cpu_count"] >= 1
    assert provenance["broker_server"].startswith("SQLite ")
    assert provenance["packages"]["huey"] and provenance["packages"]["fastapi"]
    assert set(provenance["packages"]) >= {"fastapi", "uvicorn", "huey", "redis", "locust"}
    assert len(provenance["git_commit"] or "x" * 40) == 40
    assert provenance["git_dirty"] in (True, False, None)
    path = results.write_provenance(tmp_path, provenance)
    assert json.loads(path.read_text()) == provenance


def test_make_summary_fills_in_the_machine_and_validates():
    parts = {key: value for key, value in fake_summary().items() if key not in ("machine", "reliability")}
    summary = results.make_summary(**parts)
    assert summary["reliability"] == []
    assert summary["machine"]["cpu_count"] >= 1
    with pytest.raises(SummaryError, match="variants"):
        results.make_summary(**{**parts, "variants": {}})
