"""The README's picture of the HTML report: ``make report-screenshot``.

Writes the default run's page (``minternet fetch --html``), opens it in headless Chromium at
1280×800, selects the ClientHello as the laptop sent it and points at its TTL field (so
the detail pane and the hex dump show the highlighting), and saves a palette PNG small
enough to commit: ``docs/figures/report/report.png``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

OUT = Path(__file__).resolve().parent / "figures" / "report" / "report.png"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        subprocess.run([sys.executable, "-m", "minternet", "fetch", "-q", "--html", str(page)],
                       check=True, capture_output=True)  # fmt: skip
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                     "--disable-dev-shm-usage"):  # fmt: skip
            opts.add_argument(flag)
        driver = webdriver.Chrome(options=opts, service=Service("/usr/bin/chromedriver"))
        try:
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False},
            )
            driver.get(page.as_uri())
            ladder = driver.find_element(By.ID, "ladder")
            k = None
            for _ in range(100):
                k = driver.execute_script(
                    "const r = [...document.querySelectorAll('#ladsvg g.row')]"
                    ".find(r => r.textContent.includes('Client Hello'));"
                    "return r ? r.dataset.frame : null"
                )
                if k is not None:
                    break
                driver.execute_script("arguments[0].scrollTop += 200", ladder)
            assert k is not None, "no ClientHello on the ladder"
            row_h = int(ladder.get_attribute("data-rowh"))
            driver.execute_script(f"arguments[0].scrollTop = {int(k) * row_h - 250}", ladder)
            driver.execute_script(
                "return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
            )
            driver.find_element(By.CSS_SELECTOR, f'#ladsvg g.row[data-frame="{k}"] text.t').click()
            ttl = driver.find_element(By.CSS_SELECTOR, '.fld[data-name="Time to live"]')
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", ttl)
            ActionChains(driver).move_to_element(ttl).perform()
            shot = Path(tmp) / "shot.png"
            driver.save_screenshot(str(shot))
        finally:
            driver.quit()
        image = Image.open(shot).convert("RGB").quantize(colors=64, dither=Image.Dither.NONE)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        image.save(OUT, optimize=True)
        print(f"{OUT}: {OUT.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
