#!/usr/bin/env python3
"""Training and generation speed against pytorch/examples' word_language_model, in one run.

    .venv/bin/python benchmarks/neural_speed.py --peer /path/to/examples/word_language_model [--threads 2]

The peer is pytorch/examples' ``word_language_model`` folder (``main.py``, ``generate.py``; get it
with ``git clone https://github.com/pytorch/examples``); it is run as it is, never imported or
copied.  Both sides: PTB, 2x200 LSTM, dropout 0.2, bptt 35, batch 20, SGD lr 20, clip 0.25, the
same thread count (``OMP_NUM_THREADS`` and ``torch.set_num_threads``).

1. Training tokens/s: both train one epoch on the first ``--lines`` PTB lines, alternating for
   ``--rounds`` rounds (median): the peer's ``ms/batch`` log lines -> tokens/s (batch x bptt per
   batch); lmlab's epoch tokens/s from its trainer state, counted the same way (every input
   position, its ``<s>`` rows included, as the peer's ``<eos>`` rows are).
2. Generation at batch 1: the peer's ``generate.py --words N`` minus a ``--words 1`` run (start-up,
   corpus and checkpoint loading), per word; lmlab's ``generate`` (sampling, temperature 1) on its
   own 1-epoch model, per token.
Writes ``benchmarks/results/neural_speed.json`` and the ``<!-- neural-speed -->`` section of
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
RESULTS = REPO / "benchmarks" / "results" / "neural_speed.json"


def data_dir() -> Path:
    return Path(os.environ.get("LMLAB_DATA", REPO.parent / "shared" / "data"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peer", required=True, help="pytorch/examples/word_language_model folder")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lines", type=int, default=9000, help="PTB training lines both sides train one epoch on")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (median)")
    ap.add_argument("--words", type=int, default=1000)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    tmp = Path(tempfile.mkdtemp(prefix="neural_speed."))
    d = tmp / "ptb"
    d.mkdir()
    train_lines = (data_dir() / "ptb" / "ptb.train.txt").read_text().split("\n")[: args.lines]
    (d / "train.txt").write_text("\n".join(train_lines) + "\n")
    valid_lines = (data_dir() / "ptb" / "ptb.valid.txt").read_text().split("\n")[:300]
    (d / "valid.txt").write_text("\n".join(valid_lines) + "\n")
    (d / "test.txt").write_text("\n".join(valid_lines) + "\n")
    py = sys.executable
    peer = Path(args.peer)
    accel = ["--accel"] if args.device != "cpu" else []
    run_dir = tmp / "lmlab"
    cmd = [py, "-m", "lmlab", "train", "--train", str(d / "train.txt"), "--valid", str(d / "valid.txt"),
           "--save", str(run_dir), "--model", "lstm", "--emsize", "200", "--nhid", "200", "--nlayers", "2",
           "--dropout", "0.2", "--bptt", "35", "--batch_size", "20", "--lr", "20", "--clip", "0.25",
           "--epochs", "1", "--threads", str(args.threads), "--device", args.device, "--quiet"]
    peer_runs, ours_runs = [], []
    for _ in range(args.rounds):  # alternate, so both see the same machine conditions
        out = subprocess.run([py, str(peer / "main.py"), "--data", str(d), "--epochs", "1", "--log-interval", "50",
                              "--save", str(tmp / "peer.pt"), *accel], cwd=peer, env=env, capture_output=True,
                             text=True, check=True).stdout
        ms = [float(x) for x in re.findall(r"ms/batch\s+([\d.]+)", out)]
        peer_runs.append(20 * 35 * 1000 / statistics.mean(ms))  # every logged batch counted once
        shutil.rmtree(run_dir, ignore_errors=True)
        subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=True)
        hist = json.loads((run_dir / "trainer_state.json").read_text())["history"]
        ours_runs.append(hist[-1]["tokens_per_s"] * (1 + _bos_share(d / "train.txt")))
    peer_tok_s, lmlab_tok_s = statistics.median(peer_runs), statistics.median(ours_runs)
    # -- generation ---------------------------------------------------------------------------
    def peer_gen(words: int) -> float:
        t = time.perf_counter()
        subprocess.run([py, str(peer / "generate.py"), "--data", str(d), "--checkpoint", str(tmp / "peer.pt"),
                        "--words", str(words), "--outf", str(tmp / "gen.txt"), *accel], cwd=peer, env=env,
                       capture_output=True, text=True, check=True)
        return time.perf_counter() - t

    base = min(peer_gen(1) for _ in range(2))
    full = min(peer_gen(args.words) for _ in range(2))
    peer_words_s = (args.words - 1) / (full - base)
    code = (
        "import time, torch, sys\n"
        f"torch.set_num_threads({args.threads})\n"
        "from lmlab.models.loading import load\n"
        "from lmlab.generate.decode import generate\n"
        f"lm = load({str(run_dir)!r}, device={args.device!r})\n"
        "generate(lm, max_tokens=20, seed=0, stop_at_eos=False)\n"
        "best = 1e9\n"
        "for r in range(3):\n"
        "    t = time.perf_counter()\n"
        f"    generate(lm, max_tokens={args.words}, seed=r, stop_at_eos=False)\n"
        "    best = min(best, time.perf_counter() - t)\n"
        f"print({args.words} / best)\n"
    )
    lmlab_words_s = float(subprocess.run([py, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                                         check=True).stdout.strip())
    import platform

    import torch

    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), "unknown")
    device = args.device if args.device == "cpu" else torch.cuda.get_device_name(0)
    res = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cpu": cpu, "cores": os.cpu_count(),
           "device": device, "threads": args.threads, "torch": torch.__version__, "python": platform.python_version(),
           "peer_train_tokens_per_s": peer_tok_s, "lmlab_train_tokens_per_s": lmlab_tok_s,
           "peer_train_runs": peer_runs, "lmlab_train_runs": ours_runs, "train_lines": args.lines,
           "train_ratio": lmlab_tok_s / peer_tok_s,
           "peer_generate_words_per_s": peer_words_s, "lmlab_generate_tokens_per_s": lmlab_words_s,
           "generate_ratio": lmlab_words_s / peer_words_s,
           "command": "python benchmarks/neural_speed.py --peer PATH --threads %d" % args.threads}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    allres = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    allres[f"{device}-{args.threads}t"] = res
    RESULTS.write_text(json.dumps(allres, indent=2))
    write_section(allres)
    print(json.dumps(res, indent=2))
    return 0


def _bos_share(path: Path) -> float:
    """lmlab counts predicted tokens only; the peer counts every input position (its <eos> rows and
    our <s> rows are the same work): scale ours by the share of <s> positions."""
    lines = path.read_text().split("\n")[:-1]
    words = sum(len(x.split()) for x in lines)
    return len(lines) / (words + len(lines))


def write_section(allres: dict) -> None:
    lines = ["## Neural training and generation speed vs pytorch/examples", "",
             "`python benchmarks/neural_speed.py --peer .../word_language_model --threads T`: PTB (one epoch on its "
             "first 9,000 lines, 3 alternating rounds, median), 2x200 LSTM, bptt 35, batch 20, SGD lr 20, same "
             "threads, both measured in the same run; generation: 1,000 tokens sampled one at a time at batch 1.  Targets (issue 4): training "
             "tokens/s >= the peer's; generation at batch 1 >= 3x its `generate.py`.", "",
             "| device | threads | peer train tok/s | lmlab train tok/s | ratio | peer generate words/s | "
             "lmlab generate tokens/s | ratio | date |", "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in allres.values():
        dev = r["device"] if r["device"] != "cpu" else f"CPU ({r['cpu']}, {r['cores']} cores)"
        lines.append(f"| {dev} | {r['threads']} | {r['peer_train_tokens_per_s']:.0f} | {r['lmlab_train_tokens_per_s']:.0f}"
                     f" | **{r['train_ratio']:.2f}x** | {r['peer_generate_words_per_s']:.0f} | "
                     f"{r['lmlab_generate_tokens_per_s']:.0f} | **{r['generate_ratio']:.2f}x** | {r['date'][:10]} |")
    from _sections import replace_section

    replace_section("neural-speed", lines)


if __name__ == "__main__":
    sys.exit(main())
