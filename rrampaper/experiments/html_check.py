"""Check that the HTML pages of the executed notebooks open and show their figures.

``rrampaper reproduce`` renders every executed notebook as a self-contained HTML page
(``figures/html/``). This module opens each page in a headless Chromium, waits for it to load and
counts the figures the browser actually decoded: ``<img>`` elements with a non-zero natural width
and inline ``<svg>`` drawings with a non-empty bounding box. A page passes when it has at least
one figure and every figure rendered.

The browser is found on ``PATH`` (``chromium``, ``chromium-browser``, ``google-chrome``); on
Debian/Ubuntu ``apt-get install chromium``. The check needs no Python package beyond the
standard library.

Examples
--------
>>> from rrampaper.experiments.html_check import parse_report
>>> parse_report("<pre>RRAMPAPER-CHECK images=3 rendered=3 svg=0 svg_rendered=0</pre>")
(3, 3, 0, 0)

``rrampaper check-html`` (CLI) checks ``figures/html/`` and exits 1 if a page fails.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: Executable names tried in order.
BROWSERS: tuple[str, ...] = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

#: Appended to a copy of each page: counts decoded figures once everything has loaded.
_PROBE = """
<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var shown = images.filter(function (i) { return i.complete && i.naturalWidth > 0; });
  var svgs = Array.prototype.slice.call(document.querySelectorAll("svg"))
    .filter(function (s) { return !s.parentElement.closest("svg"); });
  var drawn = svgs.filter(function (s) { var b = s.getBoundingClientRect(); return b.width > 0 && b.height > 0; });
  var out = document.createElement("pre");
  out.textContent = "RRAMPAPER-CHECK images=" + images.length + " rendered=" + shown.length +
                    " svg=" + svgs.length + " svg_rendered=" + drawn.length;
  document.body.appendChild(out);
});
</script>
"""
_REPORT = re.compile(r"RRAMPAPER-CHECK images=(\d+) rendered=(\d+) svg=(\d+) svg_rendered=(\d+)")


@dataclass(frozen=True)
class PageCheck:
    """What the browser showed of one page."""

    page: Path
    images: int
    rendered: int
    svg: int
    svg_rendered: int

    @property
    def figures(self) -> int:
        """Figures on the page (images and top-level inline SVG drawings)."""
        return self.images + self.svg

    @property
    def ok(self) -> bool:
        """At least one figure, and every figure decoded and laid out."""
        return self.figures > 0 and self.rendered == self.images and self.svg_rendered == self.svg

    def __str__(self) -> str:
        state = "OK  " if self.ok else "FAIL"
        return (f"{state} {self.page.name}: {self.rendered}/{self.images} images and "
                f"{self.svg_rendered}/{self.svg} SVG drawings rendered")


def find_browser(candidates: Sequence[str] = BROWSERS) -> str | None:
    """Path of the first headless-capable Chromium on ``PATH``, or ``None``."""
    for name in candidates:
        path = shutil.which(name)
        if path:
            return path
    return None


def parse_report(dom: str) -> tuple[int, int, int, int]:
    """``(images, rendered, svg, svg_rendered)`` from the dumped DOM of a probed page."""
    match = _REPORT.search(dom)
    if match is None:
        raise RuntimeError("the page never finished loading (no RRAMPAPER-CHECK line in its DOM)")
    images, rendered, svg, svg_rendered = (int(g) for g in match.groups())
    return images, rendered, svg, svg_rendered


def _headless(browser: str, *arguments: str, timeout: float) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--virtual-time-budget=15000"]
    return subprocess.run([browser, *flags, *arguments], capture_output=True, text=True,
                          timeout=timeout, check=False)


def check_page(page: str | Path, *, browser: str | None = None, timeout: float = 120.0) -> PageCheck:
    """Open ``page`` in headless Chromium and count the figures it rendered.

    The page is probed through a temporary copy, so the file itself is never changed.
    Raises ``FileNotFoundError`` for a missing page or browser.
    """
    page = Path(page)
    if not page.is_file():
        raise FileNotFoundError(f"page={str(page)!r} does not exist")
    browser = browser or find_browser()
    if browser is None:
        raise FileNotFoundError(
            f"no headless browser found (tried {', '.join(BROWSERS)}); on Debian/Ubuntu: "
            "apt-get install chromium")
    html = page.read_text(encoding="utf-8")
    cut = html.rfind("</body>")
    probed = html[:cut] + _PROBE + html[cut:] if cut >= 0 else html + _PROBE
    with tempfile.TemporaryDirectory(prefix="rrampaper-html-") as folder:
        copy = Path(folder) / page.name
        copy.write_text(probed, encoding="utf-8")
        done = _headless(browser, f"--user-data-dir={folder}/profile", "--dump-dom",
                         copy.as_uri(), timeout=timeout)
    try:
        counts = parse_report(done.stdout)
    except RuntimeError as error:
        raise RuntimeError(f"{page}: {error}; browser said: {done.stderr.strip()[-500:]}") from None
    return PageCheck(page, *counts)


def screenshot(page: str | Path, target: str | Path, *, width: int = 1200, height: int = 2400,
               browser: str | None = None, timeout: float = 120.0) -> Path:
    """Save a PNG of the top ``width`` x ``height`` pixels of ``page`` as the browser shows it."""
    page, target = Path(page).resolve(), Path(target).resolve()
    browser = browser or find_browser()
    if browser is None:
        raise FileNotFoundError("no headless browser found; on Debian/Ubuntu: apt-get install chromium")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rrampaper-html-") as folder:
        _headless(browser, f"--user-data-dir={folder}/profile", f"--screenshot={target}",
                  f"--window-size={width},{height}", "--hide-scrollbars", page.as_uri(),
                  timeout=timeout)
    if not target.is_file():
        raise RuntimeError(f"the browser wrote no screenshot of {page}")
    return target


def check_folder(folder: str | Path, *, browser: str | None = None) -> list[PageCheck]:
    """:func:`check_page` for every ``*.html`` of ``folder`` in name order."""
    pages = sorted(Path(folder).glob("*.html"))
    if not pages:
        raise FileNotFoundError(f"no .html pages in {folder}: run `rrampaper reproduce` first")
    return [check_page(p, browser=browser) for p in pages]
