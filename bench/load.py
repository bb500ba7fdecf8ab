"""Load on the HTTP API: a real server, one client and then many at once, over localhost.

    python bench/load.py                                   # builds a seed index in a temp folder
    python bench/load.py --index bench/work/medquad-index --corpus ../shared/medquad/guides
    python bench/load.py --clients 16 --requests 2000 --max-seconds 120 --out report.md

Starts `python -m guidesearch serve` on a free port (the server as shipped), asks it the
questions of tests/data/seed_questions.jsonl in turn (GET /search, 5 hits with evidence): first
from one client, then from --clients threads each with its own httpx.Client, until --requests
answers or --max-seconds. Prints a Markdown report: throughput, latency percentiles, errors, the
server's peak resident memory (VmHWM), and the load average before and after. The clients run on
the same machine as the server and take some of its cores: the figures are what one machine
serving itself gets, not what a server would get from clients elsewhere.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guidesearch.api import SEARCH_THREADS  # noqa: E402

QUESTIONS = ROOT / "tests" / "data" / "seed_questions.jsonl"
MEDQUAD_CREDIT = ("Contains data from MedQuAD (Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019), "
                  "https://github.com/abachaa/MedQuAD, licensed under CC BY 4.0.")
START_SECONDS = 300      # loading the model and a large index on a busy machine


@dataclass
class Run:
    """The answers of one run: latencies of the answered requests, and what went wrong."""

    clients: int
    seconds: float = 0.0
    server_cpu_seconds: float = 0.0     # user + system time of the server process during the run
    client_cpu_seconds: float = 0.0     # the same for this process, the clients
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    stopped_by_time: bool = False

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + sum(self.errors.values())

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        """Nearest-rank percentile of the answered requests' latencies."""
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def read_questions() -> list[str]:
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def build_seed_index(folder: Path) -> tuple[Path, Path]:
    """A seed index built by build_index.py, as a maintainer builds one."""
    corpus, index = ROOT / "corpus", folder / "index"
    subprocess.run([sys.executable, "build_index.py", "--corpus", str(corpus), "--index", str(index)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return index, corpus


def start_server(index: Path, corpus: Path, port: int, log: Path) -> subprocess.Popen:
    """The server as shipped, answering /health; its output (access log included) goes to log."""
    server = subprocess.Popen([sys.executable, "-m", "guidesearch", "serve", "--port", str(port),
                               "--index", str(index), "--corpus", str(corpus)],
                              cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"error: the server stopped: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.5)
    server.terminate()
    sys.exit(f"error: the server did not answer /health within {START_SECONDS} s; see {log}")


def load(base: str, questions: list[str], clients: int, total: int, max_seconds: float, server_pid: int) -> Run:
    """`total` requests from `clients` threads at once, each asking as soon as it has its answer."""
    run = Run(clients)
    server_before, client_before = cpu_seconds(server_pid), cpu_seconds(os.getpid())
    numbers = itertools.count()         # next() on a count is atomic under the GIL
    lock = threading.Lock()
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            while (number := next(numbers)) < total:
                if time.monotonic() > deadline:
                    run.stopped_by_time = True
                    return
                ask(http, questions[number % len(questions)], run, lock)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - started
    run.server_cpu_seconds = cpu_seconds(server_pid) - server_before
    run.client_cpu_seconds = cpu_seconds(os.getpid()) - client_before
    return run


def ask(http: httpx.Client, question: str, run: Run, lock: threading.Lock) -> None:
    started = time.perf_counter()
    try:
        response = http.get("/search", params={"q": question, "k": 5})
        error = None if response.status_code == 200 and response.json()["hits"] else f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        error = type(exc).__name__
    elapsed_ms = (time.perf_counter() - started) * 1000
    with lock:
        if error:
            run.errors[error] = run.errors.get(error, 0) + 1
        else:
            run.latencies_ms.append(elapsed_ms)


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """The process's peak and current resident memory (VmHWM, VmRSS), in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return tuple(int(fields[name].split()[0]) / 1024 for name in ("VmHWM", "VmRSS"))  # type: ignore[return-value]


def row(run: Run) -> str:
    errors = ", ".join(f"{count} {kind}" for kind, count in sorted(run.errors.items())) or "0"
    note = " (time limit)" if run.stopped_by_time else ""
    per_request = 1000 / max(run.requests, 1)
    return (f"| {run.clients} | {run.requests:,}{note} | {run.seconds:.1f} | {run.throughput:.1f} | "
            f"{run.percentile(0.50):.1f} | {run.percentile(0.95):.1f} | {run.percentile(0.99):.1f} | {errors} | "
            f"{run.server_cpu_seconds * per_request:.1f} | {run.client_cpu_seconds * per_request:.1f} |")


def report(command: str, index: Path, corpus: Path, health: dict, single: Run, many: Run,
           loads: tuple[tuple[float, ...], tuple[float, ...]], rss: tuple[float, float]) -> str:
    lines = [f"Command: `{command}`",
             f"Machine: {os.cpu_count()} cores; load average (1, 5, 15 min) at start "
             f"{' / '.join(f'{x:.2f}' for x in loads[0])}, at end {' / '.join(f'{x:.2f}' for x in loads[1])}",
             f"Server: `python -m guidesearch serve` (uvicorn, {SEARCH_THREADS} search threads), index {index} "
             f"({health['chunks']:,} chunks, {health['build']}), corpus {corpus}",
             "Requests: GET /search?q=<a question of tests/data/seed_questions.jsonl>&k=5 (evidence included), "
             "after each question was asked once; latency is the client's, from sending the request to "
             "reading the whole answer.",
             "",
             "| clients | requests | seconds | throughput (requests/s) | p50 ms | p95 ms | p99 ms | errors "
             "| server CPU ms/request | client CPU ms/request |",
             "|---|---|---|---|---|---|---|---|---|---|",
             row(single), row(many),
             "",
             f"{many.clients} clients against 1: {many.throughput / single.throughput:.2f}× the throughput. "
             f"Server peak resident memory (VmHWM): {rss[0]:.0f} MB (at the end: {rss[1]:.0f} MB)."]
    if "medquad" in str(corpus).lower():
        lines += ["", MEDQUAD_CREDIT]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="a built index (default: build one of corpus/ in a temp folder)")
    parser.add_argument("--corpus", type=Path, help="the corpus the index was built from (default: corpus/)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=2000, help="requests of the concurrent run")
    parser.add_argument("--single", type=int, default=200, help="requests of the one-client run")
    parser.add_argument("--max-seconds", type=float, default=120, help="time limit of each run")
    parser.add_argument("--out", type=Path, help="also write the report here")
    args = parser.parse_args()
    command = shlex.join(["python", "bench/load.py", *sys.argv[1:]])
    with tempfile.TemporaryDirectory(prefix="guidesearch-load-") as tmp:
        index, corpus = (args.index, args.corpus or ROOT / "corpus") if args.index else build_seed_index(Path(tmp))
        port = free_port()
        server = start_server(index, corpus, port, Path(tmp) / "server.log")
        base = f"http://127.0.0.1:{port}"
        try:
            questions = read_questions()
            # Warm up: every question once. A passage's sentences are embedded the first time it is
            # a hit (for the evidence) and then cached, so first answers are slower (about 20 ms).
            load(base, questions, 2, len(questions), args.max_seconds, server.pid)
            health = httpx.get(f"{base}/health").json()
            loads_start = os.getloadavg()
            single = load(base, questions, 1, args.single, args.max_seconds, server.pid)
            many = load(base, questions, args.clients, args.requests, args.max_seconds, server.pid)
            loads_end = os.getloadavg()
            rss = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(30)
    text = report(command, index, corpus, health, single, many, (loads_start, loads_end), rss)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
