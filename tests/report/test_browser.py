"""report.html in a real browser: Debian's headless Chromium, driven through chromium-driver.

One real ``auditor run`` of a tiny seeded spec (an MLP, a performance and a fairness
criterion, charts) writes the report; Chromium opens it as file:// and the tests assert what
a reader relies on: no console errors, no request other than the file itself, every chart
visible, every section folds and unfolds, every in-page link lands on an element, and the
page prints to a PDF that keeps a folded section. A screenshot of the first screen is saved
under the test's tmp folder.

Skipped, with the reason, only where Chromium is absent (.ci/run installs Debian's
``chromium`` and ``chromium-driver``).
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None or DRIVER is None,
        reason="Debian's chromium and chromium-driver are not installed "
        "(apt-get install chromium chromium-driver; .ci/run installs them)",
    ),
    # one worker runs them all (make test: --dist loadgroup): one run, one browser
    pytest.mark.xdist_group("browser"),
]
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (the dev extra)")

# without these Chromium reaches for the network (updates, sync, field trials)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """report.html of a real run: a small MLP on a seeded problem, judged on fairness too."""
    from auditor.cli import main
    from tests.tuning.tuning_data import problem, spec_values, write_spec

    work = tmp_path_factory.mktemp("browser-run")
    values = spec_values()
    del values["tuning"]
    values["evaluation"] = {"bootstrap": 50, "learning_curve": {"enabled": False}}
    values["acceptance"] = [
        {"metric": "roc_auc", "split": "test", "at_least": 0.7},
        {"metric": "demographic_parity_difference", "sensitive": "sex", "at_most": 0.3},
    ]
    spec = write_spec(work, values, frame=problem(rows=600, seed=2))
    out = work / "out"
    code = main(["run", str(spec), "--out", str(out), "--quiet"])
    assert code in (0, 1, 3), code
    return out / "report.html"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # the driver's path is given, so Selenium Manager never looks for (or downloads) one
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(browser, report):
    """The report loaded, with what the browser logged while loading it."""
    browser.get("about:blank")
    browser.get_log("browser"), browser.get_log("performance")  # drop the start page's
    url = report.resolve().as_uri()
    browser.get(url)
    browser.execute_script("return document.readyState")  # load event fired (get waits)
    events = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
    return {"url": url, "console": browser.get_log("browser"), "events": events}


def test_the_page_loads_without_console_errors(page):
    assert page["console"] == [], page["console"]


def test_the_page_requests_nothing_but_itself(page):
    requested = [
        e["params"]["request"]["url"]
        for e in page["events"]
        if e["method"] == "Network.requestWillBeSent"
    ]
    assert requested == [page["url"]]
    assert not [e for e in page["events"] if e["method"] == "Network.loadingFailed"]


def _open_all(browser) -> None:
    browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")


def test_every_chart_is_visible(browser, page):
    _open_all(browser)
    charts = browser.execute_script(
        """return [...document.querySelectorAll('figure.chart')].map(f => {
             const svg = f.querySelector('svg'), box = svg && svg.getBoundingClientRect();
             return {kind: f.dataset.kind, svg: !!svg,
                     w: box ? box.width : 0, h: box ? box.height : 0,
                     shown: svg ? getComputedStyle(svg).visibility : null};
           })"""
    )
    assert len(charts) >= 5, charts  # page one's, fit, performance and fairness charts
    assert all(c["svg"] for c in charts), charts
    assert all(c["w"] > 50 and c["h"] > 50 and c["shown"] == "visible" for c in charts), charts
    images = browser.execute_script(
        "return [...document.images].map(i => [i.src.slice(0, 60), i.naturalWidth, i.width])"
    )
    assert all(natural > 0 and width > 0 for _, natural, width in images), images


def test_every_section_folds_and_unfolds(browser, page):
    from selenium.webdriver.common.by import By

    _open_all(browser)
    folds = browser.find_elements(By.CSS_SELECTOR, "section.section > details.fold")
    sections = browser.find_elements(By.CSS_SELECTOR, "section.section")
    assert len(folds) == len(sections) >= 5  # data, fit, performance, fairness, appendix
    for fold in folds:
        summary = fold.find_element(By.CSS_SELECTOR, ":scope > summary")
        lead = fold.find_element(By.CSS_SELECTOR, ":scope > p")
        assert fold.get_attribute("open") is not None and lead.is_displayed()
        browser.execute_script("arguments[0].scrollIntoView()", summary)
        summary.click()
        assert fold.get_attribute("open") is None, summary.text
        assert not lead.is_displayed() and summary.is_displayed()
        summary.click()
        assert fold.get_attribute("open") is not None and lead.is_displayed()


def test_every_link_inside_the_page_lands_on_an_element(browser, page):
    from selenium.webdriver.common.by import By

    _open_all(browser)
    targets = browser.execute_script(
        """return [...document.querySelectorAll('a[href^="#"]')].map(a => {
             const id = decodeURIComponent(a.getAttribute('href').slice(1));
             return [id, !!document.getElementById(id)];
           })"""
    )
    assert len(targets) >= 5  # the contents, and the checks' rows
    assert [t for t, found in targets if not found] == []
    link = browser.find_element(By.CSS_SELECTOR, 'nav.toc a[href="#appendix"]')
    browser.execute_script("arguments[0].scrollIntoView()", link)
    link.click()
    assert browser.execute_script("return location.hash") == "#appendix"
    top = browser.execute_script(
        "return document.getElementById('appendix').getBoundingClientRect().top"
    )
    assert abs(top) < 5  # scrolled to it


def test_the_page_prints_whole_with_a_section_folded(browser, page):
    from pypdf import PdfReader
    from selenium.webdriver.common.by import By

    _open_all(browser)
    fairness = browser.find_element(By.CSS_SELECTOR, "#sec-fairness > details.fold")
    lead = fairness.find_element(By.CSS_SELECTOR, ":scope > p.lead").text
    browser.execute_script("arguments[0].open = false", fairness)
    printed = browser.execute_cdp_cmd("Page.printToPDF", {"printBackground": True})
    pdf = base64.b64decode(printed["data"])
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in reader.pages))
    assert len(reader.pages) >= 3
    verdict = browser.find_element(By.CSS_SELECTOR, ".banner-word").text.split()[-1]
    assert verdict in text
    assert re.sub(r"\s+", " ", lead)[:60] in text  # the folded section prints all the same
    fairness_findings = browser.execute_script(
        "return document.querySelectorAll('#sec-fairness figure.chart').length"
    )
    assert fairness_findings >= 1
    browser.execute_script("arguments[0].open = true", fairness)


def test_a_screenshot_of_the_first_screen(browser, page, tmp_path):
    from PIL import Image

    browser.execute_script("window.scrollTo(0, 0)")
    shot = tmp_path / "first-screen.png"
    assert browser.save_screenshot(str(shot))
    image = Image.open(shot).convert("RGB")
    assert image.width >= 1000 and image.height >= 600
    # the verdict banner is on the first screen: its tinted background is there
    banner = browser.execute_script(
        """const b = document.querySelector('.banner').getBoundingClientRect();
           return [b.left, b.top, b.width, b.height, getComputedStyle(
             document.querySelector('.banner')).backgroundColor]"""
    )
    left, top, width, height, colour = banner
    assert top >= 0 and top + height <= image.height
    rgb = tuple(int(v) for v in re.findall(r"\d+", colour)[:3])
    inside = image.getpixel((int(left + width - 8), int(top + height / 2)))
    assert max(abs(a - b) for a, b in zip(inside, rgb, strict=True)) <= 8, (inside, rgb)
    assert len(image.getcolors(maxcolors=1 << 20)) > 50  # text and colours, not blank
    print(f"screenshot: {shot}")
