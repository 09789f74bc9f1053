"""``lmlab report MODEL... --data ptb --out report.html``: one self-contained HTML page with the
diagnostics of ``lmlab diagnose`` for the models passed, so a learner sees RNN vs LSTM vs GRU on
real data with one command.

Sections (--sections, default all): gradient flow (recurrent LMs), exploding gradients and
clipping, and the training-loss curves (the training runs among the models: folders lmlab train
wrote, their steps.jsonl and log.jsonl; a run the NaN guard stopped before it saved a model is
passed as a MODEL too and drawn there only), gate activity (LSTM and GRU), perplexity against the
context length, subject-verb agreement (UD-EWT, or --conllu) and the cloze templates (any model).
Each is ``lmlab diagnose``'s own run (same defaults, same checks); a model a section does not
apply to (an n-gram in gradient flow) is named in a note.  The figures are embedded as PNG data
URIs: the page needs no file beside it.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

from ._common import Formatter, Progress, applies_only, input_lines, output_file
from .diagnose import measurement_options

SECTIONS = ("gradients", "clipping", "curves", "gates", "context", "agreement", "cloze")
TEXT_SECTIONS = ("gradients", "gates", "context")

EXAMPLES = """examples:
  lmlab report ptb.o5.arpa runs/ptb-rnn runs/ptb-lstm runs/ptb-gru --data ptb --out report.html
  lmlab report runs/ptb-lstm --text valid.txt --sections gradients gates --out lstm.html
  lmlab report runs/ptb-relu-clip0 runs/ptb-relu-clip0.25 --sections clipping curves --out clipping.html
"""


def add_parser(sub):
    p = sub.add_parser("report", help="one HTML page of diagnostics (gradients, clipping, curves, gates, context, "
                                      "agreement, cloze)",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("models", nargs="+", metavar="MODEL",
                   help="models: ARPA, .lmbin, neural folders, mixture .json, folders of diverged training runs "
                        "(each section takes those it applies to)")
    p.add_argument("--out", required=True, type=output_file, metavar="FILE", help="the HTML file to write")
    p.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS), metavar="S",
                   help=f"the sections, in this order: {', '.join(SECTIONS)}")
    p.add_argument("--text", help="gradients, gates, context: the text file they read (default: stdin)")
    p.add_argument("--data", help="named dataset instead of --text (see 'lmlab data list')")
    p.add_argument("--split", default="valid", help="with --data: the split to read")
    measurement_options(p)  # lmlab diagnose's own: the same names, defaults and checks
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    on = lambda *names: lambda a: any(s in a.sections for s in names)  # noqa: E731
    for dest in ("max_distance", "positions", "warmup"):
        applies_only(p, dest, on("gradients"), "with --sections gradients")
    applies_only(p, "lengths", on("context"), "with --sections context")
    applies_only(p, "smooth", on("curves"), "with --sections curves")
    applies_only(p, "conllu", on("agreement"), "with --sections agreement")
    for dest in ("text", "data"):
        applies_only(p, dest, on(*TEXT_SECTIONS), "with --sections gradients, gates or context")
    applies_only(p, "normalize", on("agreement", "cloze", "gates"), "with --sections agreement, cloze or gates")
    applies_only(p, "split", lambda a: a.data is not None, "with --data")
    return p


RECURRENT, GATED, MODEL, TRACE, STEPS = range(1, 6)  # the flags of each entry of :func:`_kinds`


def _kinds(paths):
    """Each model's (path, recurrent, gated, a model, a training trace, a trace with finite steps),
    every model loaded and every trace read (and so checked) before any work.  A folder with a
    trace and no model (a run the NaN guard stopped before its first checkpoint) is a trace only."""
    from ..diagnostics.traces import read_trace
    from ..models.loading import load
    from ..models.neural.checkpoint import CONFIG
    from ..train.loop import STEPS as STEPS_FILE

    out = []
    for path in paths:
        folder = Path(path)
        trace = read_trace(folder) if (folder / STEPS_FILE).is_file() else None
        if trace is not None and not (folder / CONFIG).is_file():
            out.append((path, False, False, False, True, bool(trace.steps)))
            continue
        lm = load(path)
        recurrent = bool(getattr(lm, "is_rnn", False)) and hasattr(lm, "model")
        out.append((path, recurrent, recurrent and lm.config.cell in ("lstm", "gru", "gru_cho"), True,
                    trace is not None, trace is not None and bool(trace.steps)))
    return out


def run(args) -> int:
    from .._io import write_text_atomic
    from ..diagnostics.html import page

    say = Progress(args.quiet)
    kinds = _kinds(args.models)
    sections = list(dict.fromkeys(args.sections))
    text_args: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lmlab-report-") as tmp:
        if any(s in TEXT_SECTIONS for s in sections):
            if args.data is not None:
                text_args = ["--data", args.data, "--split", args.split]
                input_lines(None, args.data, args.split)  # a missing dataset is refused before any work
            else:
                lines = input_lines(args.text)
                write_text_atomic(Path(tmp) / "text.txt", "\n".join(lines) + "\n")
                text_args = ["--text", str(Path(tmp) / "text.txt")]
        built = []
        for name in sections:
            say(f"section {name}")
            built.append(SECTION_BUILDERS[name](args, kinds, text_args, Path(tmp) / name))
        if text_args[:1] == ["--text"]:  # the commands shown name the user's text, not the copy read from it
            for sec in built:
                sec.notes = [n.replace(text_args[1], "-" if args.text is None else args.text) for n in sec.notes]
    intro = [f"Models: {', '.join(args.models)}.",
             "Made by lmlab report; each section is the lmlab diagnose command of the same name, run with the "
             "options shown in it."]
    write_text_atomic(args.out, page("lmlab diagnostics report", intro, built))
    say(f"wrote {args.out}")
    return 0


def _diagnose(sec, diagnostic: str, models, out: Path, extra: list[str]) -> dict:
    """``lmlab diagnose DIAGNOSTIC MODELS --out OUT EXTRA`` (its printed tables kept off stdout); its
    figures and the command are added to the section ``sec``."""
    from . import diagnose
    from .main import build_parser

    argv = ["diagnose", diagnostic, *map(str, models), "--out", str(out), "--quiet", *extra]
    args = build_parser("diagnose").parse_args(argv)
    with contextlib.redirect_stdout(io.StringIO()):
        result = diagnose.measure(args)
    sec.figures += [(Path(f).stem.replace("_", " "), Path(f).read_bytes()) for f in result["figures"]]
    sec.notes.append("lmlab " + " ".join(a for a in argv if a not in (str(out), "--out", "--quiet")))
    return result


def _short(path: str) -> str:
    return Path(path).name or path


NO_MODEL = "a training run that stopped before it saved a model: only its trace is drawn (clipping, curves)"
NO_TRACE = "no training trace (steps.jsonl): not a run lmlab train wrote"
NO_RUN = "No training run (a folder lmlab train wrote) was passed."


def _applicable(sec, kinds, index: int, what: str, none: str) -> list:
    """The models whose flag ``index`` of :func:`_kinds` is set; the others named in notes of ``sec``
    (a trace without a model as such, in a section that needs a model)."""
    sec.notes += [f"{k[0]}: {what if k[MODEL] or index in (TRACE, STEPS) else NO_MODEL}" for k in kinds if not k[index]]
    models = [k[0] for k in kinds if k[index]]
    if not models:
        sec.notes.append(none)
    return models


def _measured(title: str, intro: str, kinds, index: int, what: str, none: str, diagnostic: str, out: Path,
              extra: list[str]):
    """A section ``title`` opening with ``intro``, the models whose flag ``index`` of :func:`_kinds` is
    set (the others named in its notes), and ``lmlab diagnose DIAGNOSTIC`` run over them with
    ``extra`` (its result None when no model applies)."""
    from ..diagnostics.html import Section

    sec = Section(title)
    sec.text.append(intro)
    models = _applicable(sec, kinds, index, what, none)
    return sec, models, (_diagnose(sec, diagnostic, models, out, extra) if models else None)


def _gradients(args, kinds, text_args, out):
    from ..diagnostics.html import table

    intro = ("The norm of dL_t/dh_{t-k} (the loss at position t, the top layer's hidden state k tokens "
             "earlier; an LSTM's cell state dashed), median and quartiles over positions of the text. A "
             "plain RNN's gradient shrinks (or explodes) geometrically with k: the same W_hh multiplies it at "
             "every step; the LSTM's additive cell update and the GRU's update gate keep it alive.")
    extra = [*text_args, "--max-distance", str(args.max_distance), "--positions", str(args.positions),
             "--warmup", str(args.warmup)]
    sec, models, res = _measured("Gradient flow back through time", intro, kinds, RECURRENT,
                                 "not a recurrent LM: no gradient flow through time", "No recurrent model was passed.",
                                 "gradients", out, extra)
    if res is None:
        return sec
    K = args.max_distance
    ks = sorted({0, min(10, K), min(20, K), K})
    rows = []
    for m in models:
        rec = {r["distance"]: r for r in res["records"] if r["model"] == str(m)}
        row = {"model": _short(m), "cell": rec[0]["cell"], "init": rec[0]["init"],
               "radius": rec[0]["w_hh_spectral_radius"], "sigma": rec[0]["w_hh_largest_singular"]}
        for k in ks:
            row[f"n{k}"] = rec[k]["grad_norm"]
        row["ratio"] = rec[min(20, K)]["grad_norm"] / rec[0]["grad_norm"] if rec[0]["grad_norm"] else None
        rows.append(row)
    sec.tables.append(table(rows, [("model", "model"), ("cell", "cell"), ("init", "init"),
                                   *[(f"n{k}", f"norm at k={k}") for k in ks],
                                   ("ratio", f"norm({min(20, K)}) / norm(0)"),
                                   ("radius", "spectral radius of W_hh"), ("sigma", "largest singular value")]))
    return sec


def _clipping(args, kinds, text_args, out):
    from ..diagnostics.html import table
    from ..diagnostics.traces import clipping_summary

    intro = ("The global gradient norm before clipping at every training step (log scale; each run's --clip "
             "threshold dashed: the steps above it were clipped), the training loss below it. Without "
             "clipping one large step can throw a plain RNN's weights where its state and gradients blow up; "
             "the trainer stops such a run at the first NaN or infinite value (marked with a cross), where "
             "the same run clipped keeps training.")
    sec, runs, res = _measured("Exploding gradients and clipping", intro, kinds, TRACE, NO_TRACE, NO_RUN,
                               "clipping", out, [])
    if res is None:
        return sec
    rows = [{"run": t.name, "model": t.model or None, "clip": t.clip_label, **clipping_summary(t)}
            for t in res["traces"]]
    sec.tables.append(table(rows, [("run", "run"), ("model", "model"), ("clip", "clipping"), ("steps", "steps"),
                                   ("median_norm", "median norm"), ("max_norm", "max norm"),
                                   ("clipped", "steps clipped", lambda v: f"{v:.1%}"), ("outcome", "outcome")]))
    return sec


def _curves(args, kinds, text_args, out):
    from ..diagnostics.html import Section, table
    from ..diagnostics.traces import dev_metric

    sec = Section("Training-loss curves")
    sec.text.append(f"The training loss of every step (faint) and its trailing mean over {args.smooth} steps, one "
                    "line per run, and each epoch's dev metric beside it when the runs have one: runs of the same "
                    "budget and seed show what the cell and its activation do to training (sigmoid, tanh and ReLU "
                    "RNNs against an LSTM, say).")
    _applicable(sec, kinds, TRACE, NO_TRACE, NO_RUN)
    sec.notes += [f"{k[0]}: diverged at its first step: no training loss to draw" for k in kinds if k[TRACE] and not k[STEPS]]
    runs = [k[0] for k in kinds if k[STEPS]]
    if not runs:
        return sec
    res = _diagnose(sec, "curves", runs, out, ["--smooth", str(args.smooth)])
    rows = []
    for t in res["traces"]:
        dev = dev_metric(t)
        last = [r for r in res["records"] if r["model"] == t.run][-1]
        rows.append({"run": t.name, "model": t.model or None, "steps": len(t.steps), "first": t.steps[0]["loss"],
                     "last": last["loss_smoothed"], "dev": f"{dev[0]} {dev[1][-1][1]:.4g} (epoch {len(dev[1])})" if dev
                     else None, "diverged": f"at step {t.diverged['step']}" if t.diverged else "no"})
    sec.tables.append(table(rows, [("run", "run"), ("model", "model"), ("steps", "steps"), ("first", "first loss"),
                                   ("last", f"mean loss of the last {args.smooth} steps"), ("dev", "dev metric"),
                                   ("diverged", "diverged")]))
    return sec


def _gates(args, kinds, text_args, out):
    from ..diagnostics.html import table

    intro = ("What fraction each unit keeps or lets through at each word of the sentence (top layer; 0 "
             "closed, 1 open): an LSTM's forget, input and output gates, a GRU's update and reset gates. "
             "The table gives each gate's mean over units and tokens, and the fractions closed (< 0.1) "
             "and open (> 0.9), over the corpus.")
    sec, models, res = _measured("Gate activity", intro, kinds, GATED, "no gates (gates are for LSTM and GRU models)",
                                 "No LSTM or GRU model was passed.", "gates", out,
                                 [*text_args, "--normalize", args.normalize])
    if res is None:
        return sec
    rows = [dict(r, model=_short(r["model"]), layer=r["layer"] + 1) for r in res["records"] if r["scope"] == "corpus"]
    sec.tables.append(table(rows, [("model", "model"), ("cell", "cell"), ("layer", "layer"), ("gate", "gate"),
                                   ("mean", "mean"), ("std", "std"), ("below_0.1", "closed (< 0.1)"),
                                   ("above_0.9", "open (> 0.9)")]))
    return sec


def _context(args, kinds, text_args, out):
    from ..diagnostics.html import table

    intro = ("Each prediction's history cut to its last k tokens (<s> counted): an n-gram model of order N "
             "sees N - 1 tokens whatever k is; a recurrent model that uses long contexts keeps improving "
             "with k. Dotted: each model's full-history perplexity.")
    sec, models, res = _measured("Perplexity against the context length", intro, kinds, MODEL, NO_MODEL,
                                 "No model was passed.", "context", out, [*text_args, "--lengths", *map(str, args.lengths)])
    if res is None:
        return sec
    ks = sorted({r["context"] for r in res["records"]})
    rows = []
    for m in models:
        rec = {r["context"]: r for r in res["records"] if r["model"] == str(m)}
        first = next(iter(rec.values()))
        rows.append({"model": _short(m), "window": first["window"], "full": first["full_perplexity"],
                     **{f"k{k}": rec[k]["perplexity"] for k in ks}})
    sec.tables.append(table(rows, [("model", "model"), ("window", "fixed window"),
                                   *[(f"k{k}", f"k={k}", lambda v: f"{v:.2f}") for k in ks],
                                   ("full", "full history", lambda v: f"{v:.2f}")]))
    return sec


def _agreement(args, kinds, text_args, out):
    from ..diagnostics.html import table

    extra = ["--normalize", args.normalize] + (["--conllu", *args.conllu] if args.conllu else [])
    intro = ("Cases from real English (UD treebanks, as Linzen et al. 2016): the model is right when it "
             "gives the verb form that agrees with the subject a higher probability than the other form, "
             "after the prefix; bucketed by attractors (intervening nouns of the other number) and by "
             "intervening words, with Wilson 95% intervals. Published LSTM figures from Marvin & Linzen "
             "2018 (simple agreement about 0.94, across a prepositional phrase about 0.57) come from "
             "templates, not from a treebank.")
    sec, models, res = _measured("Subject-verb number agreement", intro, kinds, MODEL, NO_MODEL,
                                 "No model was passed.", "agreement", out, extra)
    if res is None:
        return sec
    if not res["records"]:
        sec.notes.append(res.get("note", "no cases"))
        return sec
    rows = [dict(r, model=_short(r["model"]), bucket=r["bucket"] if r["bucket"] == "all"
                 else f"{r['bucket_kind']} {r['bucket']}") for r in res["records"]]
    ci = lambda r: None if r["accuracy"] is None else f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]"  # noqa: E731
    for r in rows:
        r["ci"] = ci(r)
    sec.tables.append(table(rows, [("model", "model"), ("bucket", "bucket"), ("cases", "cases"),
                                   ("accuracy", "accuracy", lambda v: f"{v:.3f}"), ("ci", "95% interval"),
                                   ("not_scored", "not scored")]))
    return sec


def _cloze(args, kinds, text_args, out):
    from ..diagnostics.html import table

    intro = ("Sentences with a blank and candidate fillers (lmlab's shipped templates, the lecture's "
             "'The writer of the books ___' and '... she finally printed her ___' among them), each "
             "model's best candidate and the rank it gives the expected filler.")
    sec, models, res = _measured("Cloze templates", intro, kinds, MODEL, NO_MODEL, "No model was passed.",
                                 "cloze", out, ["--normalize", args.normalize])
    if res is None:
        return sec
    rows = []
    for m in models:
        mine = [r for r in res["records"] if r["model"] == str(m)]
        for template in dict.fromkeys(r["template"] for r in mine):
            cands = [r for r in mine if r["template"] == template]
            expected = next((r for r in cands if r["expected"]), None)
            rows.append({"model": _short(m), "template": template, "best": cands[0]["candidate"],
                         "expected": None if expected is None else expected["candidate"],
                         "rank": None if expected is None else expected["rank"], "of": len(cands)})
    sec.tables.append(table(rows, [("model", "model"), ("template", "template"), ("best", "model's best filler"),
                                   ("expected", "expected"), ("rank", "rank of the expected"), ("of", "candidates")]))
    return sec


SECTION_BUILDERS = {"gradients": _gradients, "clipping": _clipping, "curves": _curves, "gates": _gates,
                    "context": _context, "agreement": _agreement, "cloze": _cloze}
