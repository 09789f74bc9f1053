#!/usr/bin/env python3
"""Speed of the task models: training beside a plain PyTorch loop of the same shapes in the same
process, and prediction throughput.

    .venv/bin/python benchmarks/task_speed.py tag [--crf]   # UD-EWT tagger training tokens/s vs a plain loop
    .venv/bin/python benchmarks/task_speed.py classify      # SST-2 classifier training sentences/s vs a plain loop
    .venv/bin/python benchmarks/task_speed.py predict       # tagger tokens/s and classifier sentences/s, predicting
    .venv/bin/python benchmarks/task_speed.py translate     # Multi30k decoding sentences/s, batch 1, batched, beam
    .venv/bin/python benchmarks/task_speed.py all --record  # each of them, recorded; then --report
    .venv/bin/python benchmarks/task_speed.py --report      # BENCHMARKS.md's task-speed section from the records

Each prints its result as JSON; ``--record`` also keeps it in ``results/task_speed.json``.

``tag``: UD English-EWT training sentences in length-bucketed batches of 32, word embedding 100 +
character BiLSTM (50-d, 50 units each way) -> 2 x 200 BiLSTM -> dropout 0.5 -> linear (``--crf``:
lmlab with its CRF output, the peer stays softmax); Adam, clipping at 5.  lmlab's side makes each
batch at its step (batching counted); the peer is a hand-written ``nn.Module`` on the same
batches made in advance.  ``classify``: batches of 32 SST-2 training sentences, 1 x 256 BiLSTM,
max pooling, 128-d embeddings, Adam; the peer a plain loop (embedding, packed ``nn.LSTM``, masked
max, linear, summed cross-entropy).  In both, the two sides take one training step each on the
same batch in turn, the order alternating step by step and round by round, so that load from
other processes falls on both alike; each side's speed is its median over ``--rounds``.
``predict``: untrained models of those shapes tagging UD-EWT test / classifying SST-2 test, in
batches of 64 (throughput does not depend on the weights).  ``translate``: an untrained Bahdanau
model (BiGRU 2 x 256 encoder, GRU 256 decoder) decoding the 1,014 Multi30k validation sentences
greedily (an untrained decoder rarely says ``</s>``, so most outputs run to the length limit;
the trained models' decoding speed is in the seq2seq section).  The load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
RESULTS = REPO / "benchmarks" / "results" / "task_speed.json"

TAGGER = {"emsize": 100, "hidden_size": 200, "num_layers": 2, "char_emsize": 50, "char_hidden_size": 50,
          "dropout": 0.5}
CLASSIFIER = {"emsize": 128, "hidden_size": 256, "num_layers": 1, "cell": "lstm", "bidirectional": True,
              "pooling": "max"}


def alternate(sides: dict[str, Callable[[int], None]], steps: int, rounds: int) -> dict[str, list[float]]:
    """Seconds each side spent per round: at every step each side runs once on step ``i``, the
    order swapped step by step and round by round."""
    names = list(sides)
    spent = {n: [] for n in names}
    for r in range(rounds):
        total = dict.fromkeys(names, 0.0)
        for i in range(steps):
            for n in names if (i + r) % 2 == 0 else names[::-1]:
                t = time.perf_counter()
                sides[n](i)
                total[n] += time.perf_counter() - t
        for n in names:
            spent[n].append(total[n])
    return spent


def _versus(spent: dict[str, list[float]], items: int, unit: str) -> dict:
    rate = {n: statistics.median(items / s for s in v) for n, v in spent.items()}
    return {f"{unit}_per_s": {n: round(v, 1) for n, v in rate.items()},
            "ratio_lmlab_to_plain": round(rate["lmlab"] / rate["plain"], 3),
            "every_round_s": {n: [round(s, 2) for s in v] for n, v in spent.items()}, "median_of_rounds": True}


def _plain_tagger(n_words, n_chars, n_tags, s):
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    class PlainTagger(nn.Module):
        """The tagger's network written directly in PyTorch (no CRF)."""

        def __init__(self):
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

    return PlainTagger()


def tag(args) -> dict:
    import torch
    from torch import nn

    from lmlab.data.tasks import tagging_task
    from lmlab.models.neural.tagger import Tagger
    from lmlab.tensors.tagging import TaggingBatches, build_tagging_vocabs, encode_sentences

    torch.manual_seed(0)
    sents = tagging_task("ud-english-ewt", "train", "upos")
    vocabs = build_tagging_vocabs(sents)
    data = encode_sentences(sents, vocabs)
    rows = TaggingBatches(data, 32, seed=0).rows(0)[: args.batches]
    prebuilt = [data.batch(r) for r in rows]
    model = Tagger(vocabs, crf=args.crf, **TAGGER)
    peer = _plain_tagger(len(vocabs["tokens"]), len(vocabs["chars"]), len(vocabs["tags"]), TAGGER)
    opt_m, opt_p = torch.optim.Adam(model.parameters()), torch.optim.Adam(peer.parameters())
    model.train()
    peer.train()

    def lmlab_step(i: int) -> None:
        batch = data.batch(rows[i])
        opt_m.zero_grad()
        loss, n = model.loss(batch)
        (loss / n).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt_m.step()

    def plain_step(i: int) -> None:
        b = prebuilt[i]
        opt_p.zero_grad()
        scores = peer(b["tokens"], b["lengths"], b["chars"], b["char_lengths"])
        loss = nn.functional.cross_entropy(scores.flatten(0, 1), b["tags"].flatten(), ignore_index=-100,
                                           reduction="sum")
        (loss / b.n_items).backward()
        nn.utils.clip_grad_norm_(peer.parameters(), 5.0)
        opt_p.step()

    alternate({"lmlab": lmlab_step, "plain": plain_step}, 3, 1)  # warm-up
    spent = alternate({"lmlab": lmlab_step, "plain": plain_step}, len(rows), args.rounds)
    return {"what": "UD-EWT tagger training, batches of 32, word 100 + char BiLSTM 50 -> 2x200 BiLSTM"
                    + (" (lmlab: + CRF)" if args.crf else "") + ", Adam, clip 5",
            "crf": args.crf, "tokens_per_round": sum(b.n_items for b in prebuilt), "rounds": args.rounds,
            **_versus(spent, sum(b.n_items for b in prebuilt), "tokens")}


def classify(args) -> dict:
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    from lmlab.data.tasks import classification_task
    from lmlab.models.neural.classifier import Classifier
    from lmlab.tensors.classification import classification_batches
    from lmlab.text.labels import LabelSet
    from lmlab.text.vocab import Vocab

    class PlainClassifier(nn.Module):
        def __init__(self, V, E, H, n_labels, pad):
            super().__init__()
            self.emb = nn.Embedding(V, E, padding_idx=pad)
            self.rnn = nn.LSTM(E, H, bidirectional=True)
            self.out = nn.Linear(2 * H, n_labels)

        def forward(self, tokens, lengths):
            packed = pack_padded_sequence(self.emb(tokens), lengths, batch_first=True, enforce_sorted=False)
            states, _ = pad_packed_sequence(self.rnn(packed)[0], batch_first=True, total_length=tokens.shape[1])
            mask = torch.arange(tokens.shape[1])[None, :] < lengths[:, None]
            return self.out(states.masked_fill(~mask[:, :, None], float("-inf")).amax(1))

    train = classification_task("sst2", "train")
    vocab = Vocab.build([t.split() for _, t in train])
    labels = LabelSet.build([y for y, _ in train])
    batches = classification_batches(train, vocab, labels, batch_size=32, shuffle=True, seed=1)[: args.batches]
    torch.manual_seed(0)
    ours = Classifier(vocab, labels, **CLASSIFIER)
    plain = PlainClassifier(len(vocab) + 1, CLASSIFIER["emsize"], CLASSIFIER["hidden_size"], len(labels), vocab.pad_id)
    opt_ours, opt_plain = torch.optim.Adam(ours.parameters(), 1e-3), torch.optim.Adam(plain.parameters(), 1e-3)

    def lmlab_step(i: int) -> None:
        opt_ours.zero_grad()
        loss, n = ours.loss(batches[i])
        (loss / n).backward()
        opt_ours.step()

    def plain_step(i: int) -> None:
        b = batches[i]
        opt_plain.zero_grad()
        loss = nn.functional.cross_entropy(plain(b["tokens"], b["lengths"]), b["labels"], reduction="sum")
        (loss / len(b["labels"])).backward()
        opt_plain.step()

    alternate({"lmlab": lmlab_step, "plain": plain_step}, 3, 1)  # warm-up
    spent = alternate({"lmlab": lmlab_step, "plain": plain_step}, len(batches), args.rounds)
    n = sum(len(b) for b in batches)
    return {"what": "SST-2 classifier training, batches of 32, 1x256 BiLSTM, max pooling, emsize 128, Adam",
            "sentences_per_round": n, "rounds": args.rounds, **_versus(spent, n, "sentences")}


def predict(args) -> dict:
    import torch

    from lmlab.data.tasks import classification_task, tagging_task
    from lmlab.models.neural.classifier import Classifier
    from lmlab.models.neural.tagger import Tagger
    from lmlab.tensors.tagging import build_tagging_vocabs
    from lmlab.text.labels import LabelSet
    from lmlab.text.vocab import Vocab

    torch.manual_seed(0)
    vocabs = build_tagging_vocabs(tagging_task("ud-english-ewt", "train", "upos"))
    test = [s.words for s in tagging_task("ud-english-ewt", "test", "upos")]
    out = {"what": "untrained models of the training shapes, batches of 64: UD-EWT test tagged, SST-2 test classified"}
    for crf in (False, True):
        tagger = Tagger(vocabs, crf=crf, **TAGGER).eval()
        t = time.perf_counter()
        tagger.tag(test, batch_size=64)
        out[f"tagger{'_crf' if crf else ''}_tokens_per_s"] = round(sum(map(len, test)) / (time.perf_counter() - t), 1)
    train = classification_task("sst2", "train")
    texts = [t for _, t in classification_task("sst2", "test")]
    clf = Classifier(Vocab.build([t.split() for _, t in train]), LabelSet.build([y for y, _ in train]),
                     **CLASSIFIER).eval()
    t = time.perf_counter()
    clf.classify(texts, batch_size=64)
    out["classifier_sentences_per_s"] = round(len(texts) / (time.perf_counter() - t), 1)
    out["tagger_tokens"], out["classifier_sentences"] = sum(map(len, test)), len(texts)
    return out


def translate(args) -> dict:
    import torch

    from lmlab.data.parallel import multi30k
    from lmlab.generate.translate import translate_lines
    from lmlab.models.neural.seq2seq import Seq2Seq
    from lmlab.text.vocab import Vocab

    train = multi30k("train", "en", "de")
    val = [s for s, _ in multi30k("valid", "en", "de")]
    src = Vocab.build([s.split() for s, _ in train], min_count=2)
    tgt = Vocab.build([t.split() for _, t in train], min_count=2)
    torch.manual_seed(0)
    model = Seq2Seq(src, tgt, emsize=256, hidden_size=256, cell="gru", bidirectional=True, attention="bahdanau",
                    decoder_hidden_size=256).eval()
    out = {"what": "Multi30k val en->de decoding, untrained Bahdanau (BiGRU 2x256 encoder, GRU 256 decoder)",
           "sentences": len(val), "sentences_per_s": {}}
    for bs in (1, args.batch_size):
        t = time.perf_counter()
        translate_lines(model, val, batch_size=bs)
        out["sentences_per_s"][f"greedy, batch {bs}"] = round(len(val) / (time.perf_counter() - t), 1)
    if args.beam > 1:
        some = val[: args.beam_sentences]
        t = time.perf_counter()
        translate_lines(model, some, beam=args.beam, batch_size=args.batch_size)
        out["sentences_per_s"][f"beam {args.beam} ({len(some)} sentences)"] = round(len(some) / (time.perf_counter() - t), 1)
    return out


WHAT = {"tag": tag, "classify": classify, "predict": predict, "translate": translate}


def report_lines(results: Path) -> list[str]:
    done = json.loads(results.read_text()) if results.is_file() else {}
    lines = ["## Task-model speed", "",
             "From `python benchmarks/task_speed.py all --record` then `--report`: training speed of lmlab's "
             "tagger and classifier beside a plain PyTorch loop of the same shapes, in the same process, the two "
             "taking turns step by step on the same batches (median of the rounds), and prediction throughput.", ""]
    if not done:
        return lines + ["Nothing recorded yet."]
    first = next(iter(done.values()))
    dates = sorted({r["date"] for r in done.values() if "date" in r})
    lines += [f"Machine: {first['machine']}, {first['threads']} torch thread(s)"
              + (f"; run {', '.join(dates)}" if dates else "") + ".", "",
              "| what | lmlab | plain PyTorch | ratio | load average (1 min) |", "|---|---:|---:|---:|---:|"]
    for key, unit in (("tag", "tokens"), ("tag-crf", "tokens"), ("classify", "sentences")):
        r = done.get(key)
        if r:
            s = r[f"{unit}_per_s"]
            lines.append(f"| {r['what']} ({unit}/s) | {s['lmlab']:.0f} | {s['plain']:.0f} | "
                         f"{r['ratio_lmlab_to_plain']:.2f}x | {r['load_average'][0]:.2f} |")
    p = done.get("predict")
    if p:
        lines += ["", f"Prediction ({p['what']}): tagger {p['tagger_tokens_per_s']:.0f} tokens/s, with CRF "
                      f"{p['tagger_crf_tokens_per_s']:.0f} tokens/s; classifier {p['classifier_sentences_per_s']:.0f} "
                      "sentences/s."]
    t = done.get("translate")
    if t:
        lines += ["", f"Decoding ({t['what']}): " + "; ".join(f"{k} {v:.1f} sentences/s"
                                                             for k, v in t["sentences_per_s"].items()) + "."]
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="?", choices=(*WHAT, "all"), help="which measurement (all: each in turn)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    ap.add_argument("--batches", type=int, default=40, help="tag, classify: training steps per round and side")
    ap.add_argument("--rounds", type=int, default=3, help="tag, classify: alternating rounds")
    ap.add_argument("--crf", action="store_true", help="tag: lmlab with its CRF output (the peer stays softmax)")
    ap.add_argument("--batch-size", type=int, default=64, help="translate: the batched run's batch size")
    ap.add_argument("--beam", type=int, default=4, help="translate: also time this beam (1: skip)")
    ap.add_argument("--beam-sentences", type=int, default=100, help="translate: sentences decoded with --beam")
    ap.add_argument("--record", action="store_true", help="keep the results in results/task_speed.json")
    ap.add_argument("--report", action="store_true", help="write BENCHMARKS.md's task-speed section")
    ap.add_argument("--results", type=Path, default=RESULTS, help="the results file")
    args = ap.parse_args()
    if args.what is None and not args.report:
        ap.error("name a measurement, or --report")
    import torch

    from _sections import machine_line, replace_section

    torch.set_num_threads(args.threads)
    todo = [] if args.what is None else ["tag", "tag-crf", "classify", "predict", "translate"] if args.what == "all" \
        else ["tag-crf" if args.what == "tag" and args.crf else args.what]
    for key in todo:
        args.crf = key == "tag-crf"
        result = {**WHAT[key.split("-")[0]](args), "threads": args.threads, "machine": machine_line(),
                  "load_average": os.getloadavg(), "date": time.strftime("%Y-%m-%d", time.gmtime())}
        print(json.dumps({key: result}), flush=True)
        if args.record:
            from lmlab._io import write_text_atomic

            done = json.loads(args.results.read_text()) if args.results.is_file() else {}
            done[key] = result
            args.results.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(args.results, json.dumps(done, indent=2))
    if args.report:
        replace_section("task-speed", report_lines(args.results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
