#!/usr/bin/env python3
"""A bounded load test of ``lmlab serve`` on loopback: latency percentiles and errors.

    .venv/bin/python benchmarks/server_load.py [--requests 2000] [--clients 8] [--model PATH]
                                               [--long 32] [--keystrokes 300]

Starts ``lmlab serve`` (a PTB modified-KN 5-gram by default, trained first if needed) on
127.0.0.1 and a free port it reports, then

1. sends a fixed number of requests from concurrent clients (a mix of /complete, /score and
   /generate), stopping after at most ``--max-seconds``;
2. types: sends ``--keystrokes`` /complete requests one after another (20 ms apart), first on an
   idle server, then while ``--long`` clients each keep a long generation (200 tokens) in flight
   (a client refused with 503 waits the ``Retry-After`` it was given, then asks again), and
   reports the keystrokes' latency percentiles and what the long requests got.

Only loopback is ever contacted.  Writes ``benchmarks/results/server_load.json`` and the
``server-load`` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
from collections import Counter
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--long", type=int, default=32, help="concurrent long generations in phase 2")
    ap.add_argument("--keystrokes", type=int, default=300, help="/complete requests per run of phase 2")
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
    t_start = time.perf_counter()
    srv = subprocess.Popen([sys.executable, "-m", "lmlab", "serve", model, "--port", "0"], cwd=REPO,
                           stdout=subprocess.PIPE, text=True)
    try:
        line = srv.stdout.readline()  # "lmlab serve: listening on http://127.0.0.1:PORT ..." once it is up
        if "listening on " not in line:
            raise SystemExit(f"lmlab serve did not start: {line!r}")
        base = line.split("listening on ", 1)[1].split()[0]
        ready_s = time.perf_counter() - t_start
        first = _timed_post(base + "/complete", {"prefix": "the stock", "k": 5})[1]
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
        typing = under_load(base, args.long, args.keystrokes)
        lanes = json.loads(urllib.request.urlopen(base + "/health", timeout=10).read())["lanes"]
        rss_mb = _peak_rss_mb(srv.pid)
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
           "p99_ms": pct(0.99), "max_ms": lat[-1] * 1000, "mean_ms": statistics.mean(lat) * 1000,
           "ready_s": ready_s, "first_complete_ms": first * 1000, "server_peak_rss_mb": rss_mb, "lanes": lanes, **typing}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=2))
    from _sections import replace_section

    replace_section("server-load", [
        "## Server load test (loopback)", "",
        f"`python benchmarks/server_load.py --requests {args.requests} --clients {args.clients} --long {args.long} "
        f"--keystrokes {args.keystrokes}` on {cpu}, "
        f"{os.cpu_count()} cores, {res['date'][:10]}: `lmlab serve {res['model']}` (PTB modified-KN 5-gram), a fixed "
        "mix of /complete, /score and /generate (20 tokens) requests from concurrent clients on 127.0.0.1.", "",
        "| requests | clients | errors | requests/s | p50 ms | p90 ms | p99 ms | max ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {res['requests']} | {args.clients} | {res['errors']} | {res['requests_per_s']:.0f} | {res['p50_ms']:.1f} | "
        f"{res['p90_ms']:.1f} | {res['p99_ms']:.1f} | {res['max_ms']:.1f} |", "",
        f"Start-up: `lmlab serve` printed its URL {ready_s:.1f} s after it was started (loading the model and "
        f"building everything its queries need); the first /complete then took {first * 1000:.1f} ms.  The "
        f"server's peak RSS over the whole run: {rss_mb:.0f} MB.", "",
        f"### /complete while {args.long} long generations run", "",
        f"{args.keystrokes} /complete requests one after another "
        f"(20 ms apart), on the idle server and then while {args.long} clients each keep a /generate of 200 tokens "
        "in flight (a client refused with 503 waits its `Retry-After`, then asks again).",
        "",
        "| /complete | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|",
        *[f"| {k} | {res[k]['p50_ms']:.1f} | {res[k]['p90_ms']:.1f} | {res[k]['p99_ms']:.1f} | {res[k]['max_ms']:.1f} |"
          for k in ("idle", "loaded")], "",
        f"The long requests meanwhile (HTTP status: count): {res['long_requests']}.  The server (default limits) "
        f"runs {lanes['long']['workers']} long request(s) at a time and lets {lanes['long']['capacity'] - lanes['long']['workers']} "
        "more wait, refusing the rest with 503 and `Retry-After`; /complete has its own lane "
        f"({lanes['quick']['workers']} threads), so keystrokes never queue behind generations.", "",
        f"Run on a shared machine (load average {res['loadavg_start']:.2f} at the start, {res['loadavg_end']:.2f} "
        "at the end, with other engineers' tests running): the figures are as measured; an idle machine may give "
        "lower ones.",
    ])
    print(json.dumps(res, indent=2))
    return 0 if errors[0] == 0 else 1


def _percentiles(lat: list[float]) -> dict:
    lat = sorted(lat)
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
    return {"n": len(lat), "p50_ms": pct(0.5), "p90_ms": pct(0.9), "p99_ms": pct(0.99), "max_ms": lat[-1] * 1000}


def under_load(base: str, n_long: int, keystrokes: int) -> dict:
    """/complete latency, idle and while ``n_long`` clients keep long generations in flight."""
    prefixes = ["the stock", "new york st", "the company said", "he", "the price of"]

    def typing() -> list[float]:
        out = []
        for i in range(keystrokes):
            p = prefixes[i % len(prefixes)]
            status, dt = _timed_post(base + "/complete", {"prefix": p, "k": 5, "partial": not p.endswith(" ")})
            if status != 200:
                raise SystemExit(f"/complete answered {status} under load")
            out.append(dt)
            time.sleep(0.02)
        return out

    load0 = os.getloadavg()[0]
    idle = typing()
    stop = threading.Event()
    statuses: Counter = Counter()
    lock = threading.Lock()

    def long_client(i: int) -> None:
        while not stop.is_set():
            status, _, retry = _timed_post(base + "/generate", {"prompt": "the", "max_tokens": 200, "seed": i,
                                                                "temperature": 1.5}, with_retry=True)
            with lock:
                statuses[status] += 1
            if status == 503:
                stop.wait(float(retry or 1))

    clients = [threading.Thread(target=long_client, args=(i,)) for i in range(n_long)]
    for th in clients:
        th.start()
    time.sleep(1.0)  # let the long requests pile up
    try:
        loaded = typing()
    finally:
        stop.set()
        for th in clients:
            th.join()
    return {"idle": _percentiles(idle), "loaded": _percentiles(loaded), "long_clients": n_long,
            "long_requests": ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())),
            "loadavg_start": load0, "loadavg_end": os.getloadavg()[0]}


def _peak_rss_mb(pid: int) -> float:
    for ln in Path(f"/proc/{pid}/status").read_text().splitlines():
        if ln.startswith("VmHWM:"):
            return int(ln.split()[1]) / 1024
    return float("nan")


def _timed_post(url: str, body: dict, with_retry: bool = False):
    """(HTTP status, seconds[, Retry-After]); status 0 when the connection failed."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    t = time.perf_counter()
    retry = None
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        status, retry = e.code, e.headers.get("Retry-After")
        e.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        status = 0
    dt = time.perf_counter() - t
    return (status, dt, retry) if with_retry else (status, dt)


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
