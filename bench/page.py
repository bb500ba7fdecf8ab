"""The page as a person uses it: seconds from Enter to the answer, in headless Chromium.

Starts `streamlit run app.py` on the seed corpus (an index built in a temporary folder), opens
it in Debian's Chromium driven by Playwright (the page loads the model and the index when it
opens), then asks each question and times Enter -> the new first hit on screen.

    python bench/page.py                    # needs: apt-get install chromium; pip install playwright
    python bench/page.py --out bench/results/page.md
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from page_server import CHROMIUM, CHROMIUM_ARGS, QUESTION_LABEL, ask, serve_page  # noqa: E402

QUESTIONS = ["why do my calves cramp at night?", "is it my nerves or low magnesium",
             "what tests find neuropathy", "does alcohol make leg cramps worse",
             "when should I see a doctor about cramps", "stretching before bed",
             "burning feet and toes", "how is neuropathy treated"]


def build_seed(base: Path) -> tuple[Path, Path]:
    corpus = base / "corpus"
    corpus.mkdir()
    shutil.copy(ROOT / "corpus" / "does-neuropathy-cause-leg-cramps.txt", corpus)
    env = {**os.environ, "GUIDESEARCH_CORPUS": str(corpus), "GUIDESEARCH_INDEX": str(base / "index")}
    subprocess.run([sys.executable, "build_index.py"], cwd=ROOT, env=env, check=True, capture_output=True)
    return corpus, base / "index"


def measure(url: str) -> tuple[float, float, list[float]]:
    """Seconds to open the page (question box on screen), to answer the first question, and
    to answer each later one."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        started = time.perf_counter()
        page.goto(url, timeout=120_000)
        page.get_by_label(QUESTION_LABEL).wait_for(timeout=300_000)
        opened = time.perf_counter() - started
        first, shown = ask(page, QUESTIONS[0], "")
        later = []
        for question in QUESTIONS[1:]:
            seconds, shown = ask(page, question, shown)
            later.append(seconds)
        browser.close()
    return opened, first, later


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="also write the report (Markdown) here")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"No Chromium at {CHROMIUM}: apt-get install chromium")
    with tempfile.TemporaryDirectory() as base:
        with serve_page(*build_seed(Path(base))) as url:
            load = os.getloadavg()[0]
            opened, first, later = measure(url)
    report = "\n".join([
        f"Command: python bench/page.py {' '.join(sys.argv[1:])}",
        f"Seed corpus; headless Chromium ({CHROMIUM}) via Playwright; load average at start {load:.2f}.",
        "",
        "| question | seconds from Enter to the answer on screen |",
        "|---|---|",
        f"| (opening the page: model and index loaded, question box shown) | {opened:.2f} |",
        f"| first question | {first:.2f} |",
        f"| next {len(later)}: median | {statistics.median(later):.2f} |",
        f"| next {len(later)}: slowest | {max(later):.2f} |",
    ])
    print(report)
    if args.out:
        args.out.write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
