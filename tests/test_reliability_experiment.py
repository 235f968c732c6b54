"""The reliability experiment end to end, on a tiny profile: shape, and what must hold whatever the kill moments.

One run (module fixture) of every part: chaos rows, Redis kill -9 per persistence
mode, the broker outage. The kills land at seeded random moments, so the tests
assert invariants (counts add up, nothing lost where nothing may be lost), not
exact figures.
"""
import csv
from dataclasses import replace

import jsonschema
import pytest

from conftest import require_redis
from offload_lab.experiments import reliability
from offload_lab.profiles import get_profile
from offload_lab.results import SUMMARY_SCHEMA

TINY = replace(
    get_profile("quick"),
    name="tiny",
    mail_latency=0.2,
    workers=4,
    reliability_jobs=12,
    reliability_seconds=2.5,
    reliability_kills=1,
    reliability_clients=3,
    reliability_drain_timeout=8,
    durability_jobs=30,
    outage_seconds=1.5,
    outage_rps=10,
)


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    require_redis()
    run_dir = tmp_path_factory.mktemp("reliability")
    return run_dir, reliability.run(TINY, run_dir, broker="redis")


def rows_by_name(result) -> dict:
    return {reliability.Scenario(r["variant"], r["signal"], r["acks_late"]).name: r for r in result["reliability"]}


def requests_sent(run_dir, name) -> list[dict]:
    with (run_dir / "reliability" / f"{name}_requests.csv").open() as file:
        return list(csv.DictReader(file))


def test_the_result_follows_the_summary_contract(measured):
    _, result = measured
    assert set(result) >= {"reliability", "durability", "outage", "seconds", "broker", "skipped"}
    assert result["broker"] == "redis" and result["skipped"] == {}
    for key in ("reliability", "durability", "outage"):
        jsonschema.validate(result[key], SUMMARY_SCHEMA["properties"][key])
    assert [(r["variant"], r["signal"], r["acks_late"]) for r in result["reliability"]] == [
        (s.variant, s.signal, s.acks_late) for s in reliability.SCENARIOS
    ]


def test_every_row_adds_up_with_its_raw_requests(measured):
    run_dir, result = measured
    for name, row in rows_by_name(result).items():
        sent = requests_sent(run_dir, name)
        assert row["submitted"] + row["client_errors"] == len(sent) > 0, name
        assert row["submitted"] == sum(1 for request in sent if request["job_id"]), name
        assert row["submitted"] == row["delivered_unique"] + row["lost"], name
        assert row["kills"] == TINY.reliability_kills, name


def test_the_queue_rows(measured):
    rows = rows_by_name(measured[1])
    for name in ("queue_SIGINT", "queue_SIGTERM", "queue_SIGKILL", "queue_SIGKILL_acks_late"):
        assert rows[name]["client_errors"] == 0, name  # killing the worker never touches the web process
        assert rows[name]["submitted"] == TINY.reliability_jobs, name
    assert rows["queue_SIGINT"]["lost"] == 0  # graceful: the running jobs finish first
    assert rows["queue_SIGKILL"]["duplicates"] == 0  # at most once: nothing ever runs a job twice
    assert rows["queue_SIGKILL_acks_late"]["lost"] == 0  # the lease puts the killed worker's jobs back


def test_a_blocking_200_means_the_email_was_sent(measured):
    rows = rows_by_name(measured[1])
    for name in ("blocking_await_SIGKILL", "blocking_sync_SIGKILL"):
        assert rows[name]["lost"] == 0 and rows[name]["duplicates"] == 0, name


def test_kills_follow_the_seeded_plan(measured):
    run_dir, _ = measured
    with (run_dir / "reliability" / "kills.csv").open() as file:
        kills = list(csv.DictReader(file))
    for scenario in reliability.SCENARIOS:
        planned, _ = reliability.kill_plan(TINY, scenario)
        assert planned == reliability.kill_plan(TINY, scenario)[0]  # same profile, same moments
        mine = [kill for kill in kills if kill["scenario"] == scenario.name]
        assert [float(kill["planned_s"]) for kill in mine] == [round(moment, 3) for moment in planned]
        assert all(kill["old_pid"] != kill["new_pid"] for kill in mine)  # killed and started again


def test_only_aof_keeps_a_backlog_through_kill_9(measured):
    durability = {row["appendfsync"]: row for row in measured[1]["durability"]}
    assert set(durability) == {"off", "everysec", "always"}
    for row in durability.values():
        assert row["accepted"] == TINY.durability_jobs
    assert durability["always"]["lost"] == 0
    assert durability["off"]["survived"] == 0


def test_an_outage_gives_quick_503s_and_loses_nothing(measured):
    outage = measured[1]["outage"]
    assert outage["refused_503"] > 0 and outage["max_503_latency_ms"] is not None
    assert outage["lost"] == 0
    assert outage["accepted_before"] > 0 and outage["accepted_after"] > 0
    assert outage["recovered_after_s"] is not None
    assert not outage["web_restarted"] and not outage["worker_restarted"]


def test_on_sqlite_the_redis_only_parts_are_skipped_and_said_so(tmp_path):
    result = reliability.run(TINY, tmp_path, broker="sqlite")
    assert result["broker"] == "sqlite"
    assert [(r["variant"], r["signal"]) for r in result["reliability"]] == [
        (s.variant, s.signal) for s in reliability.SCENARIOS if not s.acks_late
    ]
    assert result["durability"] == [] and result["outage"] is None
    assert set(result["skipped"]) == {"queue_SIGKILL_acks_late", "durability", "outage"}
    for row in result["reliability"]:
        assert row["submitted"] == row["delivered_unique"] + row["lost"]
