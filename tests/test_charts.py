"""Charts: every chart writes a PNG that decodes, with or without data, and pyplot is never touched."""
import subprocess
import sys
from pathlib import Path

import pytest
from fake_results import FAKE_BACKLOG, FAKE_HISTORY, FAKE_RELIABILITY, fake_summary
from PIL import Image

from offload_lab import charts

SIZE = (charts.FIGURE_SIZE[0] * charts.DPI, charts.FIGURE_SIZE[1] * charts.DPI)


def assert_png(path: Path) -> None:
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == SIZE
        image.load()  # decodes every pixel, not just the header
        extrema = image.convert("L").getextrema()
    assert extrema[0] < extrema[1], f"{path.name} is a blank image"


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    return charts.draw_all(run_dir, fake_summary(reliability=FAKE_RELIABILITY), FAKE_HISTORY, FAKE_BACKLOG)


@pytest.fixture(scope="module")
def drawn_empty(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("empty")
    return charts.draw_all(run_dir, fake_summary(scaling=[], reliability=[], cpu_bound=[]))


def test_every_chart_is_drawn_under_its_file_name(drawn):
    assert set(drawn) == set(charts.CHART_FILES)
    for name, path in drawn.items():
        assert path.name == charts.CHART_FILES[name]
        assert_png(path)


def test_charts_without_data_still_decode(drawn_empty):
    for path in drawn_empty.values():
        assert_png(path)


def test_empty_reliability_chart_differs_from_a_measured_one(drawn, drawn_empty):
    assert drawn["reliability"].read_bytes() != drawn_empty["reliability"].read_bytes()


@pytest.mark.parametrize(
    "draw",
    [
        lambda path: charts.latency_chart(fake_summary()["variants"], path),
        lambda path: charts.bystander_chart({"queue": FAKE_HISTORY["queue"]}, path),
        lambda path: charts.bystander_chart(  # Locust writes N/A before the first answer
            {"queue": [{"t": 0, "name": "/health", "p50": None, "p99": None}, {"t": 1, "p50": 2.0, "p99": 5.0}]}, path
        ),
        lambda path: charts.throughput_chart({"queue": {"accepted_rps": 0.0}}, path),  # zero on a log axis
        lambda path: charts.scaling_chart([{"workers": 1, "jobs_per_s": 0.5}], path),  # one point
        lambda path: charts.cpu_chart([{"worker_type": "process", "workers": 1, "jobs_per_s": 4.0}], path, 2),
        lambda path: charts.backlog_chart([{"t": 0, "depth": 0}], path),
        lambda path: charts.reliability_chart(FAKE_RELIABILITY[:1], path),
        lambda path: charts.latency_chart({}, path),
        lambda path: charts.bystander_chart({"queue": []}, path),
        lambda path: charts.cpu_chart([], path, 2),
        lambda path: charts.backlog_chart([], path),
    ],
)
def test_each_chart_returns_its_path_on_edge_data(tmp_path, draw):
    path = tmp_path / "nested" / "chart.png"
    assert draw(path) == path
    assert_png(path)


def test_charts_never_import_pyplot(tmp_path):
    script = (
        "import sys; sys.path.insert(0, 'tests');"
        "from fake_results import fake_summary; from offload_lab import charts;"
        f"charts.draw_all({str(tmp_path)!r}, fake_summary());"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
