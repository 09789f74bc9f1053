#!/usr/bin/env python3
"""A bounded load test of ``lmlab serve`` on loopback: latency percentiles and errors.

    .venv/bin/python benchmarks/server_load.py [--requests 2000] [--clients 8] [--model PATH]

Starts ``lmlab serve`` (a PTB modified-KN 5-gram by default, trained first if needed) on
127.0.0.1 and a free port, sends a fixed number of requests from concurrent clients (a mix of
/complete, /score and /generate), and stops after at most ``--max-seconds``.  Only loopback is
ever contacted.  Writes ``benchmarks/results/server_load.json`` and the ``server-load`` section
of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
RESULTS = REPO / "benchmarks" / "results" / "server_load.json"
BODIES = [
    ("/complete", {"prefix": "the stock", "k": 5}),
    ("/complete", {"prefix": "new york st", "k": 5, "partial": True}),
    ("/score", {"text": "the apple and pear salad"}),
    ("/score", {"text": "he said that the company would report earnings"}),
    ("/generate", {"prompt": "the", "max_tokens": 20, "seed": 1}),
]


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--max-seconds", type=float, default=120)
    args = ap.parse_args()
    model = args.model
    if model is None:
        model = str(REPO / "runs" / "bench" / "ptb.o5.lmbin")
        if not Path(model).exists():
            Path(model).parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([sys.executable, "-m", "lmlab", "ngram", "-o", "5", "--data", "ptb", "--arpa",
                            model + ".arpa", "--quiet"], cwd=REPO, check=True)
            subprocess.run([sys.executable, "-m", "lmlab", "convert", model + ".arpa", model, "--quiet"], cwd=REPO,
                           check=True)
    port = free_port()
    srv = subprocess.Popen([sys.executable, "-m", "lmlab", "serve", model, "--port", str(port)], cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/info", timeout=1).read()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        # warm-up (compiles the query kernels)
        for path, body in BODIES:
            _post(base + path, body)
        latencies: list[float] = []
        errors = [0]
        lock = threading.Lock()
        counter = iter(range(args.requests))
        deadline = time.perf_counter() + args.max_seconds

        def worker():
            while time.perf_counter() < deadline:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                path, body = BODIES[i % len(BODIES)]
                t = time.perf_counter()
                ok = _post(base + path, body)
                dt = time.perf_counter() - t
                with lock:
                    latencies.append(dt)
                    errors[0] += not ok

        t0 = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(args.clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - t0
    finally:
        srv.terminate()
        srv.wait(timeout=10)
    lat = sorted(latencies)
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), "unknown")
    res = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cpu": cpu, "cores": os.cpu_count(),
           "model": Path(model).name, "requests": len(lat), "clients": args.clients, "errors": errors[0],
           "wall_s": wall, "requests_per_s": len(lat) / wall, "p50_ms": pct(0.5), "p90_ms": pct(0.9),
           "p99_ms": pct(0.99), "max_ms": lat[-1] * 1000, "mean_ms": statistics.mean(lat) * 1000}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=2))
    from _sections import replace_section

    replace_section("server-load", [
        "## Server load test (loopback)", "",
        f"`python benchmarks/server_load.py --requests {args.requests} --clients {args.clients}` on {cpu}, "
        f"{os.cpu_count()} cores, {res['date'][:10]}: `lmlab serve {res['model']}` (PTB modified-KN 5-gram), a fixed "
        "mix of /complete, /score and /generate (20 tokens) requests from concurrent clients on 127.0.0.1.", "",
        "| requests | clients | errors | requests/s | p50 ms | p90 ms | p99 ms | max ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {res['requests']} | {args.clients} | {res['errors']} | {res['requests_per_s']:.0f} | {res['p50_ms']:.1f} | "
        f"{res['p90_ms']:.1f} | {res['p99_ms']:.1f} | {res['max_ms']:.1f} |",
    ])
    print(json.dumps(res, indent=2))
    return 0 if errors[0] == 0 else 1


def _post(url: str, body: dict) -> bool:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
            return r.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


if __name__ == "__main__":
    sys.exit(main())
