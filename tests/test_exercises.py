"""The exercises work: every solution passes its check, and every untouched starter fails it.

The checks run in a pytest subprocess (`make check-exercises` runs the same command),
so that their conftest and imports stay apart from this suite's.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
LESSONS = sorted((ROOT / "lessons").glob("0[1-8]_*.md"))
CHECK_TIMEOUT_SECONDS = 120


def run_checks(use_solutions: bool) -> subprocess.CompletedProcess:
    env = {**os.environ, "EXERCISES_USE_SOLUTIONS": "1" if use_solutions else "0"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "exercises/checks", "-m", "exercise", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=CHECK_TIMEOUT_SECONDS,
    )  # fmt: skip


def outcome(done: subprocess.CompletedProcess) -> dict[str, int]:
    counts = re.findall(r"(\d+) (passed|failed|error|errors|skipped)", done.stdout.strip().splitlines()[-1])
    return {word: int(number) for number, word in counts}


def test_every_solution_passes_its_check():
    done = run_checks(use_solutions=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert outcome(done).get("passed", 0) >= len(LESSONS) and "skipped" not in outcome(done)


def test_every_check_fails_on_the_untouched_starters():
    counts = outcome(run_checks(use_solutions=False))
    assert counts.get("failed", 0) > 0 and "passed" not in counts, f"a check passes without any work: {counts}"


def test_each_starter_has_a_solution_and_a_check():
    starters = sorted(path.name for path in EXERCISES.glob("ex*.py"))
    assert len(starters) == len(LESSONS), "one exercise per lesson 01-08"
    assert starters == sorted(path.name for path in (EXERCISES / "solutions").glob("ex*.py"))
    assert [f"test_{name}" for name in starters] == sorted(p.name for p in (EXERCISES / "checks").glob("test_ex*.py"))
