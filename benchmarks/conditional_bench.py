#!/usr/bin/env python3
"""One-to-many generation (``lmlab train --kind conditional-lm``): resumable, in stages.

    .venv/bin/python benchmarks/conditional_bench.py --sst2 --classifier runs/bench/classify/sst2-max-bi-s1
    .venv/bin/python benchmarks/conditional_bench.py --multi30k runs/en-de-noatt     # an --attention none seq2seq
    .venv/bin/python benchmarks/conditional_bench.py --report                       # BENCHMARKS.md's section
    .venv/bin/python benchmarks/conditional_bench.py --smoke --sst2 --classifier C --runs /tmp/r --results /tmp/r.json

**SST-2** (``--sst2``): a label-conditioned LM (``SETTINGS``) trained on SST-2's training
sentences given their labels, then, at temperature 1.0 with no top-k/top-p (sample ``i`` with seed
``i``; ``<unk>`` never generated, as ``lmlab generate``), ``SAMPLES`` samples per label, and:

* the % classified as their own label by ``--classifier`` (an ``lmlab train --kind classify``
  checkpoint, trained on SST-2: the issue's SST-2 classifier), % distinct, % copied verbatim from
  the training sentences (either label);
* SST-2 test perplexity given the true label, the flipped label and unconditionally (the labels'
  mixture with the training prior, ``lmlab.eval.conditional``);
* the samples' perplexity beside the real test sentences' under two KN 5-grams (lmlab's own
  ``NgramLM``, modified Kneser-Ney): one trained on **WikiText-2** (lower-cased) -- independent of
  the generator's training data, so a sample cannot score well by copying what the generator
  memorised, but out of domain (many OOVs; the figure excluding OOVs is shown too) -- and one on
  **SST-2 train** -- in domain, but trained on the very sentences the generator learnt from, so it
  favours samples that reuse training n-grams (label-consistent word salad made of training
  phrases can look fluent to it).  The two together tell fluency from copying.  MR is not used:
  SST's sentences are MR's (Pang and Lee's Rotten Tomatoes snippets), test sentences included;
* 5 samples per label.

**Multi30k** (``--multi30k MODEL``): the feature-vector check.  MODEL is an attention-free
encoder-decoder (``lmlab train --kind seq2seq --data multi30k --attention none``); its context
vectors of the train, valid and test sources (``lmlab encode``'s format) condition a conditional LM
of the target sentences (``M30K_SETTINGS``).  Reported: the test BLEU (sacrebleu ``-tok none``
against the tokenised references) of the conditional LM's greedy (``--beam``: beam) outputs from
the test vectors, beside the encoder-decoder's own greedy translations: how much of the
translation the one vector carries to a decoder trained apart from the encoder.

Every stage records its result in ``benchmarks/results/conditional.json`` and is skipped when run
again.  The two trainings are cells of the shared runner (``_cells.run_cell``: ``lmlab train``,
resumed where it stopped, then ``lmlab evaluate --json``, whose report -- the test perplexities --
is recorded with the cell); ``--epochs-per-run N`` bounds one invocation to N epochs of a training.  ``--smoke`` runs the whole script with ``--dry-run`` training, ``SMOKE_SAMPLES``
samples, a tiny model, parts of the test sets and small n-gram corpora into ``--runs``/``--results``
(BENCHMARKS.md untouched).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
RESULTS = REPO / "benchmarks" / "results" / "conditional.json"
RUNS = REPO / "runs" / "bench" / "conditional"

SETTINGS = ["--model", "lstm", "--nlayers", "1", "--emsize", "256", "--nhid", "512", "--dropout", "0.3",
            "--optimizer", "adam", "--lr", "0.001", "--batch_size", "32", "--epochs", "15", "--patience", "2",
            "--min_count", "2"]
M30K_SETTINGS = ["--model", "gru", "--nlayers", "1", "--emsize", "256", "--nhid", "512", "--dropout", "0.3",
                 "--optimizer", "adam", "--lr", "0.001", "--batch_size", "64", "--epochs", "10", "--patience", "2",
                 "--min_count", "2"]
SMOKE_SIZE = ["--emsize", "16", "--nhid", "16"]  # --smoke: a tiny model (later options override earlier ones)
SAMPLES, SMOKE_SAMPLES, SHOWN, MAX_TOKENS = 500, 4, 5, 60
KN_ORDER = 5
TARGETS = "≥ 85% classified as their label, ≥ 95% distinct, ≤ 5% copied; test ppl true < flipped, true < unconditional"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _cell(train: list[str], evaluate: list[str], info: dict, smoke: bool):
    from _cells import Cell

    return Cell([*train, *(SMOKE_SIZE if smoke else [])], evaluate, info)


def sst2_cell(smoke: bool = False):
    """The SST-2 generator's cell (``lmlab evaluate --json`` of it: the test perplexities)."""
    return _cell(["--kind", "conditional-lm", "--data", "sst2", *SETTINGS], ["--data", "sst2", "--split", "test"],
                 {"data": "sst2"}, smoke)


def _trained(args, name: str, cell) -> dict | None:
    """The recorded row of training cell ``name`` (its ``lmlab evaluate --json`` report included),
    training or resuming it first (``_cells.run_cell``; None while ``--epochs-per-run`` leaves it unfinished)."""
    from _cells import load, run_cell

    done = load(args.results)
    if name in done:
        return done[name]
    return run_cell(name, cell, threads=args.threads, runs=args.runs, results=args.results, dry_run=args.smoke,
                    epochs_per_run=args.epochs_per_run)


def _stage(results: Path, key: str, fn) -> dict:
    """The recorded result of stage ``key``, or ``fn()`` recorded."""
    from _cells import load
    from _sections import machine_line

    from lmlab._io import write_text_atomic

    done = load(results)
    if key in done:
        return done[key]
    row = {**fn(), "date": _now(), "machine": machine_line()}
    done[key] = row
    results.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(results, json.dumps(done, indent=2))
    print(json.dumps({key: row})[:2000], flush=True)
    return row


# -- SST-2 ---------------------------------------------------------------------------------------
def _kn(lines: list[str], smoke: bool):
    from lmlab.models.ngram.model import NgramLM

    return NgramLM(2 if smoke else KN_ORDER, "modified_kneser_ney").fit(lines)


def _ppl(lm, lines: list[str]) -> dict:
    from lmlab.eval.perplexity import evaluate

    r = evaluate(lm, lines)
    return {"perplexity": r.perplexity, "perplexity_excluding_oovs": r.perplexity_excluding_oovs,
            "oov_rate": r.oovs / r.tokens, "tokens": r.tokens}


def sst2(args) -> dict:
    from lmlab.data.tasks import classification_split

    results, smoke = args.results, args.smoke
    save = args.runs / "sst2"
    if _trained(args, "sst2", sst2_cell(smoke)) is None:  # its lmlab evaluate report: test ppl true, flipped, unconditional
        return None
    from lmlab.models.neural.checkpoint import load_checkpoint

    model, _, _ = load_checkpoint(save, kind="conditional-lm")
    n = SMOKE_SAMPLES if smoke else SAMPLES

    def sample():
        from lmlab.generate.decode import generate
        from lmlab.models.neural.conditioned import ConditionedLM

        t0 = time.perf_counter()
        out = {}
        for label in model.labels.labels:
            lm = ConditionedLM(model, label=label)
            out[label] = [" ".join(generate(lm, seed=i, temperature=1.0, max_tokens=MAX_TOKENS).tokens)
                          for i in range(n)]
        return {"samples": out, "n": n, "temperature": 1.0, "max_tokens": MAX_TOKENS,
                "seconds": time.perf_counter() - t0}

    samples = _stage(results, "sst2:samples", sample)["samples"]
    train = classification_split("sst2", "train")
    test = classification_split("sst2", "test")

    def judge():
        from lmlab.models.neural.checkpoint import load_checkpoint

        clf, _, _ = load_checkpoint(args.classifier, kind="classify")
        seen = {" ".join(t.split()) for _, t in train}
        out = {}
        for label, xs in samples.items():
            pred = clf.classify(xs)
            out[label] = {"classified_as_label": sum(p == label for p in pred) / len(xs),
                          "distinct": len(set(xs)) / len(xs),
                          "copied_from_training": sum(x in seen for x in xs) / len(xs),
                          "mean_tokens": sum(len(x.split()) for x in xs) / len(xs),
                          "shown": xs[:SHOWN]}
        return {"per_label": out, "classifier": str(args.classifier)}

    _stage(results, "sst2:judge", judge)

    def kn():
        from lmlab.data.readers import lm_lines

        wiki = [x.lower() for x in lm_lines("wikitext-2", "train") if x.strip()]
        sst = [t for _, t in train]
        if smoke:
            wiki, sst = wiki[:2000], sst[:2000]
        real = [t for _, t in test]
        gen = [x for xs in samples.values() for x in xs]
        out = {}
        for name, corpus in (("wikitext-2", wiki), ("sst2-train", sst)):
            lm = _kn(corpus, smoke)
            out[name] = {"samples": _ppl(lm, gen), "test_sentences": _ppl(lm, real)}
        return {"order": 2 if smoke else KN_ORDER, "smoothing": "modified_kneser_ney", **out}

    return _stage(results, "sst2:kn", kn)


# -- Multi30k ------------------------------------------------------------------------------------
def multi30k(args) -> dict:
    from lmlab.data.features import write_features
    from lmlab.data.parallel import multi30k as pairs_of
    from lmlab.generate.translate import context_vectors
    from lmlab.models.neural.checkpoint import load_checkpoint

    results, smoke = args.results, args.smoke
    s2s, _, _ = load_checkpoint(args.multi30k, kind="seq2seq")
    state = json.loads((Path(args.multi30k) / "trainer_state.json").read_text())
    src, tgt = state["source"]["source"], state["source"]["target"]
    key = f"multi30k-{src}-{tgt}"
    folder = args.runs / f"multi30k-{src}-{tgt}.data"  # the vectors and target files
    pairs = {split: pairs_of(split, src, tgt) for split in ("train", "valid", "test")}
    if smoke:
        pairs = {k: v[:200] for k, v in pairs.items()}

    def encode():
        t0 = time.perf_counter()
        folder.mkdir(parents=True, exist_ok=True)
        for split, ps in pairs.items():
            write_features(folder / f"{split}.features", context_vectors(s2s, [s for s, _ in ps], split))
            (folder / f"{split}.{tgt}").write_text("".join(t + "\n" for _, t in ps))
        return {"seconds": time.perf_counter() - t0, "dimension": s2s.encoder.output_size,
                "encoder_decoder": str(args.multi30k)}

    _stage(results, f"{key}:encode", encode)
    save = args.runs / key  # where _cells.run_cell trains the cell named key
    cell = _cell(["--kind", "conditional-lm", "--train", str(folder / f"train.{tgt}"), "--features",
                  str(folder / "train.features"), "--valid", str(folder / f"valid.{tgt}"), "--valid_features",
                  str(folder / "valid.features"), *M30K_SETTINGS],
                 ["--test", str(folder / f"test.{tgt}"), "--features", str(folder / "test.features")],
                 {"data": "multi30k", "source": src, "target": tgt}, smoke)
    if _trained(args, key, cell) is None:
        return None

    def bleu_rows():
        from lmlab.data.features import read_features
        from lmlab.eval.bleu import bleu
        from lmlab.generate.beam import lm_beam_search
        from lmlab.generate.translate import translate_lines
        from lmlab.models.neural.conditioned import ConditionedLM

        clm, _, _ = load_checkpoint(save, kind="conditional-lm")
        refs = [t for _, t in pairs["test"]]
        t0 = time.perf_counter()
        outs = []
        for v in read_features(folder / "test.features", clm.feature_size):
            h = lm_beam_search(ConditionedLM(clm, features=v), beam=args.beam, max_len=MAX_TOKENS)[0]
            outs.append(" ".join(clm.tokens[t] for t in h.tokens))
        seconds = time.perf_counter() - t0
        own = translate_lines(s2s, [s for s, _ in pairs["test"]])
        own = [" ".join(s2s.target.decode(h[0].tokens)) if h else "" for h in own]
        (folder / f"test.clm.{tgt}").write_text("".join(x + "\n" for x in outs))
        b, o = bleu(outs, refs), bleu(own, refs)
        return {"conditional_lm_bleu": b["score"], "encoder_decoder_bleu": o["score"], "signature": b["signature"],
                "beam": args.beam, "decode_seconds": seconds, "shown": list(zip(refs[:3], outs[:3], own[:3],
                                                                                strict=True))}

    return _stage(results, f"{key}:bleu", bleu_rows)


# -- the report ----------------------------------------------------------------------------------
def _kn_cell(r: dict) -> str:
    return f"{r['perplexity']:.1f} / {r['perplexity_excluding_oovs']:.1f}, {100 * r['oov_rate']:.1f}%"


def report_lines(results: Path) -> list[str]:
    from _cells import load

    done = load(results)
    lines = ["## One-to-many: conditional LMs", "",
             ("From `python benchmarks/conditional_bench.py --sst2 --classifier C` and `--multi30k MODEL` (resumable "
              f"stages; settings fixed in the script). Issue 9's targets: {TARGETS}."), ""]
    if "sst2:judge" not in done and not any(k.endswith(":bleu") for k in done):
        return lines + ["No stage has been run yet."]
    if "sst2" in done:
        t = done["sst2"]
        lines += [f"Machine: {t['machine']}.", "", (f"SST-2 generator: `{t['command']}` ({t['epochs']} epochs, "
                  f"{t['train_seconds'] / 60:.1f} min, best dev perplexity {t['best_dev']:.2f})."), ""]
    if "sst2:judge" in done:
        j = done["sst2:judge"]
        n = done["sst2:samples"]["n"]
        lines += [f"{n} samples per label, temperature 1.0, no top-k/top-p; classifier `{j['classifier']}`.", "",
                  "| label | classified as its label | distinct | copied from training | mean tokens |",
                  "|---|---:|---:|---:|---:|"]
        for label, r in j["per_label"].items():
            lines.append(f"| {label} | {100 * r['classified_as_label']:.1f}% | {100 * r['distinct']:.1f}% | "
                         f"{100 * r['copied_from_training']:.1f}% | {r['mean_tokens']:.1f} |")
    if "sst2" in done:
        rep = done["sst2"]["report"]
        p = {k: v["perplexity"] for k, v in rep["perplexity"].items()} | {"tokens": rep["tokens"]}
        lines += ["", (f"SST-2 test perplexity ({p['tokens']} tokens, `</s>` included): given the true label "
                       f"{p['true']:.2f}, the flipped label {p['flipped']:.2f}, unconditionally (the labels' mixture "
                       f"with the training prior) {p['unconditional']:.2f}.")]
    if "sst2:kn" in done:
        k = done["sst2:kn"]
        lines += ["", f"Under KN {k['order']}-grams (perplexity incl. OOVs / excl. OOVs, OOV rate):", "",
                  "| KN trained on | samples | real test sentences |", "|---|---:|---:|"]
        for name in ("wikitext-2", "sst2-train"):
            lines.append(f"| {name} | {_kn_cell(k[name]['samples'])} | {_kn_cell(k[name]['test_sentences'])} |")
    if "sst2:judge" in done:
        lines += ["", "Samples (the first five of each label):", ""]
        for label, r in done["sst2:judge"]["per_label"].items():
            lines += [f"- label {label}: " + " / ".join(f"`{x}`" for x in r["shown"])]
    for key in sorted(k for k in done if k.endswith(":bleu")):
        b, pair = done[key], key.split(":")[0].removeprefix("multi30k-")
        lines += ["", (f"Multi30k {pair}, test_2016_flickr, BLEU ({b['signature']}): a conditional LM trained on the "
                       f"attention-free encoder-decoder's context vectors, beam {b['beam']}: "
                       f"{b['conditional_lm_bleu']:.2f}; that encoder-decoder's own greedy translations: "
                       f"{b['encoder_decoder_bleu']:.2f}.")]
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sst2", action="store_true", help="the SST-2 stages (needs --classifier)")
    ap.add_argument("--classifier", type=Path, help="an SST-2 classifier checkpoint (lmlab train --kind classify)")
    ap.add_argument("--multi30k", type=Path, metavar="MODEL", help="the Multi30k stages from this --attention none "
                                                                   "encoder-decoder")
    ap.add_argument("--beam", type=int, default=1, help="--multi30k: the conditional LM's beam (1: greedy)")
    ap.add_argument("--report", action="store_true", help="write the conditional section of BENCHMARKS.md")
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    ap.add_argument("--epochs-per-run", type=int, help="train at most this many epochs of a model in this invocation")
    ap.add_argument("--smoke", action="store_true", help="a check of this script: --dry-run training, few samples, "
                                                         "small n-gram corpora; BENCHMARKS.md untouched")
    ap.add_argument("--runs", type=Path, default=RUNS, help="folder of the runs")
    ap.add_argument("--results", type=Path, default=RESULTS, help="the results file")
    args = ap.parse_args()
    if args.sst2 and args.classifier is None:
        ap.error("--sst2 needs --classifier CHECKPOINT (an SST-2 classifier)")
    import torch

    torch.set_num_threads(args.threads)
    if args.sst2:
        sst2(args)
    if args.multi30k is not None:
        multi30k(args)
    lines = report_lines(args.results)
    if args.smoke:
        print("\n".join(lines))
    elif args.report or args.sst2 or args.multi30k is not None:
        from _sections import replace_section

        replace_section("conditional", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
