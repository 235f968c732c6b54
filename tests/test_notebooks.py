"""The five notebooks: committed clean, and each runs top to bottom on the quick profile.

Each notebook is executed with nbclient in a fresh kernel (the interpreter running
pytest, i.e. the project's .venv), with notebooks/ as the working directory. Like
papermill, the test inserts an "injected-parameters" cell right after the cell
tagged `parameters`; it sets RESULTS_DIR to a temp dir, so a test run writes nothing
under the project's results/ (a student's run, with RESULTS_DIR = None, does).
"""
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = ROOT / "notebooks"
NOTEBOOKS = ("01_event_loop", "02_latency", "03_reliability", "04_throughput", "05_comparison_table")
CELL_TIMEOUT = 300  # seconds per cell; the quick profile needs well under 2 minutes per notebook
NOTEBOOK_TIMEOUT = 600  # pytest-timeout for a whole notebook, kernel start included
QUICK = re.compile(r'^PROFILE\s*=\s*"quick"', re.MULTILINE)


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)


def parameters_index(notebook: nbformat.NotebookNode) -> int:
    tagged = [index for index, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, f"expected exactly one cell tagged 'parameters', found {len(tagged)}"
    return tagged[0]


def test_the_five_notebooks_are_there():
    assert sorted(path.stem for path in NOTEBOOKS_DIR.glob("*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_without_outputs_and_with_quick_parameters(name):
    notebook = read(name)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: a code cell has outputs; clear them before committing"
            assert cell.execution_count is None, f"{name}: a code cell has an execution count"
    parameters = notebook.cells[parameters_index(notebook)]
    assert parameters.cell_type == "code"
    assert QUICK.search(parameters.source), f"{name}: the parameters cell must set PROFILE = \"quick\""
    assert notebook.cells[0].cell_type == "markdown" and "../lessons/" in notebook.cells[0].source, (
        f"{name}: the first cell states the goals and links the lesson"
    )
    sources = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert not re.search(r"^\s*(import locust|from locust)", sources, re.MULTILINE), "never import locust in a notebook"


def execute(name: str, out_dir: Path) -> nbformat.NotebookNode:
    """Run a notebook with RESULTS_DIR = out_dir/results; save and return the executed copy."""
    notebook = read(name)
    injected = nbformat.v4.new_code_cell(f'PROFILE = "quick"\nRESULTS_DIR = {str(out_dir / "results")!r}')
    injected.metadata["tags"] = ["injected-parameters"]
    notebook.cells.insert(parameters_index(notebook) + 1, injected)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS_DIR)}})  # fmt: skip
    try:
        client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error
    finally:
        nbformat.write(notebook, out_dir / f"{name}.ipynb")
    return notebook


# The longest notebook runs in a process of its own while the others run here, so
# that the suite waits for the slowest one, not for the sum of all five.
IN_BACKGROUND = "05_comparison_table"


@pytest.fixture(scope="module")
def background_run(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp(IN_BACKGROUND)
    process = subprocess.Popen([sys.executable, __file__, IN_BACKGROUND, str(out_dir)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    yield process, out_dir
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.mark.timeout(NOTEBOOK_TIMEOUT)
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(name, tmp_path, background_run):
    if name == IN_BACKGROUND:
        process, tmp_path = background_run
        output, _ = process.communicate(timeout=NOTEBOOK_TIMEOUT)
        assert process.returncode == 0, f"{name} failed:\n{output[-5000:]}"
        notebook = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4)
    else:
        notebook = execute(name, tmp_path)
    errors = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
              if output.output_type == "error"]  # fmt: skip
    assert not errors
    assert any((tmp_path / "results").rglob("*.png")), "the notebook drew no chart under RESULTS_DIR"
    assert not (NOTEBOOKS_DIR / "results").exists(), "results must not land inside notebooks/"
    if name == "05_comparison_table":
        shown = [output.data.get("text/markdown", "") for cell in notebook.cells if cell.cell_type == "code"
                 for output in cell.outputs if output.output_type == "display_data"]  # fmt: skip
        (run_dir,) = [path.parent for path in (tmp_path / "results").glob("*/summary.json")
                      if not path.parent.is_symlink()]  # results/latest points at the same run
        assert any(text.startswith("| Approach |") and run_dir.name in text for text in shown), (
            "notebook 05 shows the table of the run it just made"
        )
        assert_complete_run_folder(run_dir)


def assert_complete_run_folder(run_dir: Path) -> None:
    """What `reproduce --profile quick` must leave: a valid summary, the table, charts that decode."""
    from PIL import Image

    from offload_lab import charts, results

    summary = results.validate_summary(results.load_summary(run_dir))
    assert summary["profile"] == "quick" and summary["reliability"]
    assert (run_dir / "table.md").read_text().startswith("| Approach |")
    provenance = (run_dir / "provenance.json").read_text()
    assert '"git_commit"' in provenance and '"cpu_count"' in provenance
    for name in charts.CHART_FILES.values():
        with Image.open(run_dir / name) as chart:
            chart.verify()  # a real PNG, not just a file
    assert (run_dir.parent / "latest").resolve() == run_dir.resolve()


def test_latency_runs_a_subset_of_variants_by_name(tmp_path):
    from offload_lab.experiments import latency

    with pytest.raises(ValueError, match="unknown variants"):
        latency.run("quick", tmp_path, variants=["blocking_await", "no_such_variant"])


if __name__ == "__main__":  # used by background_run: python tests/test_notebooks.py NAME OUT_DIR
    execute(sys.argv[1], Path(sys.argv[2]))
