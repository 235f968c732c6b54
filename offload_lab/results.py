"""Record a run: the folder `results/<run-id>/`, its summary, provenance and raw CSVs.

    run_dir = create_run_dir()                  # results/<UTC timestamp>-<suffix>/
    summary = make_summary(run_id=run_dir.name, broker=..., variants=..., ...)
    write_summary(run_dir, summary)             # validated against SUMMARY_SCHEMA first
    write_provenance(run_dir, collect_provenance(broker="redis", profile="quick", parameters={...}))
    write_csv(run_dir, "variants", variant_rows(summary))
    point_latest(run_dir)                       # results/latest -> <run-id>

The shape of `summary.json` is the external contract of DESIGN.md ("Results"):
`SUMMARY_SCHEMA` below is that contract written as a JSON Schema, and
`validate_summary` checks a summary against it with `jsonschema`.
Every function here only reads and writes files; none starts a process except
`collect_provenance`, which asks `git` and `redis-server --version` once.
"""
import csv
import json
import os
import platform
import secrets
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "results"
LATEST = "latest"

VARIANTS = ("blocking_await", "blocking_sync", "fire_and_forget", "queue")
BROKERS = ("redis", "sqlite")

# The performance checks of issue 3, reported in every run (benchmarks, not tests).
MIN_QUEUE_TO_HEALTH_RPS = 0.5  # queue accepted_rps / baseline health_rps must reach this
QUEUE_P50_FACTOR = 2.0  # queue p50 <= QUEUE_P50_FACTOR * health p50 + QUEUE_P50_SLACK_MS
QUEUE_P50_SLACK_MS = 1.0
LOADGEN_SATURATED_SHARE = 0.9  # Locust above 90 % of one core measures itself, not the app

# Packages whose versions go into provenance.json (absent ones are recorded as null).
PROVENANCE_PACKAGES = (
    "fastapi", "starlette", "uvicorn", "pydantic", "pydantic-settings", "huey", "redis",
    "locust", "aiosmtpd", "aiosmtplib", "httpx", "psutil", "matplotlib", "rich", "jsonschema",
)  # fmt: skip
PROVENANCE_KEYS = (
    "run_id", "created_at", "git_commit", "git_dirty", "python", "packages", "cpu_count",
    "platform", "machine", "broker", "broker_url", "broker_server", "profile", "parameters",
)  # fmt: skip


class SummaryError(ValueError):
    """A summary does not follow the contract; the message lists every problem and where."""


# --- the contract --------------------------------------------------------------------
def _number() -> dict:
    return {"type": "number", "minimum": 0}


def _count() -> dict:
    return {"type": "integer", "minimum": 0}


def _object(properties: dict, required: list[str] | None = None) -> dict:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


_PERCENTILES = _object({"p50": _number(), "p95": _number(), "p99": _number()})

_VARIANT = _object(
    {
        "latency_ms": _PERCENTILES,  # the variant's own endpoint, under load
        "bystander_ms": _object({"p50": _number(), "p99": _number()}),  # GET /health meanwhile
        "accepted_rps": _number(),  # 2xx answers per second
        "submitted": _count(),  # requests sent
        "delivered_unique": _count(),  # distinct job ids in the mail provider's log
        "lost": _count(),  # accepted (2xx) but never delivered
        "duplicates": _count(),  # deliveries beyond the first per job id
        "client_errors": _count(),  # non-2xx answers, timeouts, connection errors
    }
)

_CHECK_OK = {"ok": {"type": "boolean"}}

SUMMARY_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Offload Lab summary.json",
    "type": "object",
    "required": ["run_id", "broker", "profile", "parameters", "variants", "baseline",
                 "scaling", "reliability", "performance"],  # fmt: skip
    "properties": {
        "run_id": {"type": "string", "minLength": 1},
        "broker": {"enum": list(BROKERS)},  # the backend actually used, after --broker auto
        "profile": {"type": "string", "minLength": 1},  # quick | standard | ...
        "parameters": {  # the profile's knobs, printed in the table footer
            "type": "object",
            "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
        },
        "machine": _object(
            {"cpu_count": {"type": "integer", "minimum": 1}, "platform": {"type": "string"},
             "python": {"type": "string"}}  # fmt: skip
        ),
        "variants": {
            "type": "object",
            "properties": {name: _VARIANT for name in VARIANTS},
            "required": list(VARIANTS),
            "additionalProperties": False,
        },
        "baseline": _object({"health_rps": _number(), "health_latency_ms": _PERCENTILES}),
        "scaling": {  # I/O-bound jobs completed per second against worker concurrency
            "type": "array",
            "items": _object({"workers": {"type": "integer", "minimum": 1}, "jobs_per_s": _number()}),
        },
        "cpu_bound": {  # optional: CPU-bound jobs, thread against process workers
            "type": "array",
            "items": _object(
                {"worker_type": {"enum": ["thread", "process", "greenlet"]},
                 "workers": {"type": "integer", "minimum": 1}, "jobs_per_s": _number()}  # fmt: skip
            ),
        },
        "reliability": {  # empty until the reliability experiment (issue 4) runs
            "type": "array",
            "items": _object(
                {
                    "variant": {"enum": list(VARIANTS)},
                    "signal": {"type": "string", "pattern": "^(SIG[A-Z0-9]+|none)$"},
                    "acks_late": {"type": "boolean"},
                    "submitted": _count(),
                    "delivered_unique": _count(),
                    "lost": _count(),
                    "duplicates": _count(),
                    "client_errors": _count(),
                    "retried": _count(),  # optional: jobs that needed more than one attempt
                },
                required=["variant", "signal", "acks_late", "submitted", "delivered_unique",
                          "lost", "duplicates", "client_errors"],  # fmt: skip
            ),
        },
        "durability": {  # optional: jobs left in Redis after kill -9 with a backlog, per persistence mode
            "type": "array",
            "items": _object(
                {"appendfsync": {"enum": ["off", "everysec", "always"]}, "accepted": _count(),
                 "survived": _count(), "lost": _count()}  # fmt: skip
            ),
        },
        "outage": _object(  # optional: queue requests while Redis is unreachable for a few seconds
            {
                "outage_seconds": _number(),
                "accepted": _count(),  # 202 answers before, during and after the outage
                "refused_503": _count(),
                "max_503_latency_ms": {"type": ["number", "null"], "minimum": 0},  # null: no 503 seen
                "lost": _count(),  # 202 answers never delivered
                "recovered_after_s": {"type": ["number", "null"], "minimum": 0},  # null: no 202 after it
                "delivered_after_503": _count(),  # refused jobs the broker ran anyway (a timeout is not a no)
            },
            required=["outage_seconds", "accepted", "refused_503", "max_503_latency_ms", "lost",
                      "recovered_after_s"],  # fmt: skip
        ),
        "performance": _object(
            {
                "throughput_ratio": _object(
                    {"queue_rps": _number(), "health_rps": _number(), "ratio": _number(),
                     "min_ratio": _number(), **_CHECK_OK}  # fmt: skip
                ),
                "queue_latency": _object(
                    {"queue_p50_ms": _number(), "health_p50_ms": _number(), "limit_ms": _number(),
                     **_CHECK_OK}  # fmt: skip
                ),
                "load_generator": _object(
                    {"cpu_share": _number(), "saturated_share": _number(), "saturated": {"type": "boolean"}}
                ),
                "wall_time": _object({"seconds": _number(), "budget_seconds": _number(), **_CHECK_OK}),
            }
        ),
    },
}


def validate_summary(summary: dict) -> dict:
    """Return `summary` unchanged if it follows SUMMARY_SCHEMA; else raise SummaryError listing every problem."""
    validator = jsonschema.Draft202012Validator(SUMMARY_SCHEMA)
    errors = sorted(validator.iter_errors(summary), key=lambda error: list(map(str, error.absolute_path)))
    if errors:
        problems = "\n".join(f"  - {_where(error)}: {error.message}" for error in errors)
        raise SummaryError(f"summary.json does not follow the contract ({len(errors)} problem(s)):\n{problems}")
    return summary


def _where(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "(top level)"


def make_summary(
    *,
    run_id: str,
    broker: str,
    profile: str,
    parameters: dict,
    variants: dict,
    baseline: dict,
    scaling: list[dict],
    performance: dict,
    reliability: list[dict] | None = None,
    cpu_bound: list[dict] | None = None,
    durability: list[dict] | None = None,
    outage: dict | None = None,
) -> dict:
    """A validated summary.json from the experiments' parts; `machine` is filled in here."""
    summary = {
        "run_id": run_id,
        "broker": broker,
        "profile": profile,
        "parameters": parameters,
        "machine": machine_info(),
        "variants": variants,
        "baseline": baseline,
        "scaling": scaling,
        "reliability": reliability or [],
        "performance": performance,
    }
    if cpu_bound is not None:
        summary["cpu_bound"] = cpu_bound
    if durability is not None:
        summary["durability"] = durability
    if outage is not None:
        summary["outage"] = outage
    return validate_summary(summary)


# --- numbers derived from the measurements -----------------------------------------
def performance_checks(
    variants: dict, baseline: dict, loadgen_cpu_share: float, wall_seconds: float, budget_seconds: float
) -> dict:
    """The `performance` block of summary.json, from the run's own measurements.

    `loadgen_cpu_share` is the load generator's CPU time over wall time, as a share of
    one core (1.0 = one core busy), since Locust runs one process.
    """
    queue_rps = variants["queue"]["accepted_rps"]
    health_rps = baseline["health_rps"]
    ratio = queue_rps / health_rps if health_rps > 0 else 0.0
    queue_p50 = variants["queue"]["latency_ms"]["p50"]
    health_p50 = baseline["health_latency_ms"]["p50"]
    limit_ms = QUEUE_P50_FACTOR * health_p50 + QUEUE_P50_SLACK_MS
    return {
        "throughput_ratio": {
            "queue_rps": queue_rps,
            "health_rps": health_rps,
            "ratio": ratio,
            "min_ratio": MIN_QUEUE_TO_HEALTH_RPS,
            "ok": ratio >= MIN_QUEUE_TO_HEALTH_RPS,
        },
        "queue_latency": {
            "queue_p50_ms": queue_p50,
            "health_p50_ms": health_p50,
            "limit_ms": limit_ms,
            "ok": queue_p50 <= limit_ms,
        },
        "load_generator": {
            "cpu_share": loadgen_cpu_share,
            "saturated_share": LOADGEN_SATURATED_SHARE,
            "saturated": loadgen_cpu_share > LOADGEN_SATURATED_SHARE,
        },
        "wall_time": {"seconds": wall_seconds, "budget_seconds": budget_seconds, "ok": wall_seconds <= budget_seconds},
    }


def machine_info() -> dict:
    """The `machine` block of summary.json: what the numbers were measured on."""
    return {"cpu_count": os.cpu_count() or 1, "platform": platform.platform(), "python": platform.python_version()}


def variant_rows(summary: dict) -> list[dict]:
    """One flat row per variant (latency_p50_ms, bystander_p99_ms, ...) for variants.csv."""
    rows = []
    for name, numbers in summary["variants"].items():
        row = {"variant": name}
        for key, value in numbers.items():
            if isinstance(value, dict):
                stem = key.removesuffix("_ms")
                row.update({f"{stem}_{percentile}_ms": figure for percentile, figure in value.items()})
            else:
                row[key] = value
        rows.append(row)
    return rows


# --- the run folder ----------------------------------------------------------------
def new_run_id(now: datetime | None = None) -> str:
    """A UTC timestamp plus a short random suffix, e.g. `20261204T155748Z-3f9a`; sorts by start time."""
    now = now or datetime.now(timezone.utc)
    return f"{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


def create_run_dir(results_dir: Path = RESULTS_DIR, run_id: str | None = None) -> Path:
    """Make and return `results_dir/<run-id>/`; an existing folder is never reused."""
    run_dir = Path(results_dir) / (run_id or new_run_id())
    run_dir.mkdir(parents=True, exist_ok=False)
    return run_dir


def write_json(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    return path


def write_summary(run_dir: Path, summary: dict) -> Path:
    """Validate and write `summary.json`; the schema goes beside it for outside checkers."""
    validate_summary(summary)
    write_json(Path(run_dir) / "summary.schema.json", SUMMARY_SCHEMA)
    return write_json(Path(run_dir) / "summary.json", summary)


def load_summary(path: Path) -> dict:
    """Read and validate a `summary.json` (or the summary.json inside a run folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / "summary.json"
    return validate_summary(json.loads(path.read_text()))


def write_csv(run_dir: Path, name: str, rows: list[dict]) -> Path:
    """Write `rows` to `run_dir/<name>.csv`; the header is every key in first-seen order.

    Nested values (dicts, lists) are written as JSON text; missing keys as empty cells.
    """
    columns = list(dict.fromkeys(key for row in rows for key in row))
    path = Path(run_dir) / f"{name}.csv"
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: json.dumps(v) if isinstance(v, (dict, list)) else v for key, v in row.items()})
    return path


def point_latest(run_dir: Path) -> Path:
    """Make `<results>/latest` a relative symlink to `run_dir`, replaced atomically."""
    run_dir = Path(run_dir)
    latest = run_dir.parent / LATEST
    if latest.exists() and not latest.is_symlink():
        raise FileExistsError(f"{latest} exists and is not a symlink; move it away first")
    temporary = run_dir.parent / f".{LATEST}-{secrets.token_hex(4)}"
    temporary.symlink_to(run_dir.name, target_is_directory=True)
    os.replace(temporary, latest)  # rename over the old link: readers never see it missing
    return latest


# --- provenance --------------------------------------------------------------------
def collect_provenance(
    *, run_id: str, broker: str, profile: str, parameters: dict, broker_url: str | None = None
) -> dict:
    """What, where and with which versions a run was measured (keys: PROVENANCE_KEYS)."""
    commit, dirty = _git_state()
    machine = machine_info()
    return {
        "run_id": run_id,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_commit": commit,
        "git_dirty": dirty,
        "python": sys.version.split()[0],
        "packages": {name: _version(name) for name in PROVENANCE_PACKAGES},
        "cpu_count": machine["cpu_count"],
        "platform": machine["platform"],
        "machine": platform.machine(),
        "broker": broker,
        "broker_url": broker_url,
        "broker_server": _broker_server(broker),
        "profile": profile,
        "parameters": parameters,
    }


def write_provenance(run_dir: Path, provenance: dict) -> Path:
    return write_json(Path(run_dir) / "provenance.json", provenance)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _run(argv: list[str]) -> str | None:
    """Output of a short command, or None if it is missing or fails."""
    try:
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def _git_state() -> tuple[str | None, bool | None]:
    commit = _run(["git", "rev-parse", "HEAD"])
    status = _run(["git", "status", "--porcelain", "--untracked-files=no"])
    return commit, (None if status is None else status != "")


def _broker_server(broker: str) -> str | None:
    if broker == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    if broker == "redis" and shutil.which("redis-server"):
        return _run(["redis-server", "--version"])
    return None
