"""Keep the lessons true to the code and to the reference run.

    python -m offload_lab.excerpts --check   # list every drifted excerpt, number and table; exit 1 if any
    python -m offload_lab.excerpts --sync    # rewrite them from the sources and from results/reference/

A lesson never holds a hand-copied line of code or a typed-in measurement.
Three kinds of marker tie its text to a source of truth:

1. A code excerpt, copied from a real file:

       <!-- excerpt: demo_app/routes/queued.py#enqueue -->
       ```python
       ...
       ```
       <!-- /excerpt -->

   `#enqueue` names a region of the source file, written there as two comment lines
   `# --8<-- [start:enqueue]` and `# --8<-- [end:enqueue]`. Without `#NAME` the excerpt
   is the whole file; `#py:NAME` (or `#py:Class.method`) is a function or class found
   by name, for files without markers such as the tests. Marker lines never appear
   in an excerpt, and a region is dedented, so lines from inside a function read as
   plain code.

2. A number from the reference run (a dotted path into results/reference/summary.json):

       <!-- ref: variants.queue.latency_ms.p50 -->4.2<!-- /ref -->

   A path segment is a key, a list index (`scaling.2.jobs_per_s`) or a selector that
   picks the one list item whose fields match (`scaling.workers=4.jobs_per_s`,
   `reliability.variant=queue,signal=SIGKILL,acks_late=false.lost`). Floats are
   written with 3 significant digits (whole numbers from 100 up), integers as they are.

3. A whole file pasted in, e.g. the measured table:

       <!-- include: results/reference/table.md -->
       ...
       <!-- /include -->

Until results/reference/summary.json exists, numbers and includes from
results/reference/ cannot be checked: `check` reports them as "reference run
missing" (kind `reference-missing`), which fails `--check` and tests/test_lessons.py
only once results/reference/summary.json is in git. After committing a reference
run, run `--sync` to fill in every number and table.
"""
import argparse
import ast
import json
import math
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LESSONS_DIR = ROOT / "lessons"
REFERENCE_DIR = Path("results/reference")
REFERENCE_SUMMARY = REFERENCE_DIR / "summary.json"
PLACEHOLDER = "?"  # what a number shows before the reference run exists
SIGNIFICANT_DIGITS = 3

REGION_MARKER = re.compile(r"^\s*#\s*--8<--\s*\[(?P<kind>start|end):(?P<name>[\w-]+)\]\s*$")
EXCERPT = re.compile(
    r"(?P<open><!-- excerpt: (?P<source>[^\s#]+)(?:#(?P<region>[\w.:-]+))? -->\n)(?P<body>.*?)(?P<close><!-- /excerpt -->)",
    re.S,
)
REF = re.compile(r"(?P<open><!-- ref: (?P<path>[^\s]+) -->)(?P<value>.*?)(?P<close><!-- /ref -->)")
INCLUDE = re.compile(r"(?P<open><!-- include: (?P<source>[^\s]+) -->\n)(?P<body>.*?)(?P<close><!-- /include -->)", re.S)

DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
FENCE_LANGUAGES = {".py": "python", ".toml": "toml", ".md": "markdown", ".json": "json", ".sh": "bash", "": "text"}


@dataclass
class Problem:
    lesson: Path
    line: int
    kind: str  # excerpt-drift | ref-drift | include-drift | reference-missing | broken
    message: str

    def __str__(self) -> str:
        return f"{_shown(self.lesson)}:{self.line}: {self.kind}: {self.message}"


class SourceError(ValueError):
    """A marker points at something that does not exist (file, region, key)."""


# --- code excerpts -----------------------------------------------------------------
def read_region(path: Path, region: str | None) -> str:
    """The text of `region` in `path` (the whole file without `region`), marker lines left out."""
    if not path.is_file():
        raise SourceError(f"no such file: {_shown(path)}")
    lines = path.read_text(encoding="utf-8").splitlines()
    if region is not None and region.startswith("py:"):
        return read_definition(path, region.removeprefix("py:"))
    if region is None:
        return "\n".join(line for line in lines if not REGION_MARKER.match(line)).strip("\n") + "\n"
    inside, taken, found = False, [], False
    for number, line in enumerate(lines, start=1):
        marker = REGION_MARKER.match(line)
        if marker and marker["name"] == region:
            if marker["kind"] == "start":
                if found:
                    raise SourceError(f"{_shown(path)}:{number}: region {region!r} starts twice")
                inside = found = True
            else:
                inside = False
            continue
        if inside and not marker:
            taken.append(line)
    if not found:
        raise SourceError(f"{_shown(path)} has no region {region!r} (# --8<-- [start:{region}])")
    if inside:
        raise SourceError(f"{_shown(path)}: region {region!r} has no end marker")
    return textwrap.dedent("\n".join(taken)).strip("\n") + "\n"


def read_definition(path: Path, qualname: str) -> str:
    """A function or class, decorators included, found by name (`Class.method` for a method).

    For quoting files that carry no markers, such as the tests: `#py:test_name`.
    """
    source = path.read_text(encoding="utf-8")
    scope = ast.parse(source).body
    node = None
    for name in qualname.split("."):
        node = next((n for n in scope if isinstance(n, DEFINITIONS) and n.name == name), None)
        if node is None:
            raise SourceError(f"{_shown(path)} defines no {qualname!r}")
        scope = node.body
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    lines = source.splitlines()[first - 1 : node.end_lineno]
    return textwrap.dedent("\n".join(line for line in lines if not REGION_MARKER.match(line))).strip("\n") + "\n"


def fenced(code: str, source: Path) -> str:
    language = FENCE_LANGUAGES.get(source.suffix, "text")
    longest = max((len(run) for run in re.findall(r"`{3,}", code)), default=2)
    fence = "`" * max(3, longest + 1)  # longer than any fence inside the code
    return f"{fence}{language}\n{code}{fence}\n"


# --- numbers from the reference run ------------------------------------------------
def lookup(data, path: str):
    """Follow a dotted path (keys, list indexes, `field=value,...` selectors) into `data`."""
    value = data
    for segment in path.split("."):
        if isinstance(value, list):
            value = _list_item(value, segment, path)
        elif isinstance(value, dict):
            if segment not in value:
                raise SourceError(f"{path}: no key {segment!r} (there are: {', '.join(map(str, value))})")
            value = value[segment]
        else:
            raise SourceError(f"{path}: {segment!r} goes past a plain value")
    return value


def _list_item(items: list, segment: str, path: str):
    if segment.isdigit():
        if int(segment) >= len(items):
            raise SourceError(f"{path}: index {segment} is past the end of a list of {len(items)}")
        return items[int(segment)]
    wanted = dict(part.split("=", 1) for part in segment.split(",") if "=" in part)
    if not wanted or len(wanted) != len(segment.split(",")):
        raise SourceError(f"{path}: {segment!r} is neither an index nor a field=value selector")
    matches = [item for item in items if all(_same(item.get(key), text) for key, text in wanted.items())]
    if len(matches) != 1:
        raise SourceError(f"{path}: selector {segment!r} matches {len(matches)} items, not 1")
    return matches[0]


def _same(value, text: str) -> bool:
    if isinstance(value, bool):
        return str(value).lower() == text.lower()
    return str(value) == text


def format_number(value) -> str:
    """Counts as they are; other numbers with 3 significant digits, but never rounded into tens (2047.3 -> 2047)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SourceError(f"{value!r} is not a number")
    if isinstance(value, int):
        return str(value)
    if value == 0:
        return "0"
    decimals = SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(abs(value)))
    rounded = round(value, max(decimals, 0))
    if decimals <= 0 or rounded.is_integer():
        return str(round(rounded))
    return f"{rounded:.{decimals}f}".rstrip("0").rstrip(".")


def schema_allows(path: str) -> bool:
    """Does `path` name a place the summary.json contract (offload_lab.results) defines?"""
    from offload_lab.results import SUMMARY_SCHEMA

    schema = SUMMARY_SCHEMA
    for segment in path.split("."):
        if schema.get("type") == "array":
            if not (segment.isdigit() or "=" in segment):
                return False
            schema = schema.get("items", {})
        elif segment in schema.get("properties", {}):
            schema = schema["properties"][segment]
        elif isinstance(schema.get("additionalProperties"), dict):
            schema = schema["additionalProperties"]
        else:
            return False
    return True


# --- one lesson ----------------------------------------------------------------------
def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _is_reference(source: str) -> bool:
    return Path(source).parts[: len(REFERENCE_DIR.parts)] == REFERENCE_DIR.parts


def process(text: str, lesson: Path, root: Path = ROOT) -> tuple[str, list[Problem]]:
    """Return the lesson with every marker brought up to date, and what was out of date or broken."""
    problems: list[Problem] = []
    summary_path = root / REFERENCE_SUMMARY
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else None

    def problem(match: re.Match, kind: str, message: str) -> None:
        problems.append(Problem(lesson, _line_of(text, match.start()), kind, message))

    def excerpt(match: re.Match) -> str:
        source = root / match["source"]
        label = match["source"] + (f"#{match['region']}" if match["region"] else "")
        try:
            body = fenced(read_region(source, match["region"]), source)
        except SourceError as error:
            problem(match, "broken", str(error))
            return match[0]
        if body != match["body"]:
            problem(match, "excerpt-drift", f"{label} differs from its source (run --sync)")
        return match["open"] + body + match["close"]

    def include(match: re.Match) -> str:
        source = root / match["source"]
        if not source.is_file():
            if _is_reference(match["source"]):
                problem(match, "reference-missing", f"reference run missing: {match['source']}")
            else:
                problem(match, "broken", f"no such file: {match['source']}")
            return match[0]
        body = source.read_text(encoding="utf-8").strip("\n") + "\n"
        if body != match["body"]:
            problem(match, "include-drift", f"{match['source']} differs from the lesson's copy (run --sync)")
        return match["open"] + body + match["close"]

    def ref(match: re.Match) -> str:
        path = match["path"]
        if not schema_allows(path):
            problem(match, "broken", f"{path}: not a field of summary.json (see offload_lab/results.py)")
            return match[0]
        if summary is None:
            problem(match, "reference-missing", f"reference run missing: {REFERENCE_SUMMARY} (for {path})")
            return match[0]
        try:
            value = format_number(lookup(summary, path))
        except SourceError as error:
            problem(match, "broken", f"{REFERENCE_SUMMARY}: {error}")
            return match[0]
        if value != match["value"]:
            problem(match, "ref-drift", f"{path} is {value} in {REFERENCE_SUMMARY}, the lesson says {match['value']!r}")
        return match["open"] + value + match["close"]

    # One pass over the original text, so that every problem carries its line in the file as it is.
    handlers = [(EXCERPT, excerpt), (INCLUDE, include), (REF, ref)]
    found = sorted(((m, handle) for pattern, handle in handlers for m in pattern.finditer(text)), key=lambda f: f[0].start())
    pieces, position = [], 0
    for match, handle in found:
        if match.start() < position:
            continue  # a marker inside another block's text (e.g. an excerpt quoting a marker) is left alone
        pieces += [text[position : match.start()], handle(match)]
        position = match.end()
    pieces.append(text[position:])
    problems.sort(key=lambda p: p.line)
    return "".join(pieces), problems


# --- every lesson ----------------------------------------------------------------------
def lesson_files(lessons_dir: Path = LESSONS_DIR) -> list[Path]:
    return sorted(lessons_dir.glob("*.md"))


def check(lessons: list[Path] | None = None, root: Path = ROOT) -> list[Problem]:
    """Every problem in `lessons` (default: lessons/*.md); the files are not changed."""
    problems = []
    for lesson in lesson_files(root / "lessons") if lessons is None else lessons:
        problems += process(lesson.read_text(encoding="utf-8"), lesson, root)[1]
    return problems


def sync(lessons: list[Path] | None = None, root: Path = ROOT) -> tuple[list[Path], list[Problem]]:
    """Rewrite what drifted; return the files changed and the problems `sync` cannot fix."""
    changed, left = [], []
    for lesson in lesson_files(root / "lessons") if lessons is None else lessons:
        text = lesson.read_text(encoding="utf-8")
        new_text, problems = process(text, lesson, root)
        if new_text != text:
            lesson.write_text(new_text, encoding="utf-8")
            changed.append(lesson)
        left += [p for p in problems if p.kind in ("broken", "reference-missing")]
    return changed, left


def reference_committed(root: Path = ROOT) -> bool:
    """Is the reference run in git? Then a missing summary.json is an error, not a wait."""
    done = subprocess.run(
        ["git", "ls-files", "--error-unmatch", str(REFERENCE_SUMMARY)], cwd=root, capture_output=True, check=False
    )
    return done.returncode == 0


def failures(problems: list[Problem], root: Path = ROOT) -> list[Problem]:
    """The problems that fail a check: all of them, but "reference run missing" only once it is committed."""
    strict = reference_committed(root)
    return [p for p in problems if p.kind != "reference-missing" or strict]


def _shown(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offload_lab.excerpts", description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="list drifted excerpts, numbers and includes; exit 1 if any")
    action.add_argument("--sync", action="store_true", help="rewrite them from the sources and the reference run")
    parser.add_argument("lessons", nargs="*", type=Path, help="lesson files (default: lessons/*.md)")
    args = parser.parse_args(argv)
    lessons = [path.resolve() for path in args.lessons] or None
    if args.sync:
        changed, problems = sync(lessons)
        for path in changed:
            print(f"synced {_shown(path)}")
    else:
        problems = check(lessons)
    failing = failures(problems)
    for problem in problems:
        print(problem if problem in failing else f"{problem} (not committed yet: not an error)", file=sys.stderr)
    if not failing:
        print("lessons are in sync with the code" + (" and the reference run" if not problems else ""))
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
