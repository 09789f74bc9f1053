#!/usr/bin/env python3
"""Tagger training speed against a plain PyTorch loop with the same shapes, in one process.

    .venv/bin/python benchmarks/tagger_speed.py [--threads 2] [--batches 40] [--rounds 3] [--crf]

Both sides: UD English-EWT training sentences in length-bucketed batches of 32 (the same rows),
word embedding 100 + character BiLSTM (50-d embedding, 50 units each way) -> 2 x 200 BiLSTM ->
dropout 0.5 -> linear; Adam, gradient clipping at 5.  lmlab: :class:`lmlab.models.neural.tagger.Tagger`
over batches made by :class:`lmlab.tensors.tagging.TaggingData` at each step (batching counted);
the peer: a hand-written ``nn.Module`` on the same batches, tensors made in advance.  The two sides
alternate step by step on the same batches (the order swapped each round) for ``--rounds`` rounds of
``--batches`` steps, so that a change of machine load hits both; each side's tokens/s is its median.
Prints one JSON line (nothing is written to BENCHMARKS.md); with ``--evaluate``, also both sides'
dev token accuracy after these same steps (a check that the two networks are the same).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

from lmlab.data.tasks import tagging_task  # noqa: E402
from lmlab.eval.tagging import evaluate_tagger  # noqa: E402
from lmlab.models.neural.tagger import Tagger  # noqa: E402
from lmlab.tensors.tagging import TaggingBatches, build_tagging_vocabs, encode_sentences  # noqa: E402

SHAPES = {"emsize": 100, "hidden_size": 200, "num_layers": 2, "char_emsize": 50, "char_hidden_size": 50,
          "dropout": 0.5}


class PlainTagger(nn.Module):
    """The same network written directly in PyTorch (no CRF)."""

    def __init__(self, n_words, n_chars, n_tags, s):
        super().__init__()
        self.wemb = nn.Embedding(n_words + 1, s["emsize"], padding_idx=n_words)
        self.cemb = nn.Embedding(n_chars + 1, s["char_emsize"], padding_idx=n_chars)
        self.clstm = nn.LSTM(s["char_emsize"], s["char_hidden_size"], bidirectional=True, batch_first=True)
        self.lstm = nn.LSTM(s["emsize"] + 2 * s["char_hidden_size"], s["hidden_size"], s["num_layers"],
                            dropout=s["dropout"], bidirectional=True, batch_first=True)
        self.drop = nn.Dropout(s["dropout"])
        self.out = nn.Linear(2 * s["hidden_size"], n_tags)

    def forward(self, tokens, lengths, chars, char_lengths):
        B, T, C = chars.shape
        flat, lens = chars.view(B * T, C), char_lengths.view(-1)
        rows = (lens > 0).nonzero().squeeze(1)
        packed = pack_padded_sequence(self.cemb(flat[rows]), lens[rows], batch_first=True, enforce_sorted=False)
        _, (h, _) = self.clstm(packed)
        feats = torch.cat([h[0], h[1]], 1)
        feats = feats.new_zeros(B * T, feats.shape[1]).index_copy(0, rows, feats).view(B, T, -1)
        x = self.drop(torch.cat([self.wemb(tokens), feats], 2))
        out, _ = self.lstm(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        states, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
        return self.out(self.drop(states))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", type=int, default=40, help="training steps per round and side")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--crf", action="store_true", help="lmlab with its CRF output (the peer stays softmax)")
    ap.add_argument("--evaluate", action="store_true", help="then both sides' UD-EWT dev token accuracy")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    sents = tagging_task("ud-english-ewt", "train", "upos")
    vocabs = build_tagging_vocabs(sents)
    data = encode_sentences(sents, vocabs)
    rows = TaggingBatches(data, 32, seed=0).rows(0)[: args.batches]
    prebuilt = [data.batch(r) for r in rows]
    n_tokens = sum(b.n_items for b in prebuilt)

    model = Tagger(vocabs, crf=args.crf, **SHAPES)
    peer = PlainTagger(len(vocabs["tokens"]), len(vocabs["chars"]), len(vocabs["tags"]), SHAPES)
    opt_m, opt_p = torch.optim.Adam(model.parameters()), torch.optim.Adam(peer.parameters())
    model.train()
    peer.train()

    def lmlab_step(i: int) -> float:
        t0 = time.perf_counter()
        batch = data.batch(rows[i])
        opt_m.zero_grad()
        loss, n = model.loss(batch)
        (loss / n).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt_m.step()
        return time.perf_counter() - t0

    def peer_step(i: int) -> float:
        t0 = time.perf_counter()
        b = prebuilt[i]
        opt_p.zero_grad()
        scores = peer(b["tokens"], b["lengths"], b["chars"], b["char_lengths"])
        loss = nn.functional.cross_entropy(scores.flatten(0, 1), b["tags"].flatten(), ignore_index=-100,
                                           reduction="sum")
        (loss / b.n_items).backward()
        nn.utils.clip_grad_norm_(peer.parameters(), 5.0)
        opt_p.step()
        return time.perf_counter() - t0

    for i in range(3):  # warm-up
        lmlab_step(i), peer_step(i)
    load_before = os.getloadavg()
    ours, theirs = [], []
    for r in range(args.rounds):  # the two sides alternate step by step (the same batch), order swapped each round
        t_ours = t_theirs = 0.0
        for i in range(len(rows)):
            if r % 2:
                t_theirs += peer_step(i)
                t_ours += lmlab_step(i)
            else:
                t_ours += lmlab_step(i)
                t_theirs += peer_step(i)
        ours.append(n_tokens / t_ours)
        theirs.append(n_tokens / t_theirs)
    a, b = statistics.median(ours), statistics.median(theirs)
    extra = {}
    if args.evaluate:  # both trained on the same batches: their dev accuracies should be alike
        dev = tagging_task("ud-english-ewt", "valid", "upos")
        extra["lmlab_dev_accuracy"] = round(evaluate_tagger(model, dev)["accuracy"], 4)
        ddev = encode_sentences(dev, vocabs)
        peer.eval()
        right = total = 0
        with torch.no_grad():
            for batch in TaggingBatches(ddev, 64, shuffle=False):
                pred = peer(batch["tokens"], batch["lengths"], batch["chars"], batch["char_lengths"]).argmax(2)
                known = batch["tags"] != -100
                right += int(((pred == batch["tags"]) & known).sum())
                total += int(known.sum())
        extra["plain_dev_accuracy"] = round(right / total, 4)
    print(json.dumps({**extra, "lmlab_tokens_per_s": round(a), "plain_tokens_per_s": round(b), "ratio": round(a / b, 3),
                      "crf": args.crf, "threads": args.threads, "batches": args.batches, "tokens_per_round": n_tokens,
                      "rounds": args.rounds, "lmlab_rounds": [round(x) for x in ours],
                      "plain_rounds": [round(x) for x in theirs], "loadavg_before": load_before,
                      "loadavg_after": os.getloadavg()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
