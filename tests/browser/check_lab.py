"""Browser check of tutorial 1 in JupyterLab (``make check-lab``; not part of ``make test``).

Starts JupyterLab on 127.0.0.1 with a random token, opens
``notebooks/tutorials/01_random_network.ipynb`` in headless Chromium through Playwright (the
system Chromium: nothing is downloaded), runs all cells, moves the forming-voltage slider and
checks that the formed fraction under the figure changes. Saves a screenshot to
``figures/lab_tutorial_01.png`` and stops the server itself. Without Chromium it says how to get
it and exits 0 (skipped); any failure exits 1 with what went wrong.

Run: ``.venv/bin/python tests/browser/check_lab.py [--chromium /usr/bin/chromium]``
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "notebooks/tutorials/01_random_network.ipynb"
CAPTION = re.compile(r"formed fraction: (\d+(?:\.\d+)?) %")
SLIDER_LABEL = "forming voltage"


def find_chromium(given: str | None) -> str | None:
    """The Chromium to drive: ``given``, ``$RRAMPAPER_CHROMIUM`` or one on the PATH."""
    for candidate in (given, os.environ.get("RRAMPAPER_CHROMIUM"), "chromium", "chromium-browser",
                      "google-chrome"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(port: int, token: str, log: Path) -> subprocess.Popen:
    jupyter = Path(sys.executable).with_name("jupyter")
    cmd = [str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
           "--ServerApp.open_browser=False", "--LabApp.news_url=", "--allow-root"]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def wait_for_server(port: int, token: str, server: subprocess.Popen, timeout_s: float = 90) -> None:
    url = f"http://127.0.0.1:{port}/api/status?token={token}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {server.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer on port {port} within {timeout_s:.0f} s")


def stop_lab(server: subprocess.Popen, port: int, token: str) -> None:
    try:  # a clean shutdown also stops the kernels it started
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/shutdown?token={token}",
                                         method="POST")
        urllib.request.urlopen(request, timeout=5).close()
        server.wait(timeout=20)
    except Exception:  # noqa: BLE001 (whatever happened, make sure it is gone)
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def caption_percent(page) -> float | None:
    texts = page.locator(".rrampaper-caption").all_inner_texts()
    for text in texts:
        if match := CAPTION.search(text):
            return float(match.group(1))
    return None


def drive(page, port: int, token: str, screenshot: Path) -> tuple[float, float]:
    """Open the tutorial, run all cells, move the slider; return the formed fraction (%) before
    and after."""
    page.goto(f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK}?token={token}", timeout=120_000)
    page.locator(".jp-Notebook").first.wait_for(timeout=120_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle'], "
                           ".jp-Notebook", timeout=120_000)
    time.sleep(3)  # the kernel connects
    page.get_by_role("menuitem", name="Run").first.click()
    page.get_by_text("Run All Cells", exact=True).first.click()
    deadline = time.monotonic() + 180
    before = None
    while time.monotonic() < deadline and before is None:
        before = caption_percent(page)
        time.sleep(0.5)
    if before is None:
        raise RuntimeError("no 'formed fraction: … %' caption appeared within 180 s of Run All")
    slider = page.locator(".widget-slider, .widget-hslider").filter(has_text=SLIDER_LABEL).first
    slider.scroll_into_view_if_needed(timeout=30_000)
    handle = slider.locator(".noUi-handle, [role='slider']").first
    handle.focus()
    for _ in range(8):  # eight steps to the right: a higher forming voltage
        page.keyboard.press("ArrowRight")
        time.sleep(0.1)
    after = before
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and after == before:
        time.sleep(0.5)
        after = caption_percent(page) or before
    settled = time.monotonic() + 15  # let the redraws of the last key presses finish
    last = after
    while time.monotonic() < settled:
        time.sleep(1.5)
        now = caption_percent(page) or last
        if now == last:
            break
        last = now
    after = last
    news = page.get_by_role("button", name="No")  # JupyterLab's news prompt, if it shows
    if news.count():
        news.first.click()
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot), full_page=False)
    return before, after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", help="path of the Chromium binary")
    parser.add_argument("--screenshot", default=str(ROOT / "figures" / "lab_tutorial_01.png"))
    args = parser.parse_args()
    chromium = find_chromium(args.chromium)
    if chromium is None:
        print("check-lab SKIPPED: no Chromium found (apt-get install chromium, or set "
              "RRAMPAPER_CHROMIUM to its path); nothing is downloaded")
        return 0
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("check-lab FAILED: playwright is not installed (pip install playwright)")
        return 1
    port, token = free_port(), secrets.token_hex(16)
    log = ROOT / "figures" / "check-lab-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    server = start_lab(port, token, log)
    try:
        wait_for_server(port, token, server)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True,
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                before, after = drive(page, port, token, Path(args.screenshot))
            finally:
                browser.close()
    except Exception as error:  # noqa: BLE001 (report it as the check's failure)
        print(f"check-lab FAILED: {type(error).__name__}: {error} (server log: {log})")
        return 1
    finally:
        stop_lab(server, port, token)
    if after == before:
        print(f"check-lab FAILED: the formed fraction stayed at {before} % after moving the "
              f"'{SLIDER_LABEL}' slider (screenshot: {args.screenshot})")
        return 1
    print(f"check-lab OK: formed fraction {before} % -> {after} % after moving the slider; "
          f"screenshot {args.screenshot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
