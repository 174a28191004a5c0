"""The generated dashboard in real headless Chromium (Debian's /usr/bin/chromium, via Playwright).

Checks what only a browser can: no console or page errors, every chart drawn with a real size,
no request leaves the file (offline), no script from the data runs, and the page fits a laptop
screen. A screenshot is saved in the test's tmp dir. Never downloads a browser.
"""

import json
from pathlib import Path

import pytest

from dashboards.html import write_dashboard
from tests.dashboards.reports import comparison, demo_documents, empty_report, strategy_report

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LAPTOP = {"width": 1366, "height": 768}
#: Each chart container and the size of what plotly drew in it.
_CHART_SIZES = """
() => Array.from(document.querySelectorAll('.chart')).map((el) => {
  const drawn = el.querySelector('svg.main-svg, canvas');
  const box = drawn ? drawn.getBoundingClientRect() : {width: 0, height: 0};
  return {id: el.id, width: box.width, height: box.height, marks: el.querySelectorAll(
    '.point, .bars path, .scatterlayer path').length};
})
"""


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found; run: bash scripts/install-system-deps.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """A page loaded from a file URL, with what went wrong recorded."""

    def __init__(self, browser, path: Path) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.context = browser.new_context(viewport=LAPTOP)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("dialog", self._dialog)
        self.page.goto(path.resolve().as_uri(), wait_until="load")

    def _route(self, route):
        url = route.request.url
        if url.startswith("file://"):
            route.continue_()
        else:
            self.requests.append(url)
            route.abort()

    def _console(self, message):
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def wait_for_charts(self, count: int) -> list[dict]:
        self.page.wait_for_function(
            f"document.querySelectorAll('.chart svg.main-svg').length >= {count}", timeout=20_000
        )
        return self.page.evaluate(_CHART_SIZES)

    def close(self) -> None:
        self.context.close()


def _write(tmp_path: Path, documents, name: str) -> Path:
    paths = []
    for index, document in enumerate(documents):
        path = tmp_path / f"{name}-{index}.json"
        path.write_text(json.dumps(document))
        paths.append(path)
    return write_dashboard(paths, tmp_path / f"{name}.html", title="Browser test")


def test_demo_dashboard_renders_every_chart_without_errors(browser, tmp_path):
    visit = Visit(browser, _write(tmp_path, demo_documents(), "demo"))
    try:
        charts = visit.wait_for_charts(4)
        assert [c["id"] for c in charts] == [
            "chart-break-rate",
            "chart-breaks-by-event",
            "chart-breaks-over-time",
            "chart-threads-per-session",
        ]
        for chart in charts:
            assert chart["width"] > 0 and chart["height"] > 0, chart
            assert chart["marks"] > 0, f"{chart['id']} drew no bars or points"
        screenshot = tmp_path / "dashboard.png"
        visit.page.screenshot(path=str(screenshot), full_page=True)
        assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert visit.errors == []
        assert visit.requests == [], "the page must not fetch anything"
    finally:
        visit.close()


def test_page_fits_a_laptop_screen_width(browser, tmp_path):
    visit = Visit(browser, _write(tmp_path, demo_documents(), "demo"))
    try:
        visit.wait_for_charts(4)
        width = visit.page.evaluate("document.documentElement.scrollWidth")
        assert width <= LAPTOP["width"]
        assert visit.errors == []
    finally:
        visit.close()


#: Per chart: its drawing's box, and each x tick label's and the x axis title's.
_X_LABEL_BOXES = """
() => Array.from(document.querySelectorAll('.chart')).map((el) => {
  const box = (node) => { const r = node.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const svg = el.querySelector('svg.main-svg');
  const title = el.querySelector('.xtitle');
  const legend = el.querySelector('.legend');
  const modebar = el.querySelector('.modebar');
  return {id: el.id, svg: box(svg), title: title ? box(title) : null,
          ticks: Array.from(el.querySelectorAll('.xtick text')).map(box),
          legend: legend ? box(legend) : null, modebar: modebar ? box(modebar) : null};
})
"""


def _inside(inner: dict, outer: dict) -> bool:
    return all(
        (inner[a] >= outer[a] - 0.5) if a in ("left", "top") else (inner[a] <= outer[a] + 0.5)
        for a in ("left", "right", "top", "bottom")
    )


def _overlap(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and (b["top"] < a["bottom"])
    )


def test_axis_labels_are_whole_and_clear_of_the_axis_title(browser, tmp_path):
    """Long input labels (`rollout 1.0.0 before`) are tilted: the chart makes room for them
    (they were cut at the bottom, under the axis title); the mode bar covers no legend."""
    rollout = [  # as `quality demo` labels its rollout: by version, `before`/`after` added
        strategy_report("mint", label="rollout 1.0.0", users=3),
        strategy_report("resume", label="rollout 1.1.0", users=3),
    ]
    documents = [*demo_documents()[:3], comparison(*rollout)]
    visit = Visit(browser, _write(tmp_path, documents, "demo"))
    try:
        visit.wait_for_charts(4)
        for chart in visit.page.evaluate(_X_LABEL_BOXES):
            assert chart["ticks"], chart["id"]
            for tick in chart["ticks"]:
                assert _inside(tick, chart["svg"]), (chart["id"], tick, chart["svg"])
                assert chart["title"] is None or not _overlap(tick, chart["title"]), chart["id"]
            if chart["legend"] and chart["modebar"]:  # the mode bar hid legend entries
                assert not _overlap(chart["legend"], chart["modebar"]), chart["id"]
        assert visit.errors == []
    finally:
        visit.close()


def test_empty_report_shows_no_data_notes_without_errors(browser, tmp_path):
    visit = Visit(browser, _write(tmp_path, [empty_report("quiet")], "empty"))
    try:
        visit.page.wait_for_load_state("load")
        notes = visit.page.locator(".nodata").all_inner_texts()
        assert len(notes) == 4 and all(note.startswith("No data") for note in notes)
        assert visit.page.locator(".chart").count() == 0
        visit.page.screenshot(path=str(tmp_path / "empty.png"))
        assert visit.errors == []
    finally:
        visit.close()


def test_script_in_the_data_does_not_run(browser, tmp_path):
    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    raw = strategy_report("mint", label=hostile)
    raw["by_event"][0]["event"] = hostile
    raw["break_examples"][0]["actual_thread"] = "</script><script>alert(3)</script>"
    visit = Visit(browser, _write(tmp_path, [raw], "hostile"))
    try:
        visit.wait_for_charts(4)
        assert visit.dialogs == []
        assert visit.page.locator("h1").inner_text() == "Browser test"
        assert hostile in visit.page.locator("#headline").inner_text()
        assert visit.errors == []
    finally:
        visit.close()
