"""The HTML report of a big run in headless Chromium: file size and load → interactive.

``tcp-transfer --size 2000000 --loss 0.05 --html`` (tens of thousands of frames) is written
once; then Chromium (Debian's, through chromedriver) opens it from ``file://`` several times,
and the page's own ``performance.mark('interactive')`` — set when the ladder is drawn and
answers clicks — gives the time from navigation start. The default fetch's report is
loaded the same way, interleaved, as the peer: the ratio says what tens of thousands of
frames cost over three hundred. ``python -m bench.html_report``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--window-size=1280,800")  # fmt: skip


def _write(path: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "minternet", *args, "--html", str(path)],
                   check=True, capture_output=True, timeout=1800)  # fmt: skip


def _interactive_ms(driver: Any, path: Path) -> float:
    driver.get("about:blank")
    driver.get(path.as_uri())
    for _ in range(600):
        t = driver.execute_script(
            "const m = performance.getEntriesByName('interactive'); return m.length ? "
            "m[0].startTime : null"
        )
        if t is not None:
            return float(t)
        driver.execute_script("return new Promise(r => setTimeout(() => r(1), 50))")
    raise RuntimeError(f"{path}: never interactive")


def main(repeat: int = 5) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "transfer.html", Path(tmp) / "fetch.html"
        _write(big, "tcp-transfer", "--size", "2000000", "--loss", "0.05")
        _write(small, "fetch", "-q")
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for flag in FLAGS:
            opts.add_argument(flag)
        driver = webdriver.Chrome(options=opts, service=Service("/usr/bin/chromedriver"))
        try:
            times: dict[str, list[float]] = {"transfer": [], "fetch": []}
            for _ in range(repeat):
                times["transfer"].append(_interactive_ms(driver, big))
                times["fetch"].append(_interactive_ms(driver, small))
            _interactive_ms(driver, big)
            frames = driver.execute_script(
                "return +document.getElementById('ladder').dataset.arrows"
            )
        finally:
            driver.quit()
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"tcp-transfer --size 2000000 --loss 0.05 --html: {big.stat().st_size / 1e6:.2f} MB, "
              f"{frames} arrows")  # fmt: skip
        ratio = med["transfer"] / med["fetch"]
        print(f"load → interactive, median of {repeat}: transfer {med['transfer']:.0f} ms, "
              f"default fetch {med['fetch']:.0f} ms (ratio {ratio:.1f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
