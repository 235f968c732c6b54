"""The lessons tell the truth: their code is the real code, their numbers the reference run's, their links work."""
import json
import re
from pathlib import Path

import pytest

from offload_lab import excerpts

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "lessons").glob("*.md"))
LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target>[^)\s]+)\)")
EXPECTED = [
    "00_overview.md", "01_why_not_block.md", "02_the_queue_module.md", "03_enqueue_from_fastapi.md",
    "04_the_worker.md", "05_reliability.md", "06_scaling_and_backpressure.md", "07_measuring_honestly.md",
    "08_testing_the_variants.md",
]  # fmt: skip


def test_every_lesson_is_there():
    assert [lesson.name for lesson in LESSONS] == EXPECTED


def test_excerpts_numbers_and_tables_match_their_sources():
    failing = excerpts.failures(excerpts.check())
    assert not failing, "lessons drifted (fix with: python -m offload_lab.excerpts --sync):\n" + "\n".join(
        map(str, failing)
    )


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.name)
def test_relative_links_point_at_files_that_exist(lesson):
    text = lesson.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # links inside code are not links
    broken = []
    for match in LINK.finditer(text):
        target = match["target"].split("#")[0]
        if not target or re.match(r"^[a-z]+:", target):
            continue  # an anchor on the same page, or http:, mailto:
        if not (lesson.parent / target).exists():
            broken.append(match["target"])
    assert not broken, f"{lesson.name} links to missing files: {broken}"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.name)
def test_every_measured_number_names_the_reference_run(lesson):
    paragraphs = re.split(r"\n\s*\n", lesson.read_text(encoding="utf-8"))
    unnamed = [p[:80] for p in paragraphs if "<!-- ref:" in p and "results/reference" not in p]
    assert not unnamed, f"{lesson.name}: paragraphs quoting numbers must say they come from results/reference/"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.name)
def test_each_lesson_opens_with_goals_and_ends_with_an_exercise(lesson):
    headings = re.findall(r"^## (.+)$", lesson.read_text(encoding="utf-8"), flags=re.M)
    assert headings and headings[0] == "What you'll learn", f"{lesson.name}: first section must be the goals"
    assert headings[-1].startswith("Exercise"), f"{lesson.name}: last section must be the exercise"


# --- the tool itself, on a tiny lesson in a temporary project ---------------------------


@pytest.fixture
def project(tmp_path):
    (tmp_path / "lessons").mkdir()
    (tmp_path / "app.py").write_text(
        "import os\n\n\ndef handler():\n    # --8<-- [start:body]\n    return os.getcwd()\n    # --8<-- [end:body]\n"
    )
    return tmp_path


def write_lesson(project: Path, text: str) -> Path:
    lesson = project / "lessons" / "01.md"
    lesson.write_text(text)
    return lesson


def write_reference(project: Path, summary: dict) -> None:
    (project / "results" / "reference").mkdir(parents=True, exist_ok=True)
    (project / "results" / "reference" / "summary.json").write_text(json.dumps(summary))
    (project / "results" / "reference" / "table.md").write_text("| a | b |\n|---|---|\n| 1 | 2 |\n")


STALE = (
    "Intro.\n<!-- excerpt: app.py#body -->\n```python\nreturn 'old'\n```\n<!-- /excerpt -->\n"
    "Whole:\n<!-- excerpt: app.py -->\n```python\n```\n<!-- /excerpt -->\n"
    "p50 was <!-- ref: variants.queue.latency_ms.p50 -->?<!-- /ref --> ms, "
    "<!-- ref: scaling.workers=4.jobs_per_s -->?<!-- /ref --> jobs/s with 4 workers, "
    "<!-- ref: variants.queue.submitted -->?<!-- /ref --> jobs.\n"
    "<!-- include: results/reference/table.md -->\n<!-- /include -->\n"
)


def test_drift_is_found_with_its_line_and_sync_fixes_it(project):
    write_reference(project, {"variants": {"queue": {"latency_ms": {"p50": 4.2371}, "submitted": 3500}},
                              "scaling": [{"workers": 1, "jobs_per_s": 0.5}, {"workers": 4, "jobs_per_s": 1.96}]})  # fmt: skip
    lesson = write_lesson(project, STALE)
    problems = excerpts.check([lesson], root=project)
    assert [(p.line, p.kind) for p in problems] == [
        (2, "excerpt-drift"), (8, "excerpt-drift"),
        (12, "ref-drift"), (12, "ref-drift"), (12, "ref-drift"), (13, "include-drift"),
    ]  # fmt: skip
    changed, left = excerpts.sync([lesson], root=project)
    assert changed == [lesson] and left == []
    text = lesson.read_text()
    assert "```python\nreturn os.getcwd()\n```" in text  # the region, dedented, without its markers
    assert "def handler():\n    return os.getcwd()\n```" in text  # the whole file, without marker lines
    assert "-->4.24<!--" in text and "-->1.96<!--" in text and "-->3500<!--" in text
    assert "| 1 | 2 |" in text
    assert excerpts.check([lesson], root=project) == []


def test_a_definition_is_quoted_by_name_with_its_decorators(project):
    (project / "tests.py").write_text("import pytest\n\n\n@pytest.mark.slow\ndef test_it():\n    assert True\n\n\nx = 1\n")
    lesson = write_lesson(project, "<!-- excerpt: tests.py#py:test_it -->\n<!-- /excerpt -->\n")
    excerpts.sync([lesson], root=project)
    assert "```python\n@pytest.mark.slow\ndef test_it():\n    assert True\n```\n" in lesson.read_text()


def test_without_a_reference_run_numbers_are_reported_missing_not_drifted(project):
    lesson = write_lesson(project, STALE)
    kinds = {p.kind for p in excerpts.check([lesson], root=project)}
    assert kinds == {"excerpt-drift", "reference-missing"}
    excerpts.sync([lesson], root=project)
    assert "-->?<!-- /ref -->" in lesson.read_text()  # left alone until the reference run exists


def test_a_missing_reference_fails_only_once_it_is_committed(project, monkeypatch):
    lesson = write_lesson(project, "<!-- ref: baseline.health_rps -->?<!-- /ref -->\n")
    problems = excerpts.check([lesson], root=project)
    assert [p.kind for p in problems] == ["reference-missing"]
    monkeypatch.setattr(excerpts, "reference_committed", lambda root=None: False)
    assert excerpts.failures(problems) == []
    monkeypatch.setattr(excerpts, "reference_committed", lambda root=None: True)
    assert excerpts.failures(problems) == problems


def test_code_with_fences_gets_a_longer_fence(project):
    (project / "notes.md").write_text("```python\nx = 1\n```\n")
    lesson = write_lesson(project, "<!-- excerpt: notes.md -->\n<!-- /excerpt -->\n")
    excerpts.sync([lesson], root=project)
    assert "````markdown\n```python\nx = 1\n```\n````\n" in lesson.read_text()
    assert excerpts.check([lesson], root=project) == []


def test_the_command_exits_non_zero_on_drift(project, capsys):
    lesson = write_lesson(project, STALE)
    assert excerpts.main(["--check", str(lesson)]) == 1  # app.py is not in the real project: broken
    assert "01.md:2: broken" in capsys.readouterr().err


def test_broken_markers_are_reported(project):
    write_reference(project, {"variants": {}, "scaling": []})
    lesson = write_lesson(
        project,
        "<!-- excerpt: app.py#nope -->\n```python\n```\n<!-- /excerpt -->\n"
        "<!-- excerpt: gone.py -->\n```python\n```\n<!-- /excerpt -->\n"
        "<!-- ref: variants.nope.latency -->1<!-- /ref --> <!-- ref: scaling.2.jobs_per_s -->1<!-- /ref -->\n",
    )
    problems = excerpts.check([lesson], root=project)
    assert [p.kind for p in problems] == ["broken"] * 4
    assert "no region 'nope'" in problems[0].message and "no such file" in problems[1].message


@pytest.mark.parametrize(
    "value, text",
    [(1.4, "1.4"), (4.2371, "4.24"), (0.01234, "0.0123"), (2047.3, "2047"), (18000.0, "18000"), (3500, "3500"),
     (0, "0"), (0.0, "0"), (99.96, "100"), (12.0, "12")],
)  # fmt: skip
def test_numbers_get_three_significant_digits_and_counts_stay_whole(value, text):
    assert excerpts.format_number(value) == text


def test_paths_follow_keys_indexes_and_selectors():
    data = {"reliability": [{"variant": "queue", "signal": "SIGKILL", "acks_late": False, "lost": 3},
                            {"variant": "queue", "signal": "SIGKILL", "acks_late": True, "lost": 0}]}  # fmt: skip
    assert excerpts.lookup(data, "reliability.1.lost") == 0
    assert excerpts.lookup(data, "reliability.variant=queue,signal=SIGKILL,acks_late=false.lost") == 3
    with pytest.raises(excerpts.SourceError, match="matches 2 items"):
        excerpts.lookup(data, "reliability.variant=queue.lost")
    assert excerpts.schema_allows("reliability.variant=queue,acks_late=true.duplicates")
    assert not excerpts.schema_allows("variants.queue.latency_ms.p42")


def test_readme_shows_the_reference_table_as_committed():
    from offload_lab.excerpts import ROOT, check

    problems = [problem for problem in check([ROOT / "README.md"]) if problem.kind != "reference-missing"]
    assert not problems, "\n".join(map(str, problems))
