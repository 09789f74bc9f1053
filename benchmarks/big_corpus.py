#!/usr/bin/env python3
"""The >= 20 M-token corpus of the memory-limited estimation benchmark, and that benchmark.

    .venv/bin/python benchmarks/big_corpus.py                       # make (or finish) the 20 M-token corpus
    .venv/bin/python benchmarks/big_corpus.py --tokens 1000000 --bench -S 50M --kenlm-bin DIR

The corpus is sampled once from the WikiText-2 Kneser-Ney 5-gram (``lmlab ngram -o 5`` on
``$LMLAB_DATA/wikitext-2/train.txt``) through lmlab's own generation
(:func:`lmlab.generate.decode.generate`, what ``lmlab generate`` runs: ``<unk>`` is never
sampled, so lmplz and lmlab read the same text), one line per sampled sentence, sentence ``i``
seeded ``seed * 10**9 + i``.  So new n-grams keep appearing as in real text, and the result
does not depend on how the work was split.  Generation draws each token in the query engine
(:meth:`lmlab.models.ngram.model.NgramLM.sample_tokens`, exact: about 200,000 tokens/s at one
thread on a loaded 2-vCPU machine, the 20 M tokens in about 2 minutes).  It runs in chunks of ``--chunk-sentences`` sentences, each written atomically with a
record beside it: an interrupted run resumes at the first missing chunk, ``--jobs`` processes
sample chunks side by side, and the corpus is the first chunks that together reach
``--tokens`` tokens (words + one ``</s>`` per line).  ``SAMPLER`` names the way tokens are drawn;
chunks and corpora of another sampler (which would give other text for the same seed) live
under other names and are never reused or mixed in.

Everything lives in the cache folder (default ``runs/big_corpus`` in the repository, which git
ignores; never commit it): the model (``wt2.kn5.arpa`` + ``model.json``: checksums of the training
text and of the ARPA), ``chunks-sSEED-vSAMPLER/``, and ``corpus-TOKENS-sSEED-vSAMPLER.txt`` with
its ``.json`` (seed, size, the model's and the corpus's sha256), reused whenever
the checksums match.

The benchmark (:func:`bench_limited`, also run by ``ngram_bench.py``): ``lmlab ngram -S LIMIT``
with a limit below the size of the corpus's count table vs ``lmplz -S LIMIT``, wall time, CPU
time and peak RSS of each, and both ARPA files checked against lmlab's in-memory estimation:
lmlab's byte for byte, lmplz's n-gram for n-gram (same n-grams, log10 values within 1e-5).
lmplz refuses a limit below its vocabulary hash estimate (24 MiB with its default
``--vocab_estimate``), so a small corpus needs ``-S 40M`` or more.

Only the standard library at module level (``ngram_bench.py`` imports it in its KenLM worker).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ngram_bench import arpa_counts, lmlab_cli, run_timed  # this folder; stdlib only at module level

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = REPO / "runs" / "big_corpus"
TOKENS = 20_000_000
SEED = 11
CHUNK_SENTENCES = 4000
MAX_TOKENS = 2000  # a sampled sentence is cut after this many tokens (WikiText-2 lines are paragraphs)
ORDER = 5
#: bytes per n-gram of order >= 2 of lmlab's count table (keys, prefix, suffix, count: 8 B each;
#: word 4 B; bos 1 B): the size a limit is compared with
COUNT_TABLE_BYTES = 37
#: how sentences are drawn: 1, sampling next_logprobs' full distribution (one uniform per token);
#: 2, the query engine's sampler (NgramLM.sample_tokens).  Part of every cache name and record.
SAMPLER = 2
RSS_SLACK_MB = 250  # the bound: peak RSS <= limit + 250 MB
TOLERANCE = 1e-5  # log10, lmplz's values against lmlab's (float32 and lmplz's own rounding)


def log(msg: str) -> None:
    print(f"[big_corpus {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sha256(path: Path) -> str:
    from lmlab.data.registry import sha256_of

    return sha256_of(path)


def _read_record(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# -- the model ------------------------------------------------------------------------------------
def ensure_model(cache: Path, data: Path) -> tuple[Path, str]:
    """The WikiText-2 KN 5-gram ARPA in ``cache`` (estimated once) and its sha256."""
    train = data / "wikitext-2" / "train.txt"
    if not train.is_file():
        raise SystemExit(f"missing {train} (set LMLAB_DATA or --data)")
    arpa, record = cache / "wt2.kn5.arpa", cache / "model.json"
    train_sha = sha256(train)
    rec = _read_record(record)
    if rec and rec.get("train_sha256") == train_sha and arpa.is_file() and sha256(arpa) == rec.get("arpa_sha256"):
        return arpa, rec["arpa_sha256"]
    cache.mkdir(parents=True, exist_ok=True)
    log(f"estimating the WikiText-2 KN {ORDER}-gram into {arpa}")
    subprocess.run(lmlab_cli() + ["ngram", "-o", str(ORDER), "--text", str(train), "--arpa", str(arpa), "--quiet"],
                   check=True)
    rec = {"train": str(train), "train_sha256": train_sha, "order": ORDER, "smoothing": "modified_kneser_ney",
           "arpa_sha256": sha256(arpa)}
    _write_atomic(record, json.dumps(rec, indent=1) + "\n")
    return arpa, rec["arpa_sha256"]


# -- sampling, a chunk at a time -------------------------------------------------------------------
_MODEL: dict = {}


def _load_model(arpa: str) -> None:
    from lmlab.models.ngram.model_files import load_arpa

    _MODEL["lm"] = load_arpa(arpa)


def sample_chunk(spec: dict) -> dict:
    """Sample chunk ``spec['chunk']`` (sentences ``chunk * n .. chunk * n + n - 1``) into its file
    and record; returns the record.  Runs in a worker process that loaded the model."""
    from lmlab.generate.decode import generate

    lm = _MODEL["lm"]
    n, c = spec["chunk_sentences"], spec["chunk"]
    path = Path(spec["folder"]) / f"chunk-{c:05d}.txt"
    lines, tokens = [], 0
    t0 = time.perf_counter()
    for i in range(c * n, (c + 1) * n):
        g = generate(lm, seed=spec["seed"] * 10**9 + i, max_tokens=spec["max_tokens"])
        lines.append(" ".join(g.tokens))
        tokens += len(g.tokens) + 1
    _write_atomic(path, "\n".join(lines) + "\n")
    rec = {"chunk": c, "first_sentence": c * n, "sentences": n, "tokens": tokens, "seed": spec["seed"],
           "sampler": spec["sampler"],
           "max_tokens": spec["max_tokens"], "model_sha256": spec["model_sha256"], "sha256": sha256(path),
           "seconds": time.perf_counter() - t0}
    _write_atomic(path.with_suffix(".json"), json.dumps(rec) + "\n")
    return rec


class _Pool:
    """``jobs`` worker processes that loaded the model, or (one job) this process."""

    def __init__(self, jobs: int, arpa: str):
        self.pool = None
        if jobs > 1:
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(max_workers=jobs, initializer=_load_model, initargs=(arpa,))
        else:
            _load_model(arpa)

    def map(self, fn, items):
        return self.pool.map(fn, items) if self.pool is not None else map(fn, items)

    def shutdown(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def _chunk_record(folder: Path, c: int, want: dict) -> dict | None:
    rec = _read_record(folder / f"chunk-{c:05d}.json")
    if rec and all(rec.get(k) == want[k] for k in ("seed", "max_tokens", "model_sha256", "sampler")) \
            and rec.get("sentences") == want["chunk_sentences"] and (folder / f"chunk-{c:05d}.txt").is_file():
        return rec
    return None


def ensure_corpus(tokens: int = TOKENS, seed: int = SEED, cache: Path = DEFAULT_CACHE, data: Path | None = None,
                  jobs: int = 1, chunk_sentences: int = CHUNK_SENTENCES) -> tuple[Path, dict]:
    """The sampled corpus of at least ``tokens`` tokens (made, finished or reused) and its record."""
    data = data or Path(os.environ.get("LMLAB_DATA") or REPO.parent / "shared" / "data")
    cache = Path(cache)
    name = f"corpus-{tokens}-s{seed}-v{SAMPLER}"
    out, record = cache / f"{name}.txt", cache / f"{name}.json"
    rec = _read_record(record)
    if rec and rec.get("sampler") == SAMPLER and out.is_file() and out.stat().st_size == rec.get("bytes") and sha256(out) == rec.get("sha256"):
        log(f"reusing {out} ({rec['tokens']:,} tokens, seed {seed})")
        return out, rec
    arpa, model_sha = ensure_model(cache, data)
    folder = cache / f"chunks-s{seed}-v{SAMPLER}"
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"folder": str(folder), "seed": seed, "max_tokens": MAX_TOKENS, "model_sha256": model_sha,
            "chunk_sentences": chunk_sentences, "sampler": SAMPLER}
    done: list[dict] = []
    pool = None
    t0 = time.perf_counter()
    try:
        while sum(r["tokens"] for r in done) < tokens:
            c = len(done)
            rec_c = _chunk_record(folder, c, spec)
            if rec_c is None:
                if pool is None:
                    log(f"sampling chunks of {chunk_sentences} sentences into {folder} ({jobs} process(es))")
                    pool = _Pool(jobs, str(arpa))
                have = sum(r["tokens"] for r in done)
                per = have / c if c else chunk_sentences * 60  # tokens per chunk so far (60 a sentence to start)
                need = max(1, min(jobs, -(-(tokens - have) // max(1, int(per)))))
                todo = [k for k in range(c, c + need) if _chunk_record(folder, k, spec) is None]
                for r in pool.map(sample_chunk, [dict(spec, chunk=k) for k in todo]):
                    log(f"chunk {r['chunk']}: {r['tokens']:,} tokens in {r['seconds']:.0f} s "
                        f"({r['tokens'] / r['seconds']:,.0f} tokens/s)")
                rec_c = _chunk_record(folder, c, spec)
            done.append(rec_c)
    finally:
        if pool is not None:
            pool.shutdown()
    sampled = sum(r.get("seconds", 0.0) for r in done)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "wb") as fh:
        for r in done:
            fh.write((folder / f"chunk-{r['chunk']:05d}.txt").read_bytes())
    os.replace(tmp, out)
    rec = {"tokens": sum(r["tokens"] for r in done), "target_tokens": tokens,
           "lines": sum(r["sentences"] for r in done), "seed": seed, "chunks": len(done),
           "chunk_sentences": chunk_sentences, "max_tokens": MAX_TOKENS, "model": str(arpa),
           "model_sha256": model_sha, "bytes": out.stat().st_size, "sha256": sha256(out),
           "sampling_seconds": sampled, "assembled_in_s": time.perf_counter() - t0,
           "sampler": SAMPLER,
           "sampled_by": "lmlab.generate.decode.generate (seed * 10**9 + sentence index)"}
    _write_atomic(record, json.dumps(rec, indent=1) + "\n")
    log(f"wrote {out}: {rec['tokens']:,} tokens, {rec['lines']:,} lines")
    return out, rec


# -- the benchmark --------------------------------------------------------------------------------
def _sorted_rows(arpa: Path, tmp: Path, memory: str) -> Path:
    """The n-gram lines of an ARPA file as ``ORDER WORDS \\t LOGPROB \\t BACKOFF`` sorted bytewise
    (GNU sort, on disk: bounded memory for any size)."""
    flat = tmp / (arpa.name + ".rows")
    with open(arpa, encoding="utf-8") as fh, open(flat, "w", encoding="utf-8") as out:
        order = 0
        for line in fh:
            if line.startswith("\\"):
                order = int(line[1:].split("-")[0]) if line[1:2].isdigit() else 0
                continue
            if order and line.strip():
                f = line.rstrip("\n").split("\t")
                out.write(f"{order} {f[1]}\t{f[0]}\t{f[2] if len(f) > 2 else '0'}\n")
    done = tmp / (arpa.name + ".sorted")
    subprocess.run(["sort", "-S", memory, "-T", str(tmp), "-o", str(done), str(flat)], check=True,
                   env=dict(os.environ, LC_ALL="C"))
    flat.unlink()
    return done


def compare_arpa(ours: Path, theirs: Path, tmp: Path, memory: str = "200M") -> dict:
    """lmplz's ARPA against lmlab's: the same n-grams, and the largest differences of log10
    probability and backoff (``<s>``'s probability left out: -99 in lmlab's, 0 in lmplz's)."""
    a, b = _sorted_rows(ours, tmp, memory), _sorted_rows(theirs, tmp, memory)
    same, n, dp, db = True, 0, 0.0, 0.0
    with open(a, encoding="utf-8") as fa, open(b, encoding="utf-8") as fb:
        for la, lb in zip(fa, fb, strict=False):
            ka, pa, ba = la.rstrip("\n").split("\t")
            kb, pb, bb = lb.rstrip("\n").split("\t")
            if ka != kb:
                same = False
                break
            n += 1
            if ka != "1 <s>":
                dp = max(dp, abs(float(pa) - float(pb)))
            db = max(db, abs(float(ba) - float(bb)))
        same = same and fa.readline() == "" and fb.readline() == ""
    a.unlink()
    b.unlink()
    return {"same_ngrams": same, "compared": n, "max_abs_diff_logprob10": dp, "max_abs_diff_backoff10": db,
            "within_tolerance": same and dp <= TOLERANCE and db <= TOLERANCE, "tolerance": TOLERANCE}


def bench_limited(corpus: Path, memory: str, kbin: Path | None, tmp: Path, order: int = ORDER) -> dict:
    """lmlab ``ngram -S memory`` vs ``lmplz -S memory`` on ``corpus``, both checked against lmlab's
    in-memory estimation (see the module docstring)."""
    from lmlab.counts.external import parse_memory  # -S as lmplz (and lmlab) read it

    tmp.mkdir(parents=True, exist_ok=True)
    limit = parse_memory(memory)
    cmd = lmlab_cli() + ["ngram", "-o", str(order), "--text", str(corpus), "--quiet", "--arpa"]
    mem_arpa, lim_arpa, k_arpa = tmp / "memory.arpa", tmp / "limited.arpa", tmp / "lmplz.arpa"
    log(f"lmlab in memory on {corpus.name}")
    res: dict = {"corpus": str(corpus), "order": order, "memory": memory, "limit_bytes": limit,
                 "lmlab_in_memory": run_timed(cmd + [str(mem_arpa)])}
    counts = arpa_counts(mem_arpa)
    res["ngrams"] = counts
    res["count_table_mb"] = sum(counts[1:]) * COUNT_TABLE_BYTES / 2**20
    res["limit_below_count_table"] = limit < sum(counts[1:]) * COUNT_TABLE_BYTES
    log(f"lmlab -S {memory}")
    res["lmlab"] = run_timed(cmd + [str(lim_arpa), "-S", memory, "-T", str(tmp)])
    res["lmlab"]["same_arpa_as_in_memory"] = sha256(lim_arpa) == sha256(mem_arpa)
    res["lmlab"]["within_limit"] = res["lmlab"]["peak_rss_mb"] <= limit / 2**20 + RSS_SLACK_MB
    lim_arpa.unlink()
    if kbin is not None:
        log(f"lmplz -S {memory}")
        ktmp = tmp / "lmplz_tmp"
        ktmp.mkdir(exist_ok=True)
        res["lmplz"] = run_timed([str(kbin / "lmplz"), "-o", str(order), "-S", memory, "-T", str(ktmp) + "/",
                                  "--text", str(corpus), "--arpa", str(k_arpa)])
        res["lmplz"]["vs_lmlab_in_memory"] = compare_arpa(mem_arpa, k_arpa, tmp)
        k_arpa.unlink()
        res["ratio_wall"] = res["lmlab"]["wall_s"] / res["lmplz"]["wall_s"]
        res["ratio_rss"] = res["lmlab"]["peak_rss_mb"] / res["lmplz"]["peak_rss_mb"]
    mem_arpa.unlink()
    return res


def render(res: dict, corpus: dict) -> list[str]:
    """Markdown lines of the memory-limited case (for BENCHMARKS.md's n-gram section)."""
    f = lambda x, nd=1: "n/a" if x is None else f"{x:,.{nd}f}"  # noqa: E731
    L = ["", f"### Memory-limited estimation: a {corpus['tokens']:,}-token corpus, order {res['order']}, "
         f"`-S {res['memory']}`", ""]
    L.append(f"Sampled once from the WikiText-2 KN 5-gram (seed {corpus['seed']}, `benchmarks/big_corpus.py`; "
             f"corpus sha256 `{corpus['sha256'][:16]}`). Its count table (lmlab's layout, "
             f"{COUNT_TABLE_BYTES} B per n-gram of order >= 2): {f(res['count_table_mb'], 0)} MB, "
             f"{'above' if res['limit_below_count_table'] else 'NOT above'} the limit.")
    L += ["", "| run | wall s | CPU s | peak RSS MB | ARPA vs lmlab in memory |", "|---|---|---|---|---|"]
    m, lim = res["lmlab_in_memory"], res["lmlab"]
    L.append(f"| lmlab, in memory | {f(m['wall_s'])} | {f(m['cpu_s'])} | {f(m['peak_rss_mb'], 0)} | (reference) |")
    L.append(f"| lmlab `-S {res['memory']}` | {f(lim['wall_s'])} | {f(lim['cpu_s'])} | {f(lim['peak_rss_mb'], 0)} "
             f"| {'byte for byte' if lim['same_arpa_as_in_memory'] else 'DIFFERENT'} |")
    if "lmplz" in res:
        k, c = res["lmplz"], res["lmplz"]["vs_lmlab_in_memory"]
        same = (f"same n-grams, max diff {c['max_abs_diff_logprob10']:.1e} (log10 p), "
                f"{c['max_abs_diff_backoff10']:.1e} (backoff)") if c["same_ngrams"] else "DIFFERENT n-grams"
        L.append(f"| lmplz `-S {res['memory']}` | {f(k['wall_s'])} | {f(k['cpu_s'])} | {f(k['peak_rss_mb'], 0)} "
                 f"| {same} |")
        L.append("")
        L.append(f"lmlab / lmplz: wall **{res['ratio_wall']:.2f}x**, peak RSS {res['ratio_rss']:.2f}x. ")
    L.append(f"lmlab's peak RSS is {'within' if lim['within_limit'] else 'ABOVE'} the limit + {RSS_SLACK_MB} MB.")
    return L


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tokens", type=int, default=TOKENS, help=f"at least this many tokens (default {TOKENS:,})")
    ap.add_argument("--seed", type=int, default=SEED, help=f"sampling seed (default {SEED})")
    ap.add_argument("--jobs", type=int, default=1, help="processes sampling chunks side by side (default 1)")
    ap.add_argument("--chunk-sentences", type=int, default=CHUNK_SENTENCES,
                    help=f"sentences per chunk (default {CHUNK_SENTENCES})")
    ap.add_argument("--cache", default=str(DEFAULT_CACHE), help=f"cache folder (default {DEFAULT_CACHE})")
    ap.add_argument("--data", help="data folder (default: $LMLAB_DATA, else ../shared/data next to the repo)")
    ap.add_argument("--bench", action="store_true", help="then run the memory-limited estimation case")
    ap.add_argument("-S", "--memory", default="1G", help="the limit of both tools in --bench (default 1G)")
    ap.add_argument("--kenlm-bin", help="folder with lmplz (default: without lmplz, lmlab's rows only)")
    ap.add_argument("--json", help="write the case's results here (default: print them)")
    args = ap.parse_args(argv)
    corpus, rec = ensure_corpus(args.tokens, args.seed, Path(args.cache), Path(args.data) if args.data else None,
                                args.jobs, args.chunk_sentences)
    if args.bench:
        tmp = Path(tempfile.mkdtemp(prefix="big_corpus."))
        try:
            res = bench_limited(corpus, args.memory, Path(args.kenlm_bin) if args.kenlm_bin else None, tmp)
        finally:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        out = json.dumps({"corpus": rec, "limited": res}, indent=1)
        if args.json:
            Path(args.json).write_text(out + "\n", encoding="utf-8")
        print(out)
        print("\n".join(render(res, rec)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
