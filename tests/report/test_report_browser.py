"""The release report opened in headless Chromium from disk: expected section headings, at least one plot (svg) per
section, no console errors, no request beyond the file itself, and a full-page screenshot under target/.
Skips when no Chromium is installed (`.ci/run` installs Debian's `chromium`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cdp import Browser, find_chromium
from report_fixtures import CAP, KEY

from dpsynth_core.report import SECTION_TITLES, evidence_from_rows, write_release_report

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "target"

PAGE_FACTS = """JSON.stringify({
  headings: [...document.querySelectorAll('section > h2')].map(h => h.textContent),
  svgs: [...document.querySelectorAll('section')].map(s => [s.id, s.querySelectorAll('svg').length,
         [...s.querySelectorAll('svg')].filter(g => g.getBoundingClientRect().width > 0).length]),
  scripts: document.scripts.length,
  images: document.images.length,
  title: document.title,
  height: document.documentElement.scrollHeight
})"""


@pytest.fixture(scope="module")
def chromium():
    path = find_chromium()
    if path is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return path


def test_report_renders_in_headless_chromium(ledger_db, chromium):
    evidence = evidence_from_rows(ledger_db.release_id, ledger_db.ledger_rows, {KEY: CAP}, ledger_db.metric_rows,
                                  ledger_db.details, metrics_location="main.dpsynth_metrics")
    paths = write_release_report(evidence, TARGET / "dpsynth-report-test")
    url = paths["html"].resolve().as_uri()
    with Browser(chromium) as browser:
        browser.open(url)
        facts = json.loads(browser.evaluate(PAGE_FACTS))
        browser.screenshot(str(TARGET / "report_screenshot.png"))
        errors, urls = browser.errors(), browser.requested_urls()
    assert facts["headings"] == list(SECTION_TITLES)
    for section, n_svg, n_drawn in facts["svgs"]:
        assert n_svg >= 1 and n_drawn >= 1, f"section {section} has no drawn plot"
    assert facts["scripts"] == 0 and facts["images"] == 0 and facts["title"].startswith("Release evidence")
    assert errors == []
    assert urls == [url]                      # the page itself, nothing else
    shot = (TARGET / "report_screenshot.png").read_bytes()
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 50_000


def test_a_page_that_tries_the_network_is_caught(chromium, tmp_path):
    """The checks above can fail: an external image shows up as a request, a console.error as an error."""
    page = tmp_path / "leaky.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://198.51.100.1/x.png">'
                    "<script>console.error('boom')</script></body></html>")
    with Browser(chromium) as browser:
        browser.open(page.as_uri())
        errors, urls = browser.errors(), browser.requested_urls()
    assert urls[0] == page.as_uri() and "http://198.51.100.1/x.png" in urls
    assert any("boom" in e for e in errors)
