"""The real page, served by `streamlit run app.py` on a free port, and driven in Debian's
Chromium with Playwright: shared by the browser tests and bench/page.py."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"      # Debian's package: never a browser download
# Without the background-networking flags Chromium keeps dialling out, and a closed network
# refuses every attempt.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
QUESTION_LABEL = "Ask the guides a question"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve_page(corpus: Path, index: Path, timeout: float = 180) -> Iterator[str]:
    """Serve the page over this corpus and index (built beforehand) and yield its address;
    the server is stopped on the way out, whatever happened."""
    port = free_port()
    env = {**os.environ, "GUIDESEARCH_CORPUS": str(corpus), "GUIDESEARCH_INDEX": str(index)}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(url, server, timeout)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def wait_for_server(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit stopped (exit {process.returncode}) before the page was served")
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the page did not answer at {url} within {timeout:.0f} s")


def wait_until_idle(page, timeout_ms: int = 120_000) -> None:
    """Streamlit's "running" widget is gone: the script has finished drawing."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms, polling=20)


def wait_for_answer(page, previous: str, timeout_ms: int = 120_000) -> str:
    """Wait for a first result other than `previous` with the page idle, and return it."""
    page.wait_for_function(
        """previous => { const head = document.querySelector('.hit-head');
                         return head && head.innerText !== previous &&
                                !document.querySelector('[data-testid="stStatusWidget"]'); }""",
        arg=previous, timeout=timeout_ms, polling=10)
    return page.locator(".hit-head").first.inner_text()


def ask(page, question: str, previous: str = "", timeout_ms: int = 120_000) -> tuple[float, str]:
    """Type a question, press Enter; seconds until the new first hit is on screen, and that hit."""
    box = page.get_by_label(QUESTION_LABEL)
    box.fill(question)
    started = time.perf_counter()
    box.press("Enter")
    shown = wait_for_answer(page, previous, timeout_ms)
    return time.perf_counter() - started, shown
