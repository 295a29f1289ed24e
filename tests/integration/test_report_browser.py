"""The HTML report, built from the real InfluxDB, renders in headless Chromium (never skipped)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from pipeline.cli import cli
from pipeline.config import InfluxSettings
from tests.integration.query_data import seed_fleet

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
BROWSER_SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "local" / "browser.sh"


def chromium() -> str:
    """Install Debian's chromium when missing (idempotent); a failure fails the test."""
    done = subprocess.run(
        ["bash", str(BROWSER_SCRIPT)], capture_output=True, text=True, timeout=540, check=False
    )
    assert done.returncode == 0, f"browser.sh failed: {done.stderr[-2000:]}"
    return done.stdout.strip().splitlines()[-1]


def screenshot(page: Path, png: Path, profile: Path) -> None:
    command = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", f"--screenshot={png}",
        "--window-size=1280,2000", page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and png.exists(), f"chromium failed: {done.stderr[-2000:]}"


def count_pixels(png: Path) -> dict[str, int]:
    """Non-white pixels, and the reds (flagged windows, critical) and blues (series, band)."""
    pixels = np.asarray(Image.open(png).convert("RGB")).astype(int)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return {
        "total": int(r.size),
        "ink": int((pixels.min(axis=-1) < 240).sum()),
        "red": int(((r > 180) & (g < 110) & (b < 110)).sum()),
        "blue": int(((b > 150) & (r < 110)).sum()),
    }


def test_report_renders_in_headless_chromium(influx: InfluxSettings, tmp_path: Path) -> None:
    seed_fleet(influx)
    page = tmp_path / "report.html"
    args = ["report", "--influx-url", influx.url, "--bucket", influx.bucket, "-o", str(page)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    png = tmp_path / "report.png"
    screenshot(page, png, tmp_path / "chromium-profile")
    counts = count_pixels(png)
    assert Image.open(png).size == (1280, 2000)
    assert counts["ink"] > 0.05 * counts["total"], (
        counts
    )  # text, tables and charts, not a blank page
    assert counts["red"] > 500, counts  # critical cells and shaded flagged windows are drawn
    assert counts["blue"] > 500, counts  # series lines drawn
