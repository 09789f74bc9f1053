"""``lmlab diagnose DIAGNOSTIC MODEL...``: why gated cells beat plain RNNs, on your own models.

  gradients   the norm of dL_t/dh_{t-k} against the distance k for recurrent LMs (median and
              quartiles over --positions positions of the text; an LSTM's cell state beside its
              hidden state), with the spectral radius and largest singular value of the top
              layer's W_hh.  Writes OUT/gradients.png, OUT/gradients.json and OUT/gradients.csv.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ._common import Formatter, Progress, applies_only, input_lines, nonnegative_int, positive_int

DIAGNOSTICS = ("gradients",)

EXAMPLES = """examples:
  lmlab diagnose gradients runs/ptb-rnn runs/ptb-lstm runs/ptb-gru --data ptb --out diag
  lmlab diagnose gradients runs/ptb-lstm --text valid.txt --max-distance 100 --positions 2000 --out diag
"""


def add_parser(sub):
    p = sub.add_parser("diagnose", help="diagnostics of models: gradient flow over distance",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("diagnostic", choices=DIAGNOSTICS, help="what to measure (see above)")
    p.add_argument("models", nargs="+", metavar="MODEL", help="models (neural folders for gradients)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the results (made if missing)")
    p.add_argument("--text", help="gradients: text file to take the positions from (default: stdin)")
    p.add_argument("--data", help="gradients: named dataset (see 'lmlab data list')")
    p.add_argument("--split", default="valid", help="with --data: the split to read")
    p.add_argument("--max-distance", dest="max_distance", type=positive_int, default=50, metavar="K",
                   help="gradients: the largest distance k measured")
    p.add_argument("--positions", type=positive_int, default=1000, metavar="N",
                   help="gradients: positions t of the text, spread evenly over it")
    p.add_argument("--warmup", type=nonnegative_int, default=35, metavar="N",
                   help="gradients: tokens read (without gradients) before each position's window, so the "
                        "state is a state of running text")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    applies_only(p, "split", lambda a: a.data is not None, "with --data")
    return p


def run(args) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: --out names a file; give a folder")
    say = Progress(args.quiet)
    return _gradients(args, out, say)


def _recurrent(path: str):
    """The TorchLM of a recurrent LM checkpoint; one line naming the file otherwise."""
    from ..models.loading import load

    lm = load(path)
    if not hasattr(lm, "model"):
        raise ConfigError(f"{path}: {type(lm).__name__} is not a neural model: gradient flow needs a recurrent "
                          "LM (lstm, gru, rnn_tanh, rnn_relu, rnn_sigmoid, gru_cho)")
    if not lm.is_rnn:
        raise ConfigError(f"{path}: a window model sees a fixed {lm.config.context} tokens and has no recurrent "
                          "state to send gradients through: gradient flow needs a recurrent LM")
    return lm


def _gradients(args, out: Path, say) -> int:
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
    return 0
