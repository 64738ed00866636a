"""The report in a real browser: headless Chromium from Debian's packages loads ``report.html``
with no console message (the page has no script, so any message is an error: a blocked load,
a parse failure), its DOM has no element a hostile robot id could have injected, and its
screenshot shows the plots in colour.

Chromium logs each console message to stderr as ``INFO:CONSOLE`` with ``--enable-logging``;
a control page with a script error and a remote image proves the scan sees them.
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from cloud_bridge.report import write_report
from support.report_run import HOSTILE, build_run

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="headless Chromium is not installed (apt-get install chromium)",
)
#: The plots' colours (matplotlib's tab10: the releases and robots); the page's own style
#: uses greys only, so these pixels come from the plots.
PLOT_COLOURS = {
    "blue": (0x1F, 0x77, 0xB4),
    "orange": (0xFF, 0x7F, 0x0E),
    "green": (0x2C, 0xA0, 0x2C),
}
WINDOW = (1280, 4200)


def _chromium(page: Path, profile: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
            f"--window-size={WINDOW[0]},{WINDOW[1]}", *flags, page.resolve().as_uri(),
        ],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip


class _Elements(HTMLParser):
    """The tags and attribute names of a document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(build_run(tmp_path_factory.mktemp("browser") / "run").root)


def test_the_console_scan_sees_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><body><script>throw new Error("deliberate")</script>'
        '<img src="https://example.invalid/x.png"></body></html>'
    )
    done = _chromium(bad, tmp_path / "profile", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    assert any("deliberate" in line for line in _console(done.stderr)), done.stderr[-3000:]


def test_the_report_loads_cleanly_and_its_screenshot_shows_the_plots(
    report: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "report.png"
    done = _chromium(report, tmp_path / "profile", f"--screenshot={shot}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert _console(done.stderr) == []
    pixels = (imread(shot)[..., :3] * 255).round().astype(np.int16)
    assert pixels.shape[:2] == (WINDOW[1], WINDOW[0])
    for name, rgb in PLOT_COLOURS.items():
        close = (np.abs(pixels - np.array(rgb)).max(axis=-1) <= 12).sum()
        assert close > 300, f"only {close} {name} pixels: the plots did not render"
    # Plots spread down the page, not one patch: the coloured pixels fill many bands.
    coloured = (pixels.max(axis=-1) - pixels.min(axis=-1)) > 60
    bands = [coloured[y : y + 300].sum() > 200 for y in range(0, WINDOW[1], 300)]
    assert sum(bands) >= 6, bands
    # The DOM as the browser built it: the hostile robot id stayed text.
    dom = _chromium(report, tmp_path / "profile2", "--dump-dom")
    assert dom.returncode == 0 and _console(dom.stderr) == []
    elements = _Elements()
    elements.feed(dom.stdout)
    assert "script" not in elements.tags and "img" not in elements.tags
    assert not [name for name in elements.attributes if name.startswith("on")]
    assert "&lt;script&gt;" in dom.stdout and HOSTILE not in dom.stdout
    assert "<title>Flywheel run run</title>" in dom.stdout  # no script renamed it
