"""``lmlab diagnose DIAGNOSTIC MODEL...``: why gated cells beat plain RNNs, on your own models.

  gradients   the norm of dL_t/dh_{t-k} against the distance k for recurrent LMs (median and
              quartiles over --positions positions of the text; an LSTM's cell state beside its
              hidden state), with the spectral radius and largest singular value of the top
              layer's W_hh.  Writes OUT/gradients.png, OUT/gradients.json and OUT/gradients.csv.
  agreement   subject-verb number agreement on real English (Linzen et al. 2016) for any model,
              n-gram or neural: the cases are built from UD treebanks (default: all three
              UD-EWT splits; see lmlab.diagnostics.agreement for the rules) and written to
              OUT/agreement_cases.tsv; each model's accuracy (P(correct verb) > P(wrong verb)
              after the prefix), by attractors and by intervening words with Wilson 95%
              intervals, to OUT/agreement.json, OUT/agreement.csv and OUT/agreement.png.
  gates       LSTM forget/input/output and GRU update/reset gates (the fractions each unit keeps
              or lets through) while reading --sentence, as heat maps of the top layer (units x
              words, OUT/gates_MODEL.png; every layer in OUT/gates_sentence.json), and each
              gate's mean, spread and fractions closed (< 0.1) / open (> 0.9) per layer over the
              sentence and, with --text or --data, over that corpus: OUT/gates.json, OUT/gates.csv.
  context     perplexity as a function of the context length k a model may use: each prediction's
              history cut to its last k tokens (<s> counted), for any model (an n-gram's order
              bounds it; a recurrent LM re-reads only the last k tokens from its zero state).
              The text from --text/--data, scored in sentences.  Writes OUT/context.png,
              OUT/context.json and OUT/context.csv.
  cloze       templates with a blank and candidate fillers (lmlab's own, the lecture notes'
              "The writer of the books ___" and "... she finally printed her ___" among them,
              or --file F), each candidate ranked by each model; OUT/cloze.json and OUT/cloze.csv.
  clipping    gradient-norm traces of training runs (each MODEL a folder lmlab train wrote): the
              global norm before clipping at every step (steps.jsonl), the run's --clip threshold
              and the steps it clipped; a run the NaN guard stopped is marked where it diverged.
              No training here.  Writes OUT/clipping.png, OUT/clipping.json and OUT/clipping.csv.
  curves      training-loss curves of runs side by side (each MODEL a folder lmlab train wrote):
              the loss of every step (steps.jsonl) and its trailing mean over --smooth steps, the
              dev metric of each epoch (log.jsonl) beside it.  Writes OUT/curves.png,
              OUT/curves.json and OUT/curves.csv.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ._common import Formatter, Progress, applies_only, input_lines, nonnegative_int, positive_int

DIAGNOSTICS = ("gradients", "agreement", "cloze", "gates", "context", "clipping", "curves")
SENTENCE = "the keys to the cabinet are on the table"

EXAMPLES = """examples:
  lmlab diagnose gradients runs/ptb-rnn runs/ptb-lstm runs/ptb-gru --data ptb --out diag
  lmlab diagnose gradients runs/ptb-lstm --text valid.txt --max-distance 100 --positions 2000 --out diag
  lmlab diagnose agreement ptb.o5.arpa runs/ptb-lstm runs/ptb-gru --out diag
  lmlab diagnose agreement runs/wt2-lstm --conllu my.conllu --normalize none --out diag
  lmlab diagnose cloze ptb.o5.arpa runs/ptb-lstm --out diag
  lmlab diagnose context ptb.o5.arpa runs/ptb-rnn runs/ptb-lstm runs/ptb-gru --data ptb --lengths 1 2 5 10 20 50 --out diag
  lmlab diagnose gates runs/ptb-lstm runs/ptb-gru --sentence "the writer of the books is here" --data ptb --out diag
  lmlab diagnose cloze runs/ptb-lstm --file my_templates.tsv --out diag
  lmlab diagnose clipping runs/ptb-relu-clip0 runs/ptb-relu-clip0.25 --out diag
  lmlab diagnose curves runs/ptb-sigmoid runs/ptb-rnn runs/ptb-relu runs/ptb-lstm --smooth 50 --out diag
"""


def add_parser(sub):
    p = sub.add_parser("diagnose", help="diagnostics of models: gradient flow, gates, context length, agreement, cloze",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("diagnostic", choices=DIAGNOSTICS, help="what to measure (see above)")
    p.add_argument("models", nargs="+", metavar="MODEL",
                   help="models: recurrent neural folders for gradients, LSTM/GRU folders for gates; any model "
                        "(ARPA, .lmbin, neural folder, mixture .json) for context, agreement and cloze; the folders "
                        "of training runs for clipping and curves")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the results (made if missing)")
    p.add_argument("--text", help="gradients: text file to take the positions from (default: stdin); gates: a "
                                  "corpus to average the gates over (default: none, the sentence only); context: "
                                  "the text to score (default: stdin)")
    p.add_argument("--data", help="gradients, gates, context: named dataset instead of --text (see 'lmlab data list')")
    p.add_argument("--split", default="valid", help="with --data: the split to read")
    measurement_options(p)
    p.add_argument("--file", metavar="F",
                   help="cloze: your templates, one a line: TEMPLATE<tab>CAND1|CAND2|...[<tab>EXPECTED], the blank "
                        "written ___ (default: lmlab's own, lmlab/diagnostics/cloze_templates.tsv)")
    p.add_argument("--sentence", default=SENTENCE,
                   help="gates: the sentence whose gates are drawn (normalised as --normalize says)")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    for diagnostic, dests in (("gradients", ("max_distance", "positions", "warmup")), ("curves", ("smooth",)),
                              ("agreement", ("conllu",)), ("cloze", ("file",)), ("gates", ("sentence",)),
                              ("context", ("lengths",))):
        for dest in dests:
            applies_only(p, dest, lambda a, d=diagnostic: a.diagnostic == d, f"with diagnose {diagnostic}")
    for dest in ("text", "data"):
        applies_only(p, dest, lambda a: a.diagnostic in ("gradients", "gates", "context"),
                     "with diagnose gradients, gates or context")
    applies_only(p, "normalize", lambda a: a.diagnostic in ("agreement", "cloze", "gates"),
                 "with diagnose agreement, cloze or gates")
    applies_only(p, "split", lambda a: a.data is not None, "with --data")
    return p


def measurement_options(p) -> None:
    """The options of the measurements themselves, shared with ``lmlab report`` (which runs them)."""
    p.add_argument("--lengths", nargs="+", type=positive_int, default=[1, 2, 5, 10, 20, 50], metavar="K",
                   help="context: the context lengths k measured")
    p.add_argument("--max-distance", dest="max_distance", type=positive_int, default=50, metavar="K",
                   help="gradients: the largest distance k measured")
    p.add_argument("--positions", type=positive_int, default=1000, metavar="N",
                   help="gradients: positions t of the text, spread evenly over it")
    p.add_argument("--warmup", type=nonnegative_int, default=35, metavar="N",
                   help="gradients: tokens read (without gradients) before each position's window, so the "
                        "state is a state of running text")
    p.add_argument("--conllu", nargs="+", metavar="FILE",
                   help="agreement: CoNLL-U treebanks to build the cases from (default: the train, valid and test "
                        "splits of ud-english-ewt)")
    p.add_argument("--smooth", type=positive_int, default=20, metavar="N",
                   help="curves: the trailing mean of the training loss over this many steps")
    p.add_argument("--normalize", choices=("ptb", "none"), default="ptb",
                   help="agreement, cloze, gates: how the text is written for the models: ptb (lower case, numbers as N, "
                        "no punctuation: Mikolov's PTB) or none (as written)")


def run(args) -> int:
    measure(args)
    return 0


def measure(args) -> dict:
    """Run the diagnostic ``args`` name (``args`` as this command parses them): write its files and
    return its ``records`` (what its JSON holds) and ``figures`` (the PNG paths), for ``lmlab report``."""
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: --out names a file; give a folder")
    say = Progress(args.quiet)
    return {"gradients": _gradients, "agreement": _agreement, "cloze": _cloze,
            "gates": _gates, "context": _context, "clipping": _clipping, "curves": _curves}[args.diagnostic](args, out, say)


def _recurrent(path: str, what: str = "gradient flow"):
    """The TorchLM of a recurrent LM checkpoint; one line naming the file otherwise."""
    from ..models.loading import load

    lm = load(path)
    if not hasattr(lm, "model"):
        raise ConfigError(f"{path}: {type(lm).__name__} is not a neural model: {what} needs a recurrent "
                          "LM (lstm, gru, rnn_tanh, rnn_relu, rnn_sigmoid, gru_cho)")
    if not lm.is_rnn:
        raise ConfigError(f"{path}: a window model sees a fixed {lm.config.context} tokens and has no recurrent "
                          f"state: {what} needs a recurrent LM")
    return lm


def _gradients(args, out: Path, say) -> dict:
    from ..diagnostics.gradients import gradient_flow, window_positions
    from ..diagnostics.records import write_records
    from ..text.vocab import encode_corpus

    lines = input_lines(args.text, args.data, args.split)
    models = [(m, _recurrent(m)) for m in args.models]  # every model checked before any work
    streams = [encode_corpus(lm.vocab, [lm.vocab.tokenizer.tokenize(x) for x in lines])[0] for _, lm in models]
    for ids in streams:  # a distance or a number of positions the text cannot hold: refused before any work
        window_positions(ids, args.max_distance, args.warmup, args.positions)
    records, curves = [], []
    for (name, lm), ids in zip(models, streams, strict=True):
        say(f"{name}: {lm.config.cell}, {args.positions} positions, distances 0..{args.max_distance}")
        flow = gradient_flow(lm.model, ids, max_distance=args.max_distance, positions=args.positions,
                             warmup=args.warmup)
        rec = flow.records(name)
        records.extend(rec)
        radius = max(flow.spectral_radius.values())
        label = (f"{Path(name).name or name} ({flow.cell}, init {flow.init}; "
                 f"ρ(W_hh) {radius:.2f}, σ_max {flow.largest_singular:.2f})")
        curve = {"label": label, "short": Path(name).name or name, "distance": [r["distance"] for r in rec],
                 **{k: [r[f"grad_norm{s}"] for r in rec] for k, s in (("median", ""), ("q1", "_q1"), ("q3", "_q3"))}}
        if flow.cell_state is not None:
            curve["cell"] = tuple([r[f"cell_grad_norm{s}"] for r in rec] for s in ("", "_q1", "_q3"))
        curves.append(curve)
        r0, rk = rec[0]["grad_norm"], rec[-1]["grad_norm"]
        print(f"{name}\t{flow.cell}\tinit {flow.init}\tnorm(0) {r0:.4g}\tnorm({args.max_distance}) {rk:.4g}\t"
              f"ratio {rk / r0:.4g}\tspectral radius {radius:.4g}\tlargest singular value {flow.largest_singular:.4g}")
    out.mkdir(exist_ok=True)
    paths = write_records(out, "gradients", records)
    from ..diagnostics.plots import gradient_plot

    gradient_plot(curves, out / "gradients.png", args.positions)
    say("wrote " + ", ".join(str(p) for p in [*paths, out / "gradients.png"]))
    return {"records": records, "figures": [out / "gradients.png"]}


def _agreement(args, out: Path, say) -> dict:
    from .._io import write_text_atomic
    from ..diagnostics.agreement import build_cases, cases_tsv, evaluate, read_treebanks
    from ..diagnostics.records import write_records
    from ..models.loading import load

    if args.conllu is not None:
        paths = args.conllu
    else:
        from ..data.registry import resolve

        paths = [resolve("ud-english-ewt", split) for split in ("train", "valid", "test")]
    build = build_cases(read_treebanks(paths), args.normalize)
    models = [(m, load(m)) for m in args.models]
    say(build.summary())
    out.mkdir(exist_ok=True)
    write_text_atomic(out / "agreement_cases.tsv", cases_tsv(build.cases))
    if not build.cases:
        write_records(out, "agreement", [])
        print(build.explain_empty())
        return {"records": [], "figures": [], "note": build.explain_empty()}
    records = []
    for name, lm in models:
        say(f"{name}: scoring {len(build.cases)} cases")
        records.extend(evaluate(name, lm, build.cases))
    paths = write_records(out, "agreement", records)
    from ..diagnostics.plots import agreement_plot

    agreement_plot(records, out / "agreement.png")
    print(f"{'model':30s} {'bucket':>16s} {'cases':>6s} {'accuracy':>8s}  95% interval   not scored")
    for r in records:
        acc = "-" if r["accuracy"] is None else f"{r['accuracy']:.3f}"
        ci = "" if r["accuracy"] is None else f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
        print(f"{Path(r['model']).name or r['model']:30s} {r['bucket'] if r['bucket'] == 'all' else r['bucket_kind'] + ' ' + r['bucket']:>16s} "
              f"{r['cases']:6d} {acc:>8s}  {ci:14s} {r['not_scored']}")
    say("wrote " + ", ".join(str(p) for p in [out / "agreement_cases.tsv", *paths, out / "agreement.png"]))
    return {"records": records, "figures": [out / "agreement.png"], "cases": len(build.cases)}


def _cloze(args, out: Path, say) -> dict:
    from ..diagnostics.cloze import SHIPPED, rank, read_templates
    from ..diagnostics.records import write_records
    from ..models.loading import load

    templates = read_templates(args.file if args.file is not None else SHIPPED)
    models = [(m, load(m)) for m in args.models]
    records = []
    for name, lm in models:
        rows = rank(lm, templates, args.normalize)
        records.extend({"model": name, **r} for r in rows)
        print(f"== {name}")
        for r in rows:
            if r["rank"] == 1:
                text = r["template"] if len(r["template"]) <= 60 else "..." + r["template"][-57:]
                print(f"{text}")
            mark = "" if r["expected"] is None else "  <- expected" if r["expected"] else ""
            unk = f"  ({r['unknown_words']} word(s) unknown to the model: ranked last)" if r["unknown_words"] else ""
            print(f"  {r['rank']}. {r['candidate']:12s} {r['logprob']:9.3f}{mark}{unk}")
        scored = [r for r in rows if r["expected"]]
        if scored:
            print(f"expected filler ranked first: {sum(r['rank'] == 1 for r in scored)} of {len(scored)} templates")
    out.mkdir(exist_ok=True)
    paths = write_records(out, "cloze", records)
    say("wrote " + ", ".join(str(p) for p in paths))
    return {"records": records, "figures": []}


def _gates(args, out: Path, say) -> dict:
    import json

    from .._io import write_text_atomic
    from ..diagnostics.gates import check_gated, corpus_gate_stats, gate_summary, sentence_gates
    from ..diagnostics.normalize import normalize_words
    from ..diagnostics.records import write_records

    models = [(m, _recurrent(m, "gate activity")) for m in args.models]
    for name, lm in models:  # every model checked before any work
        check_gated(lm.model, name)
    words = normalize_words(args.sentence.split(), args.normalize)
    if not words:
        raise ConfigError(f"--sentence {args.sentence!r} has no words (after --normalize {args.normalize})")
    lines = input_lines(args.text, args.data, args.split) if args.text is not None or args.data is not None else None
    records, traces, plots = [], [], []
    for name, lm in models:
        tokens = lm.vocab.tokenize(" ".join(words))
        sg = sentence_gates(lm.model, lm.encode(tokens), tokens)
        traces.append(sg.to_dict(name))
        for layer in range(lm.model.nlayers):
            for g, v in sg.gates.items():
                records.append({"model": name, "cell": sg.cell, "scope": "sentence", "layer": layer, "gate": g,
                                **gate_summary(v[layer])})
        if lines is not None:
            say(f"{name}: averaging the gates over {len(lines)} lines")
            for (layer, g), st in sorted(corpus_gate_stats(lm.model, [lm.encode(x) for x in lines]).items()):
                records.append({"model": name, "cell": sg.cell, "scope": "corpus", "layer": layer, "gate": g, **st})
        short = Path(name).name or name
        plots.append((out / _unique(f"gates_{short}.png", [p for p, _, _ in plots]), sg, short))
    out.mkdir(exist_ok=True)
    paths = write_records(out, "gates", records)
    write_text_atomic(out / "gates_sentence.json", json.dumps(traces) + "\n")
    from ..diagnostics.plots import gate_heatmaps

    for path, sg, short in plots:
        top = sg.gates[next(iter(sg.gates))].shape[0] - 1
        gate_heatmaps(sg.tokens, {g: v[top] for g, v in sg.gates.items()}, path,
                      f"{short} ({sg.cell}): gates of layer {top + 1} of {top + 1} reading the sentence")
    print(f"{'model':24s} {'scope':8s} {'layer':>5s} {'gate':8s} {'mean':>6s} {'std':>6s} {'<0.1':>6s} {'>0.9':>6s}")
    for r in records:
        print(f"{Path(r['model']).name or r['model']:24s} {r['scope']:8s} {r['layer'] + 1:5d} {r['gate']:8s} "
              f"{r['mean']:6.3f} {r['std']:6.3f} {r['below_0.1']:6.3f} {r['above_0.9']:6.3f}")
    say("wrote " + ", ".join(str(p) for p in [*paths, out / "gates_sentence.json", *(p for p, _, _ in plots)]))
    return {"records": records, "figures": [p for p, _, _ in plots]}


def _unique(name: str, taken) -> str:
    """``name``, or ``name`` with a number before its suffix if a path in ``taken`` has it."""
    stem, dot, suffix = name.rpartition(".")
    names, n, cand = {Path(p).name for p in taken}, 1, name
    while cand in names:
        n += 1
        cand = f"{stem}_{n}{dot}{suffix}"
    return cand


def _context(args, out: Path, say) -> dict:
    from ..diagnostics.context import context_curve
    from ..diagnostics.records import write_records
    from ..errors import NotNormalizedError
    from ..models.loading import load

    lines = input_lines(args.text, args.data, args.split)
    models = [(m, load(m)) for m in args.models]
    for name, lm in models:
        if not lm.normalized:
            raise NotNormalizedError(f"{name}: {lm.not_probabilities()}: it has no perplexity")
    lengths = sorted(set(args.lengths))
    records = []
    for name, lm in models:
        say(f"{name}: {len(lines)} lines, context lengths {' '.join(map(str, lengths))}")
        records.extend(context_curve(name, lm, [lm.encode(x) for x in lines], lengths))
    out.mkdir(exist_ok=True)
    paths = write_records(out, "context", records)
    from ..diagnostics.plots import context_plot

    context_plot(records, out / "context.png")
    print(f"{'model':30s} {'k':>5s} {'perplexity':>11s} {'cut':>8s} {'full history':>13s}")
    for r in records:
        print(f"{Path(r['model']).name or r['model']:30s} {r['context']:5d} {r['perplexity']:11.3f} {r['cut']:8d} "
              f"{r['full_perplexity']:13.3f}")
    say("wrote " + ", ".join(str(p) for p in [*paths, out / "context.png"]))
    return {"records": records, "figures": [out / "context.png"]}


def _traces(args):
    from ..diagnostics.traces import read_trace

    return [read_trace(m) for m in args.models]  # every folder checked before any work


def _clipping(args, out: Path, say) -> dict:
    from ..diagnostics.records import write_records
    from ..diagnostics.traces import clipping_records, clipping_summary

    traces = _traces(args)
    records = [r for t in traces for r in clipping_records(t)]
    out.mkdir(exist_ok=True)
    paths = write_records(out, "clipping", records)
    from ..diagnostics.plots import clipping_plot

    clipping_plot(traces, out / "clipping.png")
    print(f"{'run':28s} {'clip':>12s} {'steps':>6s} {'median norm':>12s} {'max norm':>10s} {'clipped':>8s}  outcome")
    for t in traces:
        s = clipping_summary(t)
        med = f"{s['median_norm']:12.4g}" if s["median_norm"] is not None else f"{'-':>12s}"
        top = f"{s['max_norm']:10.4g}" if s["max_norm"] is not None else f"{'-':>10s}"
        clipped = f"{s['clipped']:8.1%}" if s["clipped"] is not None else f"{'-':>8s}"
        print(f"{t.name:28s} {t.clip_label:>12s} {s['steps']:6d} {med} {top} {clipped}  {s['outcome']}")
    say("wrote " + ", ".join(str(p) for p in [*paths, out / "clipping.png"]))
    return {"records": records, "figures": [out / "clipping.png"], "traces": traces}


def _curves(args, out: Path, say) -> dict:
    from ..diagnostics.records import write_records
    from ..diagnostics.traces import curve_records, dev_metric

    traces = _traces(args)
    for t in traces:
        if not t.steps:
            raise ConfigError(f"{t.run}: the run diverged at its first step: it has no training loss to draw")
    records = [r for t in traces for r in curve_records(t, args.smooth)]
    out.mkdir(exist_ok=True)
    paths = write_records(out, "curves", records)
    from ..diagnostics.plots import curves_plot

    curves_plot(traces, records, out / "curves.png", args.smooth)
    print(f"{'run':28s} {'model':28s} {'steps':>6s} {'first loss':>10s} {f'last {args.smooth} mean':>12s}  dev")
    for t in traces:
        last = [r for r in records if r["model"] == t.run][-1]
        dev = dev_metric(t)
        shown = f"{dev[0]} {dev[1][-1][1]:.4g} (epoch {len(dev[1])})" if dev else "-"
        if t.diverged:
            shown += f"; diverged at step {t.diverged['step']}"
        print(f"{t.name:28s} {t.model or '-':28s} {len(t.steps):6d} {t.steps[0]['loss']:10.4g} "
              f"{last['loss_smoothed']:12.4g}  {shown}")
    say("wrote " + ", ".join(str(p) for p in [*paths, out / "curves.png"]))
    return {"records": records, "figures": [out / "curves.png"], "traces": traces}
