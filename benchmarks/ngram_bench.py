#!/usr/bin/env python3
"""lmlab's n-gram models against KenLM and NLTK, measured in one run on this machine.

    .venv/bin/python benchmarks/ngram_bench.py            # full run (PTB + WikiText-2, orders 3, 5)
    .venv/bin/python benchmarks/ngram_bench.py --quick    # PTB order 5 only, no NLTK, no BENCHMARKS.md

What is measured (each peer in the same run, so the ratios are like for like):

1. Estimation with the ARPA file written: ``lmplz -o N -S 1G`` vs ``lmlab ngram -o N --arpa``,
   each a subprocess; wall time, CPU time and peak RSS (``os.wait4``); median of ``--runs``.
2. Test perplexity: KenLM ``query -v summary`` on its ARPA, ``lmlab.eval.perplexity.evaluate``.
3. Query throughput in tokens/s (words + one ``</s>`` per line), each timing over enough copies
   of the test set to last >= ``--min-time`` s, median of ``--repeats``: lmlab's batch scorer
   (``corpus_log10``; encoding timed apart and together), ``lmlab.kenlm.Model.score`` per line,
   ``full_scores``, the State API (``BaseScore`` per word); the same three calls of KenLM's
   Python module on the ARPA-loaded model and on its probing binary; KenLM ``query -v summary``
   (and lmlab's ``query -v summary``) on a repeated test file, minus a one-line run (start-up and
   load).  Load times: every model is loaded first thing in a fresh process (one sample each).
4. Bytes per n-gram: lmlab ``.lmbin`` and KenLM probing / trie binaries; the compact formats
   (lmlab and KenLM trie, plain and ``-q 8 -b 8``) with their perplexity change (``--compact-only``).
5. NLTK floor: ``nltk.lm.KneserNeyInterpolated(3)`` fitted on PTB train, scoring the first
   ``--nltk-lines`` test lines (capped at ``--nltk-cap`` seconds).
6. Memory-limited estimation on a >= 20 M-token corpus sampled once from the WikiText-2 KN 5-gram
   (``benchmarks/big_corpus.py``, cached): ``lmlab ngram -S`` vs ``lmplz -S`` with the same limit
   (``--limited-memory``, below the count table), both ARPAs checked against lmlab's in-memory one.

KenLM refuses ``<unk>`` in its training text, so KenLM trains and is tested on copies with the
literal ``<unk>`` replaced by ``UNKTOK``; lmlab uses the original files (``<unk>`` is a trained
word there).  Both count the same tokens.

Outputs: ``benchmarks/results/ngram.json`` (every raw number) and the section of
``BENCHMARKS.md`` between ``<!-- ngram:begin -->`` and ``<!-- ngram:end -->`` (the rest of the
file is left alone).  KenLM's binaries come from ``--kenlm-bin``, else ``/work/kenlm-build/bin``
if present, else ``benchmarks/build_kenlm.sh`` (which builds them).  KenLM's Python module is
used from this interpreter if importable, else from ``--kenlm-python``.

This file imports only the standard library at module level: it is also run as a worker by the
KenLM interpreter (``--worker``), which need not have numpy or lmlab.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve()
DEFAULT_KENLM_BIN = Path("/work/kenlm-build/bin")
DATASETS = {
    "ptb": ("ptb", "ptb.train.txt", "ptb.test.txt"),
    "wikitext-2": ("wikitext-2", "train.txt", "test.txt"),
}
BEGIN, END = "<!-- ngram:begin -->", "<!-- ngram:end -->"
TARGETS = {
    "estimation": "lmlab estimation (ARPA written) within 2x of lmplz's wall time",
    "batch": "lmlab batch scoring >= 0.5x KenLM Python Model.score throughput",
    "nltk": "lmlab batch scoring >= 1000x NLTK KneserNeyInterpolated",
    "limited": "lmlab -S on the >= 20 M-token corpus: peak RSS <= limit + 250 MB, the same ARPA as in memory",
    "compact": "lmlab trie bytes per n-gram <= KenLM trie's; -q 8 -b 8 beside KenLM's",
}


def log(msg: str) -> None:
    print(f"[ngram_bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------
# workers (run in fresh processes; stdlib only at this level)
# ------------------------------------------------------------------------------------------

def _rss_now_mb() -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _maxrss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _read_test(path: str) -> tuple[list[str], int]:
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines, sum(len(line.split()) + 1 for line in lines)


def _import_impl(impl: str):
    if impl == "lmlab":
        import lmlab.models.ngram.fastquery  # noqa: F401  (numba: part of the baseline, not of the load)
        from lmlab import kenlm as mod
    else:
        import kenlm as mod
    return mod


def _load(mod, path: str, first_line: str) -> tuple[object, dict]:
    """Load a model and answer one query: seconds and memory (peak and current RSS vs before)."""
    rss_before = _rss_now_mb()
    t0 = time.perf_counter()
    model = mod.Model(path)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.score(first_line)
    first_query_s = time.perf_counter() - t0
    info = {"load_s": load_s, "first_query_s": first_query_s, "load_to_first_query_s": load_s + first_query_s,
            "rss_before_load_mb": rss_before}
    if hasattr(model, "lm"):  # lmlab: the LanguageModel's first next-word distribution (nothing to rebuild)
        t0 = time.perf_counter()
        model.lm.next_logprobs([model.lm.begin_state()])
        info["first_next_logprobs_s"] = time.perf_counter() - t0
    return model, {**info, "rss_now_after_load_mb": _rss_now_mb(), "rss_after_load_mb": _maxrss_mb()}


def worker_load(spec: dict) -> dict:
    """Fresh process: import, load one model, answer one query."""
    t0 = time.perf_counter()
    mod = _import_impl(spec["impl"])
    import_s = time.perf_counter() - t0
    lines, _ = _read_test(spec["test"])
    _, info = _load(mod, spec["model"], lines[0])
    return {"impl": spec["impl"], "model": spec["model"], "import_s": import_s, **info}


def _methods(impl: str, mod, model, lines: list[str]) -> dict:
    """name -> make(k): make(k) prepares k copies of the test set (not timed) and returns a
    zero-argument runner that scores them all and returns the total log10 probability."""

    def m_score(k):
        data = lines * k
        score = model.score

        def run():
            total = 0.0
            for line in data:
                total += score(line, bos=True, eos=True)
            return total
        return run

    def m_full(k):
        data = lines * k
        full = model.full_scores

        def run():
            total = 0.0
            for line in data:
                for prob, _length, _oov in full(line):
                    total += prob
            return total
        return run

    def m_state(k):
        data = [line.split() for line in lines] * k
        base = model.BaseScore
        begin = model.BeginSentenceWrite
        State = mod.State

        def run():
            total = 0.0
            s, o = State(), State()
            for words in data:
                begin(s)
                for w in words:
                    total += base(s, w, o)
                    s, o = o, s
                total += base(s, "</s>", o)
            return total
        return run

    methods = {"score": m_score, "full_scores": m_full, "state": m_state}
    if impl != "lmlab":
        return methods
    lm = model.lm
    encode = lm.vocab.encode
    enc1 = [encode(line.split()) for line in lines]

    def m_encode(k):
        data = lines * k

        def run():
            return float(len([encode(line.split()) for line in data]))
        return run

    def m_batch(k):
        enc = enc1 * k

        def run():
            return float(lm.corpus_log10(enc)[0].sum())
        return run

    def m_batch_enc(k):
        data = lines * k

        def run():
            return float(lm.corpus_log10([encode(line.split()) for line in data])[0].sum())
        return run

    from lmlab.models.base import LanguageModel

    ln10 = math.log(10.0)

    def m_lm(token_logprobs):
        def make(k):
            enc = enc1 * k

            def run():  # the LanguageModel interface, one sentence at a time (natural log -> log10)
                return sum(float(token_logprobs(e).sum()) for e in enc) / ln10
            return run
        return make

    return {"batch": m_batch, "encode": m_encode, "batch_incl_encode": m_batch_enc,
            "lm_token_logprobs": m_lm(lm.token_logprobs),
            "lm_step": m_lm(lambda e: LanguageModel.token_logprobs(lm, e)),  # the base class: step by step
            **methods}


def worker_query(spec: dict) -> dict:
    """Load several models in one process (the first load is a fresh-process measurement), then
    time every (model, call): a calibration pass each (k=1, also the warm-up and the checksum),
    then ``repeats`` rounds, each round timing every (model, call) once, so that a change in the
    machine's load hits lmlab and KenLM alike."""
    out: dict = {}
    jobs = []
    for i, m in enumerate(spec["models"]):
        t0 = time.perf_counter()
        mod = _import_impl(m["impl"])
        import_s = time.perf_counter() - t0
        lines, n_tokens = _read_test(m["test"])
        model, info = _load(mod, m["model"], lines[0])
        w = {"impl": m["impl"], "model": m["model"], "fresh_process": i == 0, "import_s": import_s,
             **info, "tokens": n_tokens, "lines": len(lines), "methods": {}}
        if m["impl"] == "lmlab" and m.get("evaluate"):
            from lmlab.eval.perplexity import evaluate

            t0 = time.perf_counter()
            rep = evaluate(model.lm, lines)
            w["evaluate"] = {"perplexity": rep.perplexity, "perplexity_excluding_oovs":
                             rep.perplexity_excluding_oovs, "tokens": rep.tokens, "oovs": rep.oovs,
                             "seconds": time.perf_counter() - t0}
        if m["impl"] == "lmlab" and m.get("write_lmbin"):
            t0 = time.perf_counter()
            model.lm.to_binary(m["write_lmbin"])
            w["write_lmbin_s"] = time.perf_counter() - t0
        out[m["name"]] = w
        for meth, make in _methods(m["impl"], mod, model, lines).items():
            if not m.get("methods") or meth in m["methods"]:
                jobs.append((m["name"], meth, make, n_tokens))
    min_time, repeats = spec["min_time"], spec["repeats"]
    runners = {}
    for name, meth, make, n_tokens in jobs:  # calibration
        run = make(1)
        gc.collect()
        t0 = time.perf_counter()
        checksum = run()
        t1 = time.perf_counter() - t0
        k = 1 if t1 >= min_time else max(1, math.ceil(min_time * 1.25 / max(t1, 1e-6)))
        runners[name, meth] = make(k) if k > 1 else run
        out[name]["methods"][meth] = {"copies": k, "tokens_per_timing": k * n_tokens, "times_s": [],
                                      "checksum_log10": float(checksum), "single_pass_s": t1}
    for _ in range(repeats):
        for name, meth, _make, _n in jobs:
            run = runners[name, meth]
            gc.collect()
            t0 = time.perf_counter()
            run()
            out[name]["methods"][meth]["times_s"].append(time.perf_counter() - t0)
    for w in out.values():
        for r in w["methods"].values():
            r["median_s"] = statistics.median(r["times_s"])
            r["tokens_per_s"] = r["tokens_per_timing"] / r["median_s"]
    out["rss_end_mb"] = _maxrss_mb()
    return out


def worker_warmup(spec: dict) -> dict:
    """Fill numba's on-disk cache for the current lmlab sources (fit, ARPA- and .lmbin-loaded
    query kernels), so that no timed process pays for compilation."""
    t0 = time.perf_counter()
    from lmlab import kenlm as lk
    from lmlab.eval.perplexity import evaluate
    from lmlab.models.ngram.model import NgramLM

    lines = Path(spec["train"]).read_text(encoding="utf-8").splitlines()[:5000]
    tmp = Path(spec["tmp"])
    for order in spec["orders"]:
        lm = NgramLM(order, smoothing="modified_kneser_ney", discount_fallback=(0.5, 1, 1.5)).fit(lines)
        arpa, lmbin = tmp / f"warm.o{order}.arpa", tmp / f"warm.o{order}.lmbin"
        lm.to_arpa(arpa)
        lm.to_binary(lmbin)
        for path in (arpa, lmbin):
            m = lk.Model(path)
            m.score(lines[0])
            list(m.full_scores(lines[0]))
            s, o = lk.State(), lk.State()
            m.BeginSentenceWrite(s)
            for w in lines[0].split():
                m.BaseScore(s, w, o)
                s, o = o, s
            m.lm.corpus_log10([m.lm.vocab.encode(x.split()) for x in lines[:10]])
            evaluate(m.lm, lines[:10])
            del m
        arpa.unlink()
        lmbin.unlink()
    return {"seconds": time.perf_counter() - t0}


def worker_nltk(spec: dict) -> dict:
    from importlib.metadata import version

    from nltk.lm import KneserNeyInterpolated
    from nltk.lm.preprocessing import pad_both_ends, padded_everygram_pipeline

    n = spec["order"]
    train = [line.split() for line in Path(spec["train"]).read_text(encoding="utf-8").splitlines()]
    test = [line.split() for line in Path(spec["test"]).read_text(encoding="utf-8").splitlines()]
    test = test[: spec["lines"]]
    t0 = time.perf_counter()
    train_data, vocab = padded_everygram_pipeline(n, train)
    lm = KneserNeyInterpolated(n)
    lm.fit(train_data, vocab)
    fit_s = time.perf_counter() - t0
    tokens, total_log2, zero = 0, 0.0, 0
    lines_done = 0
    t0 = time.perf_counter()
    for words in test:
        padded = list(pad_both_ends(words, n=n))
        for i in range(n - 1, len(padded) - (n - 2)):  # the words and the first </s>
            lp = lm.logscore(padded[i], padded[i - n + 1 : i])
            if math.isinf(lp):
                zero += 1
            else:
                total_log2 += lp
            tokens += 1
        lines_done += 1
        if time.perf_counter() - t0 > spec["cap_s"]:
            break
    score_s = time.perf_counter() - t0
    return {"nltk_version": version("nltk"), "order": n, "discount": lm.estimator.discount,
            "fit_s": fit_s, "lines_requested": spec["lines"], "lines_scored": lines_done,
            "tokens": tokens, "score_s": score_s, "tokens_per_s": tokens / score_s,
            "zero_prob_tokens": zero,
            "perplexity_on_sample": 2.0 ** (-total_log2 / tokens) if tokens and not zero else None,
            "rss_mb": _maxrss_mb()}


# ------------------------------------------------------------------------------------------
# helpers for the main process
# ------------------------------------------------------------------------------------------

def run_timed(cmd: list[str], stdin=None, stdout=None, cwd=None, env=None) -> dict:
    """Run a subprocess; wall time, user+sys CPU and peak RSS of the child (os.wait4)."""
    err = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                         stdout=stdout if stdout is not None else subprocess.DEVNULL, stderr=err,
                         cwd=cwd, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        err.seek(0)
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({p.returncode}):\n"
                           f"{err.read().decode(errors='replace')[-2000:]}")
    err.close()
    return {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "peak_rss_mb": ru.ru_maxrss / 1024.0}


def cpu_snapshot() -> dict:
    """Machine-wide busy CPU seconds (/proc/stat) and this process tree's own CPU seconds."""
    import resource

    with open("/proc/stat") as fh:
        f = [int(x) for x in fh.readline().split()[1:]]
    busy = (f[0] + f[1] + f[2] + f[5] + f[6]) / os.sysconf("SC_CLK_TCK")  # user nice system irq softirq
    ours = sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                  resource.getrusage(resource.RUSAGE_CHILDREN)))
    return {"t": time.perf_counter(), "busy": busy, "ours": ours, "load": os.getloadavg()[0]}


def other_load(a: dict, b: dict) -> dict:
    """CPU used by processes outside this benchmark between two snapshots."""
    wall = b["t"] - a["t"]
    other = max(0.0, (b["busy"] - a["busy"]) - (b["ours"] - a["ours"]))
    return {"wall_s": wall, "other_cpu_s": other, "other_cores": other / wall if wall else 0.0,
            "loadavg_start": a["load"], "loadavg_end": b["load"]}


def run_worker(python: str, spec: dict, kind: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [python, str(HERE), "--worker", kind, json.dumps(spec)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(REPO))
    if r.returncode != 0:
        raise RuntimeError(f"worker {kind} failed ({r.returncode}):\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def arpa_counts(path: Path) -> list[int]:
    counts = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            m = re.match(r"ngram (\d+)=(\d+)", line.strip())
            if m:
                counts.append(int(m.group(2)))
            elif counts and line.startswith("\\1-grams"):
                break
    return counts


def parse_summary(text: str) -> dict:
    out = {}
    for line in text.splitlines():
        if ":" not in line:
            continue
        key, _, val = line.partition(":")
        key, val = key.strip(), val.strip()
        try:
            out[key] = float(val)
        except ValueError:
            pass
    return {"perplexity": out.get("Perplexity including OOVs"),
            "perplexity_excluding_oovs": out.get("Perplexity excluding OOVs"),
            "oovs": int(out["OOVs"]) if "OOVs" in out else None,
            "tokens": int(out["Tokens"]) if "Tokens" in out else None}


def query_summary(cmd: list[str], text: Path) -> dict:
    with open(text, "rb") as fin:
        r = subprocess.run(cmd, stdin=fin, capture_output=True, check=True)
    return parse_summary(r.stdout.decode())


def cli_throughput(cmd: list[str], text: Path, tmp: Path, tag: str, n_tokens: int,
                   min_time: float, repeats: int) -> dict:
    """``cmd < text x k`` minus ``cmd < (first line)``: tokens/s of a query command line."""
    lines = text.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    one = tmp / f"{tag}.one.txt"
    one.write_text(lines[0] + "\n", encoding="utf-8")

    out = tmp / f"{tag}.summary.txt"

    def timed(path, keep=False):
        with open(path, "rb") as fin, open(out if keep else os.devnull, "wb") as fout:
            return run_timed(cmd, stdin=fin, stdout=fout)

    base = statistics.median(timed(one)["wall_s"] for _ in range(3))
    body = text.read_bytes()
    k, kmax = 1, max(1, int(5e7 // max(n_tokens, 1)))  # at most ~50M tokens

    def write_copies(k):
        rep = tmp / f"{tag}.x{k}.txt"
        with open(rep, "wb") as fh:
            for _ in range(k):
                fh.write(body)
        return rep

    while True:  # grow k until one timing lasts min_time beyond start-up and load
        rep = write_copies(k)
        d = timed(rep)["wall_s"] - base
        if d >= min_time or k >= kmax:
            break
        rep.unlink()
        k = min(kmax, 8 * k, max(2 * k, math.ceil(k * min_time * 1.25 / max(d, 1e-3))))
    walls, bases = [], []
    for _ in range(repeats):
        walls.append(timed(rep, keep=True)["wall_s"])
        bases.append(timed(one)["wall_s"])
    summary = parse_summary(out.read_text())  # from the last timed run of the repeated file
    rep.unlink()
    wall, basem = statistics.median(walls), statistics.median(bases)
    return {"copies": k, "tokens": k * n_tokens, "walls_s": walls, "one_line_walls_s": bases,
            "median_wall_s": wall, "median_one_line_s": basem,
            "tokens_per_s": k * n_tokens / (wall - basem), "tokens_per_s_incl_load": k * n_tokens / wall,
            "summary_tokens": summary["tokens"], "summary_perplexity": summary["perplexity"]}


def machine_info(kenlm_bin: Path, kenlm_py_version: str | None) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    def ver(pkg):
        try:
            return version(pkg)
        except PackageNotFoundError:
            return None

    lscpu = {}
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            k, _, v = line.partition(":")
            lscpu[k.strip()] = v.strip()
    except OSError:
        pass
    mem_kb = None
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    kenlm_bin_version = None
    cache = kenlm_bin.parent / "CMakeCache.txt"
    if cache.is_file():
        m = re.search(r"kenlm-(\d+\.\d+\.\d+)", cache.read_text(errors="replace"))
        kenlm_bin_version = m.group(1) if m else None
    if kenlm_bin_version is None:
        m = re.search(r"build-(\d+\.\d+\.\d+)", str(kenlm_bin))
        kenlm_bin_version = m.group(1) if m else None
    git = {}
    try:
        git["commit"] = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                                       text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "lmlab"], cwd=REPO, capture_output=True,
                               text=True).stdout.splitlines()
        git["lmlab_uncommitted_files"] = [d[3:] for d in dirty]
    except OSError:
        pass
    return {
        "hostname": socket.gethostname(),
        "cpu_model": lscpu.get("Model name"),
        "cpu_family_model": f"{lscpu.get('CPU family')}/{lscpu.get('Model')}",
        "hypervisor": lscpu.get("Hypervisor vendor"),
        "cpus": os.cpu_count(),
        "cores_per_socket": lscpu.get("Core(s) per socket"),
        "threads_per_core": lscpu.get("Thread(s) per core"),
        "ram_gib": round(mem_kb / 2**20, 1) if mem_kb else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": ver("numpy"), "numba": ver("numba"), "nltk": ver("nltk"), "lmlab": ver("lmlab"),
        "kenlm_python": kenlm_py_version, "kenlm_binaries": kenlm_bin_version,
        "kenlm_bin": str(kenlm_bin),
        "git": git,
    }


def lmlab_source_hash() -> str:
    """sha256 over lmlab's Python sources, to notice an edit during the run."""
    import hashlib

    h = hashlib.sha256()
    for f in sorted((REPO / "lmlab").rglob("*.py")):
        h.update(str(f.relative_to(REPO)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def resolve_kenlm_bin(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    if all((DEFAULT_KENLM_BIN / t).is_file() for t in ("lmplz", "query", "build_binary")):
        return DEFAULT_KENLM_BIN
    log("building KenLM with benchmarks/build_kenlm.sh")
    r = subprocess.run(["bash", str(REPO / "benchmarks" / "build_kenlm.sh")], stdout=subprocess.PIPE,
                       text=True, check=True)
    return Path(r.stdout.strip().splitlines()[-1])


def resolve_kenlm_python(arg: str | None) -> tuple[str | None, str | None]:
    """(interpreter with ``import kenlm``, kenlm version) or (None, None)."""
    for py in ([arg] if arg else []) + [sys.executable]:
        r = subprocess.run([py, "-c", "import kenlm\nfrom importlib.metadata import version\n"
                            "print(version('kenlm'))"], capture_output=True, text=True)
        if r.returncode == 0:
            return py, r.stdout.strip()
    return None, None


# ------------------------------------------------------------------------------------------
# the benchmark
# ------------------------------------------------------------------------------------------

def lmlab_cli() -> list[str]:
    exe = Path(sys.executable).parent / "lmlab"
    return [str(exe)] if os.access(exe, os.X_OK) else [sys.executable, "-m", "lmlab"]


def bench_config(name: str, order: int, files: dict, tmp: Path, args, kbin: Path, kpy: str | None) -> dict:
    train, test, ktrain, ktest = files["train"], files["test"], files["ktrain"], files["ktest"]
    tag = f"{name}.o{order}"
    karpa, larpa = tmp / f"{tag}.kenlm.arpa", tmp / f"{tag}.lmlab.arpa"
    lmlab_cmd = lmlab_cli()
    res: dict = {"dataset": name, "order": order}

    # 1. estimation, interleaved
    log(f"{tag}: estimation x{args.runs}")
    kruns, lruns = [], []
    for _ in range(args.runs):
        ktmp = tmp / "lmplz_tmp"
        ktmp.mkdir(exist_ok=True)
        kruns.append(run_timed([str(kbin / "lmplz"), "-o", str(order), "-S", "1G", "-T", str(ktmp) + "/",
                                "--text", str(ktrain), "--arpa", str(karpa)]))
        lruns.append(run_timed(lmlab_cmd + ["ngram", "-o", str(order), "--text", str(train), "--arpa",
                                            str(larpa), "--quiet"]))
    med = lambda runs, key: statistics.median(r[key] for r in runs)  # noqa: E731
    est = {"lmplz": {"runs": kruns}, "lmlab": {"runs": lruns}}
    for side, runs in (("lmplz", kruns), ("lmlab", lruns)):
        for key in ("wall_s", "cpu_s", "peak_rss_mb"):
            est[side][key] = med(runs, key)
    est["ratio_wall"] = est["lmlab"]["wall_s"] / est["lmplz"]["wall_s"]
    est["ratio_rss"] = est["lmlab"]["peak_rss_mb"] / est["lmplz"]["peak_rss_mb"]
    res["estimation"] = est
    kcounts, lcounts = arpa_counts(karpa), arpa_counts(larpa)
    res["ngrams"] = {"kenlm": kcounts, "lmlab": lcounts, "kenlm_total": sum(kcounts),
                     "lmlab_total": sum(lcounts)}

    # binaries
    sizes = {"kenlm_arpa": karpa.stat().st_size, "lmlab_arpa": larpa.stat().st_size}
    kprobe, ktrie, lbin = tmp / f"{tag}.probing", tmp / f"{tag}.trie", tmp / f"{tag}.lmbin"
    bb = {}
    for kind, path in (("probing", kprobe), ("trie", ktrie)):
        bb[kind] = run_timed([str(kbin / "build_binary"), "-T", str(tmp) + "/", kind, str(karpa), str(path)])
        sizes[f"kenlm_{kind}"] = path.stat().st_size
    res["build_binary"] = bb

    # 2. perplexity (KenLM query on ARPA); lmlab's comes from the query worker's evaluate()
    log(f"{tag}: perplexity + query throughput")
    kq = query_summary([str(kbin / "query"), "-v", "summary", str(karpa)], ktest)
    kq_probe = query_summary([str(kbin / "query"), "-v", "summary", str(kprobe)], ktest)

    # 3. throughput
    common = {"min_time": args.min_time, "repeats": args.repeats}
    q: dict = {}
    models = [
        {"name": "lmlab_arpa", "impl": "lmlab", "model": str(larpa), "test": str(test), "evaluate": True,
         "write_lmbin": str(lbin)},
        {"name": "lmlab_lmbin", "impl": "lmlab", "model": str(lbin), "test": str(test),
         "methods": ["batch", "score", "state", "lm_token_logprobs", "lm_step"]},
    ]
    kmodels = [{"name": "kenlm_arpa", "impl": "kenlm", "model": str(karpa), "test": str(ktest)},
               {"name": "kenlm_probing", "impl": "kenlm", "model": str(kprobe), "test": str(ktest)}]
    if kpy == sys.executable:  # one process: lmlab and KenLM timings interleaved
        q.update(run_worker(sys.executable, {"models": models[:1] + kmodels + models[1:], **common}, "query"))
    else:
        q.update(run_worker(sys.executable, {"models": models, **common}, "query"))
        if kpy:
            q.update(run_worker(kpy, {"models": kmodels, **common}, "query"))
    sizes["lmlab_lmbin"] = lbin.stat().st_size
    # load time and memory, each model first thing in a fresh process (lmlab's ARPA: the query worker's)
    loads = {"lmlab_arpa": {k: v for k, v in q["lmlab_arpa"].items() if k not in ("methods", "evaluate")}}
    for m in models[1:] + (kmodels if kpy else []):
        loads[m["name"]] = run_worker(kpy if m["impl"] == "kenlm" else sys.executable,
                                      {"impl": m["impl"], "model": m["model"], "test": m["test"]}, "load")
    q["load"] = loads
    n_tok = q["lmlab_arpa"]["tokens"]
    q["kenlm_query_cli_probing"] = cli_throughput([str(kbin / "query"), "-v", "summary", str(kprobe)],
                                                  ktest, tmp, f"{tag}.kq", n_tok, args.cli_min_time, args.repeats)
    q["lmlab_query_cli_lmbin"] = cli_throughput(lmlab_cmd + ["query", "-v", "summary", str(lbin)],
                                                test, tmp, f"{tag}.lq", n_tok, args.cli_min_time, args.repeats)
    res["query"] = q
    ev = q["lmlab_arpa"]["evaluate"]
    res["perplexity"] = {"kenlm_query_arpa": kq, "kenlm_query_probing": kq_probe, "lmlab_evaluate": ev,
                         "abs_diff": abs(ev["perplexity"] - kq["perplexity"])}

    # 4. sizes
    ln, kn = res["ngrams"]["lmlab_total"], res["ngrams"]["kenlm_total"]
    res["sizes"] = {"bytes": sizes, "bytes_per_ngram": {
        "lmlab_lmbin": sizes["lmlab_lmbin"] / ln, "kenlm_probing": sizes["kenlm_probing"] / kn,
        "kenlm_trie": sizes["kenlm_trie"] / kn, "lmlab_arpa": sizes["lmlab_arpa"] / ln,
        "kenlm_arpa": sizes["kenlm_arpa"] / kn}}
    res["compact"] = compact_case(tag, larpa, karpa, lbin, ktrie, kprobe, files, tmp, args, kbin, kpy, ln, kn)
    for p in (karpa, larpa, kprobe, ktrie, lbin):
        p.unlink(missing_ok=True)
    return res


def compact_case(tag: str, larpa: Path, karpa: Path, lbin: Path, ktrie: Path, kprobe: Path, files: dict, tmp: Path,
                 args, kbin: Path, kpy: str | None, ln: int, kn: int) -> dict:
    """The compact formats: lmlab's trie (``lmlab convert --trie``) and its 8-bit quantised form
    (``lmlab convert trie -q 8 -b 8``) beside KenLM's ``build_binary trie`` and ``-q 8 -b 8 trie``
    on the same model: bytes per n-gram, test perplexity of each (``query -v summary``) and its
    change from quantisation, and the query speed of each tool's trie against its hash tables
    (KenLM's probing), each tool's timings interleaved in one process."""
    lmlab_cmd = lmlab_cli()
    test, ktest = files["test"], files["ktest"]
    paths = {"lmlab_probing": lbin, "lmlab_trie": tmp / f"{tag}.trie.lmbin",
             "lmlab_trie_q8b8": tmp / f"{tag}.trie.q8b8.lmbin", "kenlm_trie": ktrie,
             "kenlm_trie_q8b8": tmp / f"{tag}.kenlm.trie.q8b8"}
    build = {"lmlab_trie": run_timed(lmlab_cmd + ["convert", "--trie", str(larpa), str(paths["lmlab_trie"]), "--quiet"]),
             "lmlab_trie_q8b8": run_timed(lmlab_cmd + ["convert", "trie", "-q", "8", "-b", "8", str(larpa),
                                                       str(paths["lmlab_trie_q8b8"]), "--quiet"]),
             "kenlm_trie_q8b8": run_timed([str(kbin / "build_binary"), "-T", str(tmp) + "/", "-q", "8", "-b", "8",
                                           "trie", str(karpa), str(paths["kenlm_trie_q8b8"])])}
    out: dict = {"build": build, "bytes": {}, "bytes_per_ngram": {}, "perplexity": {}}
    for name, path in paths.items():
        n = kn if name.startswith("kenlm") else ln
        out["bytes"][name] = path.stat().st_size
        out["bytes_per_ngram"][name] = path.stat().st_size / n
        cmd = [str(kbin / "query"), "-v", "summary"] if name.startswith("kenlm") else lmlab_cmd + ["query", "-v", "summary"]
        out["perplexity"][name] = query_summary(cmd + [str(path)], ktest if name.startswith("kenlm") else test)
    ppl = {k: v["perplexity"] for k, v in out["perplexity"].items()}
    out["quantisation_ppl_change"] = {"lmlab": ppl["lmlab_trie_q8b8"] / ppl["lmlab_trie"] - 1,
                                      "kenlm": ppl["kenlm_trie_q8b8"] / ppl["kenlm_trie"] - 1}
    common = {"min_time": args.min_time, "repeats": args.repeats}
    models = [{"name": name, "impl": "lmlab", "model": str(paths[name]), "test": str(test),
               "methods": ["batch", "score", "state"]} for name in ("lmlab_probing", "lmlab_trie", "lmlab_trie_q8b8")]
    q = run_worker(sys.executable, {"models": models, **common}, "query")
    if kpy:
        paths["kenlm_probing"] = kprobe
        kmodels = [{"name": name, "impl": "kenlm", "model": str(paths[name]), "test": str(ktest),
                    "methods": ["score", "state"]} for name in ("kenlm_probing", "kenlm_trie", "kenlm_trie_q8b8")]
        q.update(run_worker(kpy, {"models": kmodels, **common}, "query"))
    tps = {name: {meth: r["tokens_per_s"] for meth, r in q[name]["methods"].items()} for name in paths if name in q}
    out["tokens_per_s"] = tps
    out["speed_vs_probing"] = {name: {meth: v / tps[name.split("_")[0] + "_probing"][meth] for meth, v in t.items()}
                               for name, t in tps.items() if not name.endswith("_probing")}
    for name in ("lmlab_trie", "lmlab_trie_q8b8", "kenlm_trie_q8b8"):
        paths[name].unlink(missing_ok=True)
    return out


def compact_only(files: dict, tmp: Path, args, kbin: Path, kpy: str | None) -> dict:
    """``--compact-only``: PTB 5-gram estimated once by each tool, then :func:`compact_case`."""
    order, tag = 5, "ptb.o5"
    karpa, larpa, lbin, ktrie, kprobe = (tmp / f"{tag}.kenlm.arpa", tmp / f"{tag}.lmlab.arpa", tmp / f"{tag}.lmbin",
                                         tmp / f"{tag}.trie", tmp / f"{tag}.probing")
    ktmp = tmp / "lmplz_tmp"
    ktmp.mkdir(exist_ok=True)
    run_timed([str(kbin / "lmplz"), "-o", str(order), "-S", "1G", "-T", str(ktmp) + "/", "--text",
               str(files["ktrain"]), "--arpa", str(karpa)])
    run_timed(lmlab_cli() + ["ngram", "-o", str(order), "--text", str(files["train"]), "--arpa", str(larpa), "--quiet"])
    run_timed(lmlab_cli() + ["convert", str(larpa), str(lbin), "--quiet"])
    for kind, path in (("trie", ktrie), ("probing", kprobe)):
        run_timed([str(kbin / "build_binary"), "-T", str(tmp) + "/", kind, str(karpa), str(path)])
    ln, kn = sum(arpa_counts(larpa)), sum(arpa_counts(karpa))
    return {"dataset": "ptb", "order": order, "ngrams": {"lmlab_total": ln, "kenlm_total": kn},
            "compact": compact_case(tag, larpa, karpa, lbin, ktrie, kprobe, files, tmp, args, kbin, kpy, ln, kn)}


def render_compact(configs: list) -> list[str]:
    """The compact-format table (:func:`compact_case`)."""
    L = ["### Compact formats: trie, and trie quantised to 8 bits (`-q 8 -b 8`)", "",
         "Bytes per n-gram and test perplexity (`query -v summary`) of `lmlab convert --trie` / `lmlab convert "
         "trie -q 8 -b 8` and KenLM's `build_binary trie` / `build_binary -q 8 -b 8 trie`; query speed of "
         "each tool's trie against its own hash tables (lmlab's .lmbin, KenLM's probing): lmlab's batch scorer, "
         "and each tool's `Model.score` per line and State API `BaseScore`.", "",
         "| data | order | B/n-gram: lmlab trie | KenLM trie | lmlab q8b8 | KenLM q8b8 | ppl trie (lmlab / KenLM) "
         "| ppl change from q8b8 (lmlab / KenLM) | lmlab trie speed vs hash (batch / score / state) "
         "| KenLM trie speed vs probing (score / state) |",
         "|---|---|---|---|---|---|---|---|---|---|"]
    for c in configs:
        k = c.get("compact")
        if not k:
            continue
        b, p, ch, sp = k["bytes_per_ngram"], k["perplexity"], k["quantisation_ppl_change"], k["speed_vs_probing"]
        L.append(f"| {c['dataset']} | {c['order']} | {b['lmlab_trie']:.2f} | {b['kenlm_trie']:.2f} "
                 f"| {b['lmlab_trie_q8b8']:.2f} | {b['kenlm_trie_q8b8']:.2f} "
                 f"| {p['lmlab_trie']['perplexity']:.2f} / {p['kenlm_trie']['perplexity']:.2f} "
                 f"| {100 * ch['lmlab']:+.3f}% / {100 * ch['kenlm']:+.3f}% "
                 f"| {sp['lmlab_trie']['batch']:.2f}x / {sp['lmlab_trie']['score']:.2f}x / {sp['lmlab_trie']['state']:.2f}x "
                 + (f"| {sp['kenlm_trie']['score']:.2f}x / {sp['kenlm_trie']['state']:.2f}x |" if "kenlm_trie" in sp
                    else "| - |"))
    L.append("")
    return L


def sanity(results: dict) -> list[str]:
    """Cross-checks: same token counts, agreeing perplexities and per-method log10 totals."""
    notes = []
    for c in results["configs"]:
        tag = f"{c['dataset']} o{c['order']}"
        p = c["perplexity"]
        if p["abs_diff"] > 0.01:
            notes.append(f"{tag}: perplexity differs by {p['abs_diff']:.4f} (lmlab {p['lmlab_evaluate']['perplexity']:.4f}"
                         f" vs KenLM {p['kenlm_query_arpa']['perplexity']:.4f})")
        if p["lmlab_evaluate"]["tokens"] != p["kenlm_query_arpa"]["tokens"]:
            notes.append(f"{tag}: token counts differ (lmlab {p['lmlab_evaluate']['tokens']}, "
                         f"KenLM {p['kenlm_query_arpa']['tokens']})")
        ref = -math.log10(p["lmlab_evaluate"]["perplexity"]) * p["lmlab_evaluate"]["tokens"]
        for src, w in c["query"].items():
            if not isinstance(w, dict):
                continue
            for meth, m in w.get("methods", {}).items():
                if meth == "encode":
                    continue
                if abs(m["checksum_log10"] - ref) > 1e-4 * abs(ref) + 0.5:
                    notes.append(f"{tag}: {src} {meth} total log10 {m['checksum_log10']:.3f} != {ref:.3f}")
            if "summary_tokens" in w and w["summary_tokens"] != w["tokens"]:
                notes.append(f"{tag}: {src} counted {w['summary_tokens']} tokens, expected {w['tokens']}")
        n = c["ngrams"]
        if n["kenlm_total"] - n["lmlab_total"] not in (0, 1):
            notes.append(f"{tag}: n-gram totals differ: KenLM {n['kenlm']} lmlab {n['lmlab']}")
    return notes


# ------------------------------------------------------------------------------------------
# report
# ------------------------------------------------------------------------------------------

def _f(x, nd=2):
    if x is None:
        return "-"
    if isinstance(x, int):
        return f"{x:,}"
    if abs(x) >= 1e5:
        return f"{x:,.0f}"
    return f"{x:,.{nd}f}"


def _t(x):
    """a duration: ms below 1 s."""
    if x is None:
        return "-"
    return f"{x * 1e3:.1f} ms" if x < 1 else f"{x:.2f} s"


def _k(x):
    """tokens/s, compact."""
    if x is None:
        return "-"
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.0f} k" if x >= 1e3 else f"{x:.1f}"


def render(results: dict) -> str:
    m = results["machine"]
    configs = results["configs"]
    L = []
    L.append("## N-gram models: lmlab vs KenLM and NLTK")
    L.append("")
    L.append(f"Generated by `.venv/bin/python benchmarks/ngram_bench.py` on {results['date']} "
             f"(took {results['elapsed_s'] / 60:.1f} min); every figure in this section is from that run, "
             "raw numbers in `benchmarks/results/ngram.json`. Ratios compare lmlab with the peer "
             "measured in the same run on the same machine.")
    L.append("")
    git = m.get("git", {})
    dirty = git.get("lmlab_uncommitted_files") or []
    L.append(f"**Machine:** `{m['hostname']}`: {m['cpu_model']} (family/model {m['cpu_family_model']}"
             f"{', ' + m['hypervisor'] + ' guest' if m.get('hypervisor') else ''}), {m['cpus']} CPUs "
             f"({m['threads_per_core']} thread/core), {m['ram_gib']} GiB RAM; {m['os']}. "
             f"Python {m['python']}, numpy {m['numpy']}, numba {m['numba']}, nltk {m['nltk']}; "
             f"KenLM binaries {m['kenlm_binaries']} (built from the PyPI sdist), KenLM Python module "
             f"{m['kenlm_python']}. lmlab {m['lmlab']} at `{git.get('commit', '?')[:10]}`"
             + (f" with {len(dirty)} uncommitted file(s) under `lmlab/`" if dirty else "") + ". "
             f"Load average (1 min) {results['load']['start'][0]:.2f} at the start, "
             f"{results['load']['end'][0]:.2f} at the end; processes other than the benchmark used "
             f"{results['load']['other_cores']:.2f} of a core on average during the run (from /proc/stat).")
    L.append("")

    # targets
    L.append("### Targets (from the project's issue)")
    L.append("")
    L.append("| target | measured (lmlab / peer) | met |")
    L.append("|---|---|---|")
    for key, row in results["targets"].items():
        L.append(f"| {TARGETS[key]} | {row['text']} | {'yes' if row['met'] else '**no**'} |")
    L.append("")

    L.append(f"### Estimation (modified Kneser-Ney, ARPA file written), median of {results['args']['runs']}")
    L.append("")
    L.append("`lmplz -o N -S 1G -T tmp --text TRAIN --arpa OUT` vs `lmlab ngram -o N --text TRAIN --arpa OUT "
             "--quiet`, each a subprocess from start to exit (Python start-up and imports included for lmlab). "
             "CPU = user + sys (lmplz runs threads).")
    L.append("")
    L.append("| data | order | n-grams | lmplz wall s | lmlab wall s | **lmlab / lmplz** | lmplz CPU s | lmlab CPU s "
             "| lmplz peak RSS MB | lmlab peak RSS MB | RSS ratio |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for c in configs:
        e = c["estimation"]
        L.append(f"| {c['dataset']} | {c['order']} | {c['ngrams']['lmlab_total']:,} | {_f(e['lmplz']['wall_s'])} "
                 f"| {_f(e['lmlab']['wall_s'])} | **{e['ratio_wall']:.2f}x** | {_f(e['lmplz']['cpu_s'])} "
                 f"| {_f(e['lmlab']['cpu_s'])} | {_f(e['lmplz']['peak_rss_mb'], 0)} "
                 f"| {_f(e['lmlab']['peak_rss_mb'], 0)} | {e['ratio_rss']:.2f}x |")
    L.append("")

    if results.get("limited"):
        import big_corpus

        L += big_corpus.render(results["limited"], results["limited"]["corpus_record"]) + [""]

    L.append("### Test perplexity")
    L.append("")
    L.append("KenLM `query -v summary` on its ARPA (trained on the `UNKTOK` copy) vs lmlab `evaluate` "
             "(perplexity including OOVs; lmlab counts the literal `<unk>` as OOV, KenLM's `UNKTOK` is a word).")
    L.append("")
    L.append("| data | order | tokens | KenLM | lmlab | abs. difference |")
    L.append("|---|---|---|---|---|---|")
    for c in configs:
        p = c["perplexity"]
        L.append(f"| {c['dataset']} | {c['order']} | {p['lmlab_evaluate']['tokens']:,} "
                 f"| {p['kenlm_query_arpa']['perplexity']:.4f} | {p['lmlab_evaluate']['perplexity']:.4f} "
                 f"| {p['abs_diff']:.5f} |")
    L.append("")

    L.append(f"### Query throughput (tokens/s; median of {results['args']['repeats']}, each timing >= "
             f"{results['args']['min_time']} s over repeated copies of the test set)")
    L.append("")
    if results.get("interleaved"):
        L.append("The Python calls of lmlab and KenLM run in one process, all models loaded, in rounds: each "
                 "round times every (model, call) once, so load from elsewhere on the machine hits both alike.")
    else:
        L.append("KenLM's module was not importable here, so its Python calls ran in a separate process "
                 f"(`{results['machine'].get('kenlm_python_exe')}`), after lmlab's.")
    L.append("")
    L.append("Tokens = words + one `</s>` per line. lmlab rows use the model read from its ARPA file; the "
             "Python-API rows for lmlab are `lmlab.kenlm.Model` (KenLM's API). \"batch\" is "
             "`NgramLM.corpus_log10` over already-encoded sentences; \"+ encode\" includes "
             "`vocab.encode(line.split())`. Ratios are against KenLM's `Model.score` on its ARPA-loaded "
             "model (probing in memory). Command-line rows: `query -v summary` on a binary, time for the "
             f"repeated file (>= {results['args']['cli_min_time']} s beyond start-up) minus a one-line run "
             "(start-up and load); lmlab's also tokenizes with its `Tokenizer`.")
    L.append("")
    L.append("| data | order | implementation | call | model | tokens/s | vs KenLM Model.score |")
    L.append("|---|---|---|---|---|---|---|")
    rows = [
        ("lmlab", "batch `corpus_log10`", "lmlab_arpa", "batch", "ARPA"),
        ("lmlab", "batch + encode", "lmlab_arpa", "batch_incl_encode", "ARPA"),
        ("lmlab", "encode only", "lmlab_arpa", "encode", "ARPA"),
        ("lmlab", "`Model.score` per line", "lmlab_arpa", "score", "ARPA"),
        ("lmlab", "`full_scores`", "lmlab_arpa", "full_scores", "ARPA"),
        ("lmlab", "State API `BaseScore`", "lmlab_arpa", "state", "ARPA"),
        ("lmlab", "batch `corpus_log10`", "lmlab_lmbin", "batch", ".lmbin"),
        ("lmlab", "`Model.score` per line", "lmlab_lmbin", "score", ".lmbin"),
        ("lmlab", "State API `BaseScore`", "lmlab_lmbin", "state", ".lmbin"),
        ("lmlab", "LanguageModel `token_logprobs`", "lmlab_arpa", "lm_token_logprobs", "ARPA"),
        ("lmlab", "LanguageModel `token_logprobs`", "lmlab_lmbin", "lm_token_logprobs", ".lmbin"),
        ("lmlab", "LanguageModel `step` loop", "lmlab_arpa", "lm_step", "ARPA"),
        ("lmlab", "LanguageModel `step` loop", "lmlab_lmbin", "lm_step", ".lmbin"),
        ("KenLM", "`Model.score` per line", "kenlm_arpa", "score", "ARPA"),
        ("KenLM", "`full_scores`", "kenlm_arpa", "full_scores", "ARPA"),
        ("KenLM", "State API `BaseScore`", "kenlm_arpa", "state", "ARPA"),
        ("KenLM", "`Model.score` per line", "kenlm_probing", "score", "probing"),
        ("KenLM", "`full_scores`", "kenlm_probing", "full_scores", "probing"),
        ("KenLM", "State API `BaseScore`", "kenlm_probing", "state", "probing"),
    ]
    for c in configs:
        q = c["query"]
        ref = q.get("kenlm_arpa", {}).get("methods", {}).get("score", {}).get("tokens_per_s")
        for impl, call, src, meth, model in rows:
            tps = q.get(src, {}).get("methods", {}).get(meth, {}).get("tokens_per_s")
            if tps is None:
                continue
            ratio = f"{tps / ref:.2f}x" if ref else "-"
            if (impl, meth, src) == ("lmlab", "batch", "lmlab_arpa"):
                ratio = f"**{ratio}**"
            L.append(f"| {c['dataset']} | {c['order']} | {impl} | {call} | {model} | {_k(tps)} | {ratio} |")
        for impl, src, model in (("KenLM", "kenlm_query_cli_probing", "probing"),
                                 ("lmlab", "lmlab_query_cli_lmbin", ".lmbin")):
            w = q.get(src)
            if w:
                ratio = f"{w['tokens_per_s'] / ref:.2f}x" if ref else "-"
                L.append(f"| {c['dataset']} | {c['order']} | {impl} | `query -v summary` (CLI) | {model} "
                         f"| {_k(w['tokens_per_s'])} | {ratio} |")
    L.append("")

    L.append("### Model load")
    L.append("")
    L.append("`Model(path)` (lmlab: `lmlab.kenlm.Model`, KenLM: `kenlm.Model`) plus the first `score` call, first "
             "thing in a fresh process after the imports (one sample each; numba's cache was warmed before the "
             "run, files are in the page cache). Memory: peak RSS of that process up to the end of the load, "
             "minus its RSS just before (Python, numpy/numba or kenlm already imported); in brackets the "
             "RSS still held after the load, same baseline.")
    L.append("")
    L.append("\"engine started\": the `.lmbin` opened (and scored once) in the query process, after other models, "
             "so numba's kernels are loaded already; \"first `next_logprobs`\": the fresh process's first "
             "`model.lm.next_logprobs([begin_state])` after its first score.")
    L.append("")
    L.append("| data | order | lmlab ARPA | KenLM ARPA | ratio | lmlab .lmbin | KenLM probing | "
             "lmlab .lmbin, engine started | lmlab .lmbin first `next_logprobs` | "
             "MB lmlab ARPA | MB KenLM ARPA | MB lmlab .lmbin | MB KenLM probing |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")

    def mem(w):
        if not w or w.get("rss_before_load_mb") is None:
            return "-"
        return (f"{w['rss_after_load_mb'] - w['rss_before_load_mb']:,.0f} "
                f"({w['rss_now_after_load_mb'] - w['rss_before_load_mb']:,.0f})")

    for c in configs:
        q = c["query"]["load"]
        g = lambda s, k: q.get(s, {}).get(k)  # noqa: E731
        la, ka = g("lmlab_arpa", "load_to_first_query_s"), g("kenlm_arpa", "load_to_first_query_s")
        L.append(f"| {c['dataset']} | {c['order']} | {_t(la)} | {_t(ka)} | {f'{la / ka:.1f}x' if la and ka else '-'} "
                 f"| {_t(g('lmlab_lmbin', 'load_to_first_query_s'))} | {_t(g('kenlm_probing', 'load_to_first_query_s'))} "
                 f"| {_t(c['query'].get('lmlab_lmbin', {}).get('load_to_first_query_s'))} "
                 f"| {_t(g('lmlab_lmbin', 'first_next_logprobs_s'))} "
                 f"| {mem(q.get('lmlab_arpa'))} | {mem(q.get('kenlm_arpa'))} | {mem(q.get('lmlab_lmbin'))} "
                 f"| {mem(q.get('kenlm_probing'))} |")
    L.append("")

    L.append("### Size (bytes per n-gram)")
    L.append("")
    L.append("| data | order | n-grams (lmlab / KenLM) | lmlab .lmbin | KenLM probing | KenLM trie | lmlab .lmbin / KenLM probing "
             "| .lmbin MB | probing MB | trie MB |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for c in configs:
        b, s = c["sizes"]["bytes_per_ngram"], c["sizes"]["bytes"]
        L.append(f"| {c['dataset']} | {c['order']} | {c['ngrams']['lmlab_total']:,} / {c['ngrams']['kenlm_total']:,} "
                 f"| {b['lmlab_lmbin']:.1f} | {b['kenlm_probing']:.1f} | {b['kenlm_trie']:.1f} "
                 f"| {b['lmlab_lmbin'] / b['kenlm_probing']:.2f}x | {s['lmlab_lmbin'] / 1e6:.1f} "
                 f"| {s['kenlm_probing'] / 1e6:.1f} | {s['kenlm_trie'] / 1e6:.1f} |")
    L.append("")

    L += render_compact(configs)

    n = results.get("nltk")
    if n:
        L.append("### NLTK floor")
        L.append("")
        lm_tps = n["lmlab_batch_tokens_per_s"]
        L.append(f"`nltk.lm.KneserNeyInterpolated({n['order']})` (nltk {n['nltk_version']}, its default fixed "
                 f"discount {n['discount']}, not modified KN's estimated discounts: a different model, compared "
                 f"for speed only) fitted on PTB train with `padded_everygram_pipeline` in {n['fit_s']:.1f} s, "
                 f"then `logscore` of every token of the first {n['lines_scored']} PTB test lines "
                 f"({n['tokens']:,} tokens, {n['score_s']:.1f} s). lmlab: the batch scorer on the PTB 3-gram from "
                 "the table above.")
        L.append("")
        L.append("| NLTK tokens/s | lmlab batch tokens/s | **lmlab / NLTK** | NLTK perplexity on the sample |")
        L.append("|---|---|---|---|")
        L.append(f"| {n['tokens_per_s']:.1f} | {_k(lm_tps)} | **{lm_tps / n['tokens_per_s']:,.0f}x** "
                 f"| {_f(n['perplexity_on_sample'])} |")
        L.append("")

    if results["notes"]:
        L.append("### Notes from this run")
        L.append("")
        for note in results["notes"]:
            L.append(f"- {note}")
        L.append("")
    return "\n".join(L).rstrip() + "\n"


def compute_targets(results: dict) -> dict:
    configs = results["configs"]
    t = {}
    worst = max(configs, key=lambda c: c["estimation"]["ratio_wall"])
    t["estimation"] = {
        "met": all(c["estimation"]["ratio_wall"] <= 2.0 for c in configs),
        "ratios": {f"{c['dataset']}.o{c['order']}": c["estimation"]["ratio_wall"] for c in configs},
        "text": ", ".join(f"{c['dataset']} o{c['order']} {c['estimation']['ratio_wall']:.2f}x" for c in configs)
        + f" (worst {worst['dataset']} o{worst['order']})",
    }
    ratios = {}
    for c in configs:
        q = c["query"]
        ref = q.get("kenlm_arpa", {}).get("methods", {}).get("score", {}).get("tokens_per_s")
        if ref:
            ratios[f"{c['dataset']}.o{c['order']}"] = {
                "batch": q["lmlab_arpa"]["methods"]["batch"]["tokens_per_s"] / ref,
                "batch_incl_encode": q["lmlab_arpa"]["methods"]["batch_incl_encode"]["tokens_per_s"] / ref,
            }
    if ratios:
        t["batch"] = {
            "met": all(r["batch"] >= 0.5 for r in ratios.values()),
            "ratios": ratios,
            "text": ", ".join(f"{k.replace('.o', ' o')} {r['batch']:.2f}x ({r['batch_incl_encode']:.2f}x with "
                              "encoding)" for k, r in ratios.items()),
        }
    compact = {f"{c['dataset']}.o{c['order']}": c["compact"]["bytes_per_ngram"] for c in configs if c.get("compact")}
    if compact:  # issue 11: the trie no larger an n-gram than KenLM's, the quantised one beside KenLM's
        t["compact"] = {"met": all(b["lmlab_trie"] <= b["kenlm_trie"] for b in compact.values()),
                        "text": ", ".join(f"{k.replace('.o', ' o')} trie {b['lmlab_trie']:.2f} vs {b['kenlm_trie']:.2f}, "
                                          f"q8b8 {b['lmlab_trie_q8b8']:.2f} vs {b['kenlm_trie_q8b8']:.2f} B/n-gram"
                                          for k, b in compact.items())}
    lim = results.get("limited")
    if lim:
        ok = lim["lmlab"]["within_limit"] and lim["lmlab"]["same_arpa_as_in_memory"]
        t["limited"] = {"met": ok, "text": f"{lim['lmlab']['peak_rss_mb']:.0f} MB at -S {lim['memory']}, "
                        + ("same ARPA" if lim["lmlab"]["same_arpa_as_in_memory"] else "DIFFERENT ARPA")}
    n = results.get("nltk")
    if n:
        r = n["lmlab_batch_tokens_per_s"] / n["tokens_per_s"]
        t["nltk"] = {"met": r >= 1000, "ratio": r, "text": f"{r:,.0f}x (PTB, order 3)"}
    return t


def update_markdown(path: Path, section: str) -> None:
    block = f"{BEGIN}\n{section}{END}\n"
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if BEGIN in text and END in text:
            pre, rest = text.split(BEGIN, 1)
            post = rest.split(END, 1)[1].lstrip("\n")
            text = pre + block + ("\n" + post if post else "")
        else:
            text = text.rstrip("\n") + "\n\n" + block
    else:
        text = ("# Benchmarks\n\n"
                "Every number in this file is written by a script in `benchmarks/`; rerun it to refresh "
                "its section (other sections are left alone):\n\n"
                "```bash\n.venv/bin/python benchmarks/ngram_bench.py   # n-gram section, about 10 min on 2 CPUs\n```\n\n"
                "Each section names the machine and date of its run. Ratios compare lmlab with a peer "
                "toolkit measured in the same run.\n\n" + block)
    path.write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("spec", nargs="?", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="PTB order 5 only, no NLTK; results go to "
                    "results/ngram_quick.json and BENCHMARKS.md is not touched")
    ap.add_argument("--kenlm-bin", help="folder with lmplz, query, build_binary (default: "
                    f"{DEFAULT_KENLM_BIN} if present, else built by benchmarks/build_kenlm.sh)")
    ap.add_argument("--kenlm-python", help="a Python with `import kenlm` (default: this one, if it has it)")
    ap.add_argument("--data", help="data folder (default: $LMLAB_DATA, else ../shared/data next to the repo)")
    ap.add_argument("--runs", type=int, default=3, help="estimation runs per tool (median)")
    ap.add_argument("--repeats", type=int, default=5, help="timings per query method (median)")
    ap.add_argument("--min-time", type=float, default=0.3, help="seconds one query timing must last at least")
    ap.add_argument("--cli-min-time", type=float, default=1.0,
                    help="seconds a command-line query timing must last beyond its one-line run")
    ap.add_argument("--nltk-lines", type=int, default=30, help="PTB test lines NLTK scores")
    ap.add_argument("--nltk-cap", type=float, default=60.0, help="stop NLTK scoring after this many seconds")
    ap.add_argument("--json", help="output JSON (default: benchmarks/results/ngram.json)")
    ap.add_argument("--markdown", default=str(REPO / "BENCHMARKS.md"), help="file whose n-gram section is rewritten")
    ap.add_argument("--no-markdown", action="store_true", help="do not touch BENCHMARKS.md")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--limited-tokens", type=int, default=20_000_000,
                    help="tokens of the sampled corpus of the memory-limited case (benchmarks/big_corpus.py)")
    ap.add_argument("--limited-memory", default="1G", help="-S of lmlab and lmplz in the memory-limited case")
    ap.add_argument("--limited-jobs", type=int, default=1, help="processes sampling that corpus (first run only)")
    ap.add_argument("--no-limited", action="store_true", help="skip the memory-limited case")
    ap.add_argument("--compact-only", action="store_true", help="only the compact-format case (trie, -q 8 -b 8) on "
                    "PTB order 5; results go to results/ngram_compact.json and BENCHMARKS.md is not touched")
    args = ap.parse_args(argv)

    if args.worker:
        spec = json.loads(args.spec)
        out = {"query": worker_query, "load": worker_load, "nltk": worker_nltk,
               "warmup": worker_warmup}[args.worker](spec)
        print(json.dumps(out))
        return 0

    t_start = time.perf_counter()
    load_start = os.getloadavg()
    snap_start = cpu_snapshot()
    src_start = lmlab_source_hash()
    data = Path(args.data or os.environ.get("LMLAB_DATA") or REPO.parent / "shared" / "data")
    kbin = resolve_kenlm_bin(args.kenlm_bin)
    kpy, kver = resolve_kenlm_python(args.kenlm_python)
    interleaved = kpy == sys.executable
    if kpy is None:
        log("no Python with `import kenlm`: KenLM Python rows are skipped (pip install kenlm==0.3.0, "
            "or --kenlm-python)")
    configs = [("ptb", 5)] if args.quick or args.compact_only else [("ptb", 3), ("ptb", 5), ("wikitext-2", 3), ("wikitext-2", 5)]
    tmp = Path(tempfile.mkdtemp(prefix="ngram_bench."))
    log(f"KenLM bin {kbin}; KenLM Python {kpy} ({kver}); data {data}; temp {tmp}")
    results: dict = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                     "args": {k: v for k, v in vars(args).items() if k not in ("worker", "spec")},
                     "machine": machine_info(kbin, kver), "interleaved": interleaved, "configs": []}
    results["machine"]["kenlm_python_exe"] = kpy
    try:
        files = {}
        for name in dict.fromkeys(n for n, _ in configs):
            folder, tr, te = DATASETS[name]
            f = {"train": data / folder / tr, "test": data / folder / te}
            for key in ("train", "test"):
                if not f[key].is_file():
                    raise SystemExit(f"missing {f[key]} (set LMLAB_DATA or --data)")
                k = tmp / f"{name}.{key}.unktok.txt"
                k.write_text(f[key].read_text(encoding="utf-8").replace("<unk>", "UNKTOK"), encoding="utf-8")
                f["k" + key] = k
            files[name] = f
        log("warm-up: filling numba's cache for lmlab's kernels (not timed)")
        first = files[configs[0][0]]
        results["warmup"] = run_worker(sys.executable, {"train": str(first["train"]), "tmp": str(tmp),
                                                        "orders": sorted({o for _, o in configs})}, "warmup")
        subprocess.run(lmlab_cli() + ["ngram", "-o", "3", "--discount_fallback", "--text", str(first["test"]),
                                      "--arpa", str(tmp / "warm.arpa"), "--quiet"], check=True)
        if args.compact_only:
            res = compact_only(files["ptb"], tmp, args, kbin, kpy)
            out_json = Path(args.json) if args.json else REPO / "benchmarks" / "results" / "ngram_compact.json"
            out_json.parent.mkdir(parents=True, exist_ok=True)
            res["machine"], res["date"] = results["machine"], results["date"]
            out_json.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
            print("\n".join(render_compact([res])))
            log(f"wrote {out_json}")
            return 0
        for name, order in configs:
            snap = cpu_snapshot()
            res = bench_config(name, order, files[name], tmp, args, kbin, kpy)
            res["other_load"] = other_load(snap, cpu_snapshot())
            results["configs"].append(res)
        if not args.quick:
            log(f"NLTK: fit KneserNeyInterpolated(3) on PTB, score the first {args.nltk_lines} test lines")
            snap = cpu_snapshot()
            n = run_worker(sys.executable, {"order": 3, "train": str(files["ptb"]["train"]),
                                            "test": str(files["ptb"]["test"]), "lines": args.nltk_lines,
                                            "cap_s": args.nltk_cap}, "nltk")
            ptb3 = next(c for c in results["configs"] if (c["dataset"], c["order"]) == ("ptb", 3))
            n["other_load"] = other_load(snap, cpu_snapshot())
            n["lmlab_batch_tokens_per_s"] = ptb3["query"]["lmlab_arpa"]["methods"]["batch"]["tokens_per_s"]
            n["ratio_lmlab_batch_over_nltk"] = n["lmlab_batch_tokens_per_s"] / n["tokens_per_s"]
            results["nltk"] = n
        if not (args.quick or args.no_limited):
            import big_corpus  # this script's folder; stdlib only at module level

            corpus, record = big_corpus.ensure_corpus(args.limited_tokens, data=data, jobs=args.limited_jobs)
            snap = cpu_snapshot()
            lim = big_corpus.bench_limited(corpus, args.limited_memory, kbin, tmp / "limited")
            results["limited"] = dict(lim, corpus_record=record, other_load=other_load(snap, cpu_snapshot()))
    finally:
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    results["load"] = {"start": list(load_start), "end": list(os.getloadavg()),
                       **other_load(snap_start, cpu_snapshot())}
    results["elapsed_s"] = time.perf_counter() - t_start
    results["lmlab_source_sha256"] = {"start": src_start, "end": lmlab_source_hash()}
    notes = sanity(results)
    if src_start != results["lmlab_source_sha256"]["end"]:
        notes.append("lmlab's sources changed during the run (an edit in lmlab/): parts of this run measured "
                     "different code; rerun for a consistent set")
    if results["load"]["other_cores"] > 0.1:
        notes.append(f"the machine was not idle: processes other than the benchmark used "
                     f"{results['load']['other_cores']:.2f} of a core on average over the whole run "
                     f"({os.cpu_count()} CPUs), so timings may be pessimistic and noisier than usual")
    for c in results["configs"] + ([results["nltk"]] if results.get("nltk") else []):
        o = c["other_load"]
        if o["other_cores"] > 0.1:
            what = f"{c['dataset']} o{c['order']}" if "dataset" in c else "NLTK"
            notes.append(f"{what}: other processes used {o['other_cpu_s']:.0f} CPU-s in {o['wall_s']:.0f} s "
                         f"({o['other_cores']:.2f} of a core on average) while it was measured")
    results["notes"] = notes
    results["targets"] = compute_targets(results)
    out_json = Path(args.json) if args.json else REPO / "benchmarks" / "results" / (
        "ngram_quick.json" if args.quick else "ngram.json")
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    section = render(results)
    if args.quick or args.no_markdown:
        print(section)
    else:
        update_markdown(Path(args.markdown), section)
        log(f"wrote {args.markdown}")
    log(f"wrote {out_json} ({results['elapsed_s'] / 60:.1f} min)")
    for note in notes:
        log("NOTE " + note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
