"""The HTML report opened in Debian's Chromium through Playwright: every chart is drawn, nothing is
fetched from outside; the screenshot is kept as docs/report-screenshot.png.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playwright import sync_api
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from cli import app
from tests.browser_fixtures import _unavailable
from tests.test_report_campaign import seed

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DOCS = Path(__file__).parent.parent / "docs"


def test_the_html_report_renders_every_chart_in_chromium(store: Engine, db_url: str, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        _unavailable("Debian's chromium is not installed")
    seed(store)
    out = tmp_path / "autumn.html"
    result = CliRunner().invoke(app, ["--db", db_url, "report", "campaign", "autumn", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.goto(out.as_uri())
        charts = page.locator("figure[data-chart] svg")
        assert charts.count() == 5
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 100
        assert page.locator("table").count() == 7
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert shot.stat().st_size > 10_000
    if os.environ.get("DIALER_UPDATE_SCREENSHOT"):
        shutil.copyfile(shot, DOCS / "report-screenshot.png")
