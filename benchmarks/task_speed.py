#!/usr/bin/env python3
"""Speed of the task models beside plain PyTorch (prints JSON; writes nothing).

    .venv/bin/python benchmarks/task_speed.py classify     # SST-2 training sentences/s: Classifier vs a plain loop
    .venv/bin/python benchmarks/task_speed.py translate    # Multi30k val greedy decoding sentences/s, batch 1 and batched

``classify``: batches of 32 SST-2 training sentences (length-bucketed, shuffled), a 1x256
BiLSTM with max pooling over 128-d embeddings, Adam; lmlab's ``Classifier.loss`` step against a
plain loop with the same shapes (embedding, packed ``nn.LSTM``, masked max, linear, summed
cross-entropy) in the same process, one training step of each in turn (the order alternating) so
that load from other processes falls on both alike; the best of the rounds is reported.  ``translate``: an untrained Bahdanau model (BiGRU encoder of 256 per direction,
GRU decoder of 256), greedy decoding of the 1,014 validation sentences (an untrained decoder
rarely says ``</s>``, so most outputs run to ``2 * source length + 10`` tokens).  The load
average is printed with each result.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

from lmlab.data.parallel import multi30k  # noqa: E402
from lmlab.data.tasks import classification_task  # noqa: E402
from lmlab.generate.translate import translate  # noqa: E402
from lmlab.models.neural.classifier import Classifier  # noqa: E402
from lmlab.models.neural.seq2seq import Seq2Seq  # noqa: E402
from lmlab.tensors.classification import classification_batches  # noqa: E402
from lmlab.tensors.parallel import source_batches  # noqa: E402
from lmlab.text.labels import LabelSet  # noqa: E402
from lmlab.text.vocab import Vocab  # noqa: E402


class PlainClassifier(nn.Module):
    def __init__(self, V, E, H, n_labels, pad):
        super().__init__()
        self.emb = nn.Embedding(V, E, padding_idx=pad)
        self.rnn = nn.LSTM(E, H, bidirectional=True)
        self.out = nn.Linear(2 * H, n_labels)

    def forward(self, tokens, lengths):
        x = self.emb(tokens)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        states, _ = pad_packed_sequence(out, batch_first=True, total_length=tokens.shape[1])
        mask = torch.arange(tokens.shape[1])[None, :] < lengths[:, None]
        return self.out(states.masked_fill(~mask[:, :, None], float("-inf")).amax(1))


def classify(args) -> dict:
    train = classification_task("sst2", "train")
    vocab = Vocab.build([t.split() for _, t in train])
    labels = LabelSet.build([y for y, _ in train])
    batches = classification_batches(train, vocab, labels, batch_size=32, shuffle=True, seed=1)[: args.batches]
    torch.manual_seed(0)
    ours = Classifier(vocab, labels, emsize=128, hidden_size=256, num_layers=1, cell="lstm", bidirectional=True,
                      pooling="max")
    plain = PlainClassifier(len(vocab) + 1, 128, 256, len(labels), vocab.pad_id)
    opt_ours, opt_plain = torch.optim.Adam(ours.parameters(), 1e-3), torch.optim.Adam(plain.parameters(), 1e-3)

    def step_ours(b):
        opt_ours.zero_grad()
        loss, n = ours.loss(b)
        (loss / n).backward()
        opt_ours.step()

    def step_plain(b):
        opt_plain.zero_grad()
        logits = plain(b["tokens"], b["lengths"])
        loss = nn.functional.cross_entropy(logits, b["labels"], reduction="sum")
        (loss / len(b["labels"])).backward()
        opt_plain.step()

    n = sum(len(b) for b in batches)
    times = {"lmlab": [], "plain": []}
    pair = [("lmlab", step_ours), ("plain", step_plain)]
    for r in range(args.rounds):
        spent = {"lmlab": 0.0, "plain": 0.0}
        for i, b in enumerate(batches):  # batch by batch, in alternating order: load falls on both alike
            for name, fn in pair if (i + r) % 2 else pair[::-1]:
                t = time.perf_counter()
                fn(b)
                spent[name] += time.perf_counter() - t
        for name in spent:
            times[name].append(spent[name])
    best = {k: n / min(v) for k, v in times.items()}
    return {"what": "SST-2 training, batches of 32, 1x256 BiLSTM, max pooling, emsize 128, Adam",
            "sentences_per_round": n, "rounds": args.rounds, "threads": torch.get_num_threads(),
            "sentences_per_s": {k: round(v, 1) for k, v in best.items()},
            "ratio_lmlab_to_plain": round(best["lmlab"] / best["plain"], 3),
            "every_round_s": {k: [round(x, 2) for x in v] for k, v in times.items()},
            "best_of_rounds": True,
            "load_average": os.getloadavg()}


def translate_speed(args) -> dict:
    train = multi30k("train", "en", "de")
    val = [s for s, _ in multi30k("valid", "en", "de")]
    src = Vocab.build([s.split() for s, _ in train], min_count=2)
    tgt = Vocab.build([t.split() for _, t in train], min_count=2)
    torch.manual_seed(0)
    model = Seq2Seq(src, tgt, emsize=256, hidden_size=256, cell="gru", bidirectional=True, attention="bahdanau",
                    decoder_hidden_size=256).eval()
    out = {"what": "Multi30k val en->de greedy decoding, untrained Bahdanau (BiGRU 2x256 encoder, GRU 256 decoder)",
           "sentences": len(val), "threads": torch.get_num_threads(), "sentences_per_s": {}, "mean_output_tokens": {}}
    for bs in (1, args.batch_size):
        batches = source_batches(val, src, batch_size=bs)
        t = time.perf_counter()
        lengths = [len(h[0].tokens) for b in batches for h in translate(model, b, beam=1)]
        out["sentences_per_s"][f"batch {bs}"] = round(len(val) / (time.perf_counter() - t), 1)
        out["mean_output_tokens"][f"batch {bs}"] = round(sum(lengths) / len(lengths), 1)
    if args.beam > 1:
        batches = source_batches(val[: args.beam_sentences], src, batch_size=args.batch_size)
        t = time.perf_counter()
        for b in batches:
            translate(model, b, beam=args.beam)
        out["sentences_per_s"][f"beam {args.beam} ({args.beam_sentences} sentences)"] = round(
            args.beam_sentences / (time.perf_counter() - t), 1)
    out["load_average"] = os.getloadavg()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("classify", "translate"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", type=int, default=60, help="classify: training batches per round")
    ap.add_argument("--rounds", type=int, default=3, help="classify: alternating rounds of each loop")
    ap.add_argument("--batch-size", type=int, default=64, help="translate: the batched run's batch size")
    ap.add_argument("--beam", type=int, default=4, help="translate: also time this beam (1: skip)")
    ap.add_argument("--beam-sentences", type=int, default=100)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    result = classify(args) if args.what == "classify" else translate_speed(args)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
