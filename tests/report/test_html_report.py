"""The HTML report in a real headless Chromium, judged by tshark on the same run's capture.

One browser for the module. The page is what ``minternet fetch --html`` wrote; every
number the test compares comes from the page's DOM on one side and from tshark reading
the pcapng of the same run on the other.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from clitools import run_in_process
from minternet.apps.fetch_run import SCENARIOS, FetchOptions, run_fetch
from minternet.cli.fetch_story import write_outputs
from minternet.report.html import render_report
from minternet.report.html.runs import fetch_report
from minternet.report.story import build_story
from minternet.sim.faults import Faults
from minternet.sim.world import load_world

pytestmark = pytest.mark.tools("chromium", "chromedriver", "tshark")

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--window-size=1280,800", "--disable-background-networking",
         "--disable-component-update", "--disable-sync")  # fmt: skip

T = TypeVar("T")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_in_process(*args, check=False)  # in this interpreter (clitools)


def tshark(pcap: Path, *args: str) -> list[list[str]]:
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-T", "fields", *args],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    return [line.split("\t") for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("report")
    paths = {"html": d / "run.html", "pcap": d / "run.pcapng", "keylog": d / "keys.txt"}
    proc = cli("fetch", "-q", "--secrets", "--html", str(paths["html"]),
               "--pcap", str(paths["pcap"]), "--keylog", str(paths["keylog"]))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return paths


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # selenium is in the test extras `make install` installs: missing, it is a failure
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('profile')}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service("/usr/bin/chromedriver"))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver: Any, path: Path) -> None:
    driver.get(path.as_uri())
    deadline = time.monotonic() + 30
    while driver.execute_script("return document.body.dataset.ready") != "1":
        assert time.monotonic() < deadline, "the page never became interactive"
        time.sleep(0.05)


def console_errors(driver: Any) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def ladder_frames(driver: Any, rows: str = "g.row") -> set[int]:
    """Every arrow the ladder draws, scrolling it from top to bottom (it draws only the
    rows in view)."""
    seen: set[int] = set()
    height = driver.execute_script("return document.getElementById('ladder').scrollHeight")
    view = driver.execute_script("return document.getElementById('ladder').clientHeight")
    y = 0
    while y < height:
        driver.execute_script(f"document.getElementById('ladder').scrollTop = {y};")
        driver.execute_script("return new Promise(r => requestAnimationFrame(() => r(1)))")
        seen |= {
            int(v)
            for v in driver.execute_script(
                f"return [...document.querySelectorAll('#ladsvg {rows}')].map(e => e.dataset.frame)"
            )
        }
        y += max(view // 2, 50)
    return seen


def unstale(action: Callable[[], T]) -> T:
    """Run ``action`` again when the page redrew an element between finding and using it
    (the virtualised ladder and the detail pane redraw on scroll and selection; under
    load a redraw can land in between)."""
    from selenium.common.exceptions import StaleElementReferenceException

    for _ in range(10):
        try:
            return action()
        except StaleElementReferenceException:
            time.sleep(0.1)
    return action()


def settle(driver: Any) -> None:
    """Wait for the ladder to redraw what a scroll brought into view (two frames)."""
    driver.execute_script(
        "return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(1))))"
    )


def click_frame(driver: Any, number: int) -> None:
    """Scroll the ladder to the arrow of the capture's frame ``number`` (tshark's
    frame.number) and click it, as a user would."""
    from selenium.webdriver.common.by import By

    row = f'#ladsvg g.row[data-no="{number}"]'
    driver.execute_script("document.getElementById('ladder').scrollTop = 0;")
    settle(driver)
    for _ in range(200):
        found = driver.find_elements(By.CSS_SELECTOR, row)
        if found:
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", found[0])
            settle(driver)
            unstale(lambda: driver.find_element(By.CSS_SELECTOR, f"{row} text.t").click())
            return
        driver.execute_script("document.getElementById('ladder').scrollTop += 300;")
        settle(driver)
    raise AssertionError(f"frame {number} is not on the ladder")


def field(driver: Any, name: str) -> str:
    from selenium.webdriver.common.by import By

    css = f'#detailbody .fld[data-name="{name}"] .v'
    return unstale(lambda: str(driver.find_element(By.CSS_SELECTOR, css).text))


def test_default_report(browser: Any, default_run: dict[str, Path]) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    pcap = default_run["pcap"]
    open_page(browser, default_run["html"])
    assert console_errors(browser) == []
    resources = browser.execute_script("return performance.getEntriesByType('resource').length")
    assert resources == 0  # nothing fetched: everything is inline

    # one arrow per frame tshark counts on the captured interfaces
    frames = tshark(pcap, "-e", "frame.number")
    assert ladder_frames(browser) == set(range(len(frames)))
    assert browser.execute_script("return document.getElementById('ladder').dataset.arrows") == (
        str(len(frames))
    )

    # the SYN-ACK as the laptop received it: Seq and Ack as tshark reads them
    (number, seq, ack), *_ = tshark(
        pcap, "-Y", 'tcp.flags.syn == 1 && tcp.flags.ack == 1 && frame.interface_name == '
        '"laptop/eth0"', "-e", "frame.number", "-e", "tcp.seq_raw", "-e", "tcp.ack_raw",
    )  # fmt: skip
    click_frame(browser, int(number))
    assert field(browser, "Sequence number (raw)") == seq
    assert field(browser, "Acknowledgment number (raw)") == ack

    # the ClientHello as the laptop sent it: client random and SNI as tshark reads them
    (number, random, sni), *_ = tshark(
        pcap, "-Y", 'tls.handshake.type == 1 && frame.interface_name == "laptop/eth0"',
        "-e", "frame.number", "-e", "tls.handshake.random",
        "-e", "tls.handshake.extensions_server_name",
    )  # fmt: skip
    random_frame = number
    click_frame(browser, int(number))
    assert field(browser, "Random") == random.replace(":", "")
    assert field(browser, "Server Name") == sni == "www.example.com"

    # the GET, decrypted with the run's key log, where tshark decrypts it (the pcapng's DSB)
    (number, method, uri), *_ = tshark(
        pcap, "-Y", 'http.request && frame.interface_name == "laptop/eth0"',
        "-e", "frame.number", "-e", "http.request.method", "-e", "http.request.uri",
    )  # fmt: skip
    click_frame(browser, int(number))
    http = browser.find_elements(By.CSS_SELECTOR, '#detailbody .fld[data-name="Decrypted HTTP"]')
    assert http[0].text.endswith(f"{method} {uri} HTTP/1.1")
    click_frame(browser, int(random_frame))

    # on the virtual-time axis the ClientHello's arrow slants from its send to its receipt
    Select(browser.find_element(By.ID, "axis")).select_by_value("time")
    settle(browser)
    hello = f'#ladsvg g.row[data-no="{random_frame}"] line'
    y1, y2 = browser.execute_script(
        "const l = document.querySelector(arguments[0]); return [+l.getAttribute('y1'), "
        "+l.getAttribute('y2')]",
        hello,
    )
    assert y2 > y1
    Select(browser.find_element(By.ID, "axis")).select_by_value("rows")
    settle(browser)

    # hovering the TTL field lights exactly its one byte, at offset 22 of the frame
    ttl = '#detailbody .fld[data-name="Time to live"]'
    unstale(
        lambda: (
            ActionChains(browser)
            .move_to_element(browser.find_element(By.CSS_SELECTOR, ttl))
            .perform()
        )
    )
    lit = browser.execute_script(
        "return [...document.querySelectorAll('#hex .b.hl')].map(e => e.dataset.o)"
    )
    assert lit == ["22"]
    # and hovering that byte lights the TTL field
    unstale(
        lambda: (
            ActionChains(browser)
            .move_to_element(browser.find_element(By.CSS_SELECTOR, '#hex .b[data-o="22"]'))
            .perform()
        )
    )
    lit_fields = browser.execute_script(
        "return [...document.querySelectorAll('#detailbody div.fld.hl')].map(e => e.dataset.name)"
    )
    assert lit_fields == ["Time to live"]
    # the same packet at every hop, once per link: TTL falling by one per router
    ttls = browser.execute_script(
        "return [...document.querySelectorAll('#copies tr.copy')].map(r => +r.cells[3].textContent)"
    )
    assert ttls == [64, 63, 62, 61, 60]

    # a story step lights its frames on the ladder
    step = browser.find_elements(By.CSS_SELECTOR, "#story .step")[0]
    step.click()
    assert browser.find_elements(By.CSS_SELECTOR, "#ladsvg g.row.hl, #ladsvg g.row.sel")

    # play to the end: the laptop's TIME-WAIT expires into CLOSED
    Select(browser.find_element(By.ID, "speed")).select_by_value("50")
    browser.find_element(By.ID, "first").click()
    browser.find_element(By.ID, "play").click()
    WebDriverWait(browser, 60).until(  # the playing page redraws #lastchange: unstale
        lambda d: "TIME-WAIT → CLOSED" in unstale(lambda: d.find_element(By.ID, "lastchange").text)
    )
    assert "laptop" in unstale(lambda: browser.find_element(By.ID, "lastchange").text)
    assert browser.find_element(By.ID, "play").get_attribute("aria-label") == "play"  # stopped

    # the TLS panel (run with --secrets): its master secret is the key log's
    browser.find_element(By.CSS_SELECTOR, "#panels > summary").click()
    master = browser.find_element(
        By.CSS_SELECTOR, '#panels li.mp-kd-step[data-keylog="CLIENT_RANDOM"] code.mp-value'
    ).text
    logged = [ln.split() for ln in default_run["keylog"].read_text().splitlines()]
    assert [master] == [ln[2] for ln in logged if ln[0] == "CLIENT_RANDOM"]
    assert [ln[1] for ln in logged] == [random.replace(":", "")]

    # the keyboard: Home goes to the start, → steps through frames, the detail pane follows
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.HOME)
    body.send_keys(Keys.ARROW_RIGHT)
    body.send_keys(Keys.ARROW_RIGHT)
    assert browser.find_element(By.ID, "scrub").get_attribute("value") == "2"
    assert browser.find_element(By.CSS_SELECTOR, "#detailbody h2").text.startswith("Frame 3:")
    assert console_errors(browser) == []


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_scenario_renders_and_marks_its_failure(
    browser: Any, scenario: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    run = run_fetch(FetchOptions(scenario=scenario))
    story = build_story(run)
    page = tmp_path / f"{scenario}.html"
    page.write_text(render_report(fetch_report(story)), encoding="utf-8")
    open_page(browser, page)
    assert console_errors(browser) == []
    banner = browser.find_element(By.ID, "failure")
    if story.failure is None:
        assert not banner.is_displayed()
        return
    assert banner.is_displayed() and story.failure.summary in banner.text
    row = browser.execute_script("return +document.getElementById('ladder').dataset.failrow")
    rowh = browser.execute_script("return +document.getElementById('ladder').dataset.rowh")
    browser.execute_script(
        f"document.getElementById('ladder').scrollTop = {max(0, row * rowh - 200)}"
    )
    browser.execute_script("return new Promise(r => requestAnimationFrame(() => r(1)))")
    mark = browser.find_element(By.ID, "failmark")
    assert story.failure.summary in mark.text
    if scenario == "blackhole":  # each SYN ends with ✕ at the router that discarded it
        discarded = [e for e in run.log.events if e.kind == "drop" and e.node == "transit"]
        assert len(ladder_frames(browser, "g.row.dropped")) == len(discarded) > 0


def test_transfer_and_dig_reports(browser: Any, tmp_path: Path) -> None:
    """Their --pcap holds every interface; the page shows one capture point per link (as
    fetch's --pcap): its arrows are tshark's frames on those interfaces, plus the frames lost
    on a link whose sender is not a capture point."""
    points = {name for name, _ in load_world(None, seed=4).capture_points()}
    for name, args in (
        ("transfer", ("tcp-transfer", "--size", "30000", "--loss", "0.05", "--seed", "4")),
        ("dig", ("dig", "www.example.com", "--trace", "--seed", "4")),
    ):
        page, pcap = tmp_path / f"{name}.html", tmp_path / f"{name}.pcapng"
        proc = cli(*args, "--html", str(page), "--pcap", str(pcap))
        assert proc.returncode == 0, proc.stderr
        open_page(browser, page)
        assert console_errors(browser) == []
        seen = tshark(pcap, "-e", "frame.interface_name")
        captured = sum(1 for (where,) in seen if where in points)
        assert len(ladder_frames(browser, "g.row:not(.uncaptured)")) == captured


def test_tls13_flight_decrypted_in_the_detail_pane(browser: Any, tmp_path: Path) -> None:
    """A ``--tls 1.3`` page: the frame where tshark, with the run's key log, reads the
    server's encrypted flight on the laptop shows the same messages decrypted, and the
    same seed writes the same page."""
    from selenium.webdriver.common.by import By

    page, pcap, keys = tmp_path / "t13.html", tmp_path / "t13.pcapng", tmp_path / "keys"
    proc = cli("fetch", "-q", "--tls", "1.3", "--html", str(page), "--pcap", str(pcap),
               "--no-pcap-secrets", "--keylog", str(keys))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (number, types), *_ = tshark(
        pcap, "-o", f"tls.keylog_file:{keys}",
        "-Y", 'tls.handshake.type == 8 && frame.interface_name == "laptop/eth0"',
        "-e", "frame.number", "-e", "tls.handshake.type",
    )  # fmt: skip
    open_page(browser, page)
    assert console_errors(browser) == []
    click_frame(browser, int(number))
    css = '#detailbody .fld[data-name="Decrypted: Handshake type"] .v'
    shown = unstale(lambda: [e.text for e in browser.find_elements(By.CSS_SELECTOR, css)])
    assert [s.rsplit("(", 1)[1].rstrip(")") for s in shown] == types.split(",")
    assert shown[0] == "Encrypted Extensions (8)"
    again = tmp_path / "again.html"
    assert cli("fetch", "-q", "--tls", "1.3", "--html", str(again)).returncode == 0
    assert again.read_bytes() == page.read_bytes()


def test_same_seed_same_html(default_run: dict[str, Path], tmp_path: Path) -> None:
    again = tmp_path / "again.html"
    proc = cli("fetch", "-q", "--secrets", "--html", str(again))
    assert proc.returncode == 0, proc.stderr
    assert again.read_bytes() == default_run["html"].read_bytes()
    other = tmp_path / "other.html"
    assert cli("fetch", "-q", "--seed", "2", "--html", str(other)).returncode == 0
    assert other.read_bytes() != again.read_bytes()


def test_loss_is_marked(browser: Any, tmp_path: Path) -> None:
    """Under loss: every frame tshark calls a retransmission on the laptop is ↻ on the
    ladder, and there is one ✕ arrow per frame the links lost."""
    run = run_fetch(FetchOptions(seed=9, faults=Faults(loss=0.1)))
    page, pcap = tmp_path / "loss.html", tmp_path / "loss.pcapng"
    page.write_text(render_report(fetch_report(build_story(run))), encoding="utf-8")
    write_outputs(run, pcap, True, None)
    open_page(browser, page)
    assert console_errors(browser) == []
    retransmitted = {
        int(n)
        for (n,) in tshark(
            pcap, "-Y", 'frame.interface_name == "laptop/eth0" && tcp.analysis.retransmission',
            "-e", "frame.number",
        )
    }  # fmt: skip
    assert retransmitted, "this seed retransmits"
    marked = {int(n) for n in rows_no(browser, "g.row.retrans")}
    assert retransmitted <= marked
    lost = [e for e in run.log.events if e.kind == "drop" and e.fields.get("reason") == "loss"]
    assert len(ladder_frames(browser, "g.row.lost")) == len(lost) > 0


def rows_no(driver: Any, rows: str) -> set[str]:
    """The capture numbers of the ladder's rows matching ``rows``, scrolling through it."""
    seen: set[str] = set()
    height = driver.execute_script("return document.getElementById('ladder').scrollHeight")
    y = 0
    while y < height:
        driver.execute_script(f"document.getElementById('ladder').scrollTop = {y};")
        settle(driver)
        seen |= set(
            driver.execute_script(
                f"return [...document.querySelectorAll('#ladsvg {rows}')].map(e => e.dataset.no)"
            )
        )
        y += 200
    return seen
