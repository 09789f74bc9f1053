"""The diagnostics' figures, drawn with matplotlib's Agg canvas (no display, no pyplot state).

This is the one module of lmlab that imports matplotlib (an import-linter contract keeps it so):
the n-gram path, the server and ``lmlab --help`` never pay for it.  Every figure is written
atomically as PNG.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .._io import write_bytes_atomic


def _save(fig: Figure, path: str | os.PathLike) -> None:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    write_bytes_atomic(path, buf.getvalue())


def gradient_plot(curves: Sequence[dict], path: str | os.PathLike, positions: int) -> None:
    """One line per model: the median norm of dL_t/dh_{t-k} against k (log scale), the quartiles
    shaded; an LSTM's cell state dashed in the same colour.  Each curve: ``label``, ``distance``,
    ``median``, ``q1``, ``q3`` and optionally ``cell`` = (median, q1, q3) lists."""
    fig = Figure(figsize=(8, 5.2))
    ax = fig.add_subplot()
    for i, c in enumerate(curves):
        colour = f"C{i % 10}"
        ax.plot(c["distance"], c["median"], color=colour, lw=2, label=c["label"])
        ax.fill_between(c["distance"], c["q1"], c["q3"], color=colour, alpha=0.15, lw=0)
        if c.get("cell") is not None:
            med, q1, q3 = c["cell"]
            ax.plot(c["distance"], med, color=colour, lw=1.5, ls="--", label=f"{c.get('short', c['label'])}: cell state c")
    ax.set_yscale("log")
    ax.set_xlabel("distance k (tokens back from the predicted position t)")
    ax.set_ylabel(r"$\|\partial L_t / \partial h_{t-k}\|_2$  (median, quartiles shaded)")
    ax.set_title(f"Gradient flow back through time ({positions} positions per model)")
    ax.grid(True, which="major", alpha=0.4)
    ax.legend(fontsize=9, loc="best", framealpha=0.9)
    _save(fig, path)


def agreement_plot(records: Sequence[dict], path: str | os.PathLike) -> None:
    """Accuracy (P(correct verb) > P(wrong verb)) per bucket, one line per model, Wilson 95%
    intervals as error bars: by attractors (left) and by intervening words (right)."""
    fig = Figure(figsize=(11, 4.6))
    models = list(dict.fromkeys(r["model"] for r in records))
    for n, (kind, xlabel) in enumerate((("attractors", "attractors (intervening nouns of the other number)"),
                                        ("intervening", "intervening words between subject and verb"))):
        ax = fig.add_subplot(1, 2, n + 1)
        for i, m in enumerate(models):
            rows = [r for r in records if r["model"] == m and r["bucket_kind"] == kind and r["cases"]]
            x = list(range(len(rows)))
            acc = [r["accuracy"] for r in rows]
            err = [[a - r["ci_low"] for a, r in zip(acc, rows, strict=True)],
                   [r["ci_high"] - a for a, r in zip(acc, rows, strict=True)]]
            ax.errorbar([v + 0.06 * (i - (len(models) - 1) / 2) for v in x], acc, yerr=err, marker="o", capsize=3,
                        color=f"C{i % 10}", label=os.path.basename(os.path.normpath(m)) or m)
            if i == 0:  # the buckets and the first model's case counts
                ax.set_xticks(x, [f"{r['bucket']}\n(n={r['cases']})" for r in rows])
        ax.axhline(0.5, color="grey", ls=":", lw=1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("agreement accuracy (95% Wilson interval)")
        ax.grid(True, axis="y", alpha=0.4)
        if n == 0:
            ax.legend(fontsize=9, loc="lower left", framealpha=0.9)
    fig.suptitle("Subject-verb agreement: P(correct form) > P(wrong form) after the prefix")
    _save(fig, path)


GATE_MEANING = {"forget": "forget gate f: fraction of the cell state c kept",
                "input": "input gate i: fraction of the new candidate let in",
                "output": "output gate o: fraction of tanh(c) shown as h",
                "update": "update gate z: fraction of the state h kept",
                "reset": "reset gate r: fraction of h used for the candidate"}


def gate_heatmaps(tokens: Sequence[str], gates: dict, path: str | os.PathLike, title: str) -> None:
    """One heat map per gate (units down, tokens across, 0..1 on one colour scale) of one layer:
    ``gates`` maps a gate name to a (tokens, units) array."""
    names = list(gates)
    units = len(next(iter(gates.values()))[0])
    width = min(max(6.0, 0.55 * len(tokens) + 2.5), 22.0)
    height = 0.6 + len(names) * min(max(1.6, units * 0.06), 4.2)
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, g in zip(axes, names, strict=True):
        image = ax.imshow([list(col) for col in zip(*gates[g], strict=True)], aspect="auto", vmin=0.0, vmax=1.0,
                          cmap="viridis", interpolation="nearest")
        ax.set_title(GATE_MEANING.get(g, g), fontsize=10, loc="left")
        ax.set_ylabel("unit")
    axes[-1].set_xticks(range(len(tokens)), tokens, rotation=60, ha="right", fontsize=9)
    axes[-1].set_xlabel("word read")
    fig.colorbar(image, ax=list(axes), shrink=0.9, label="gate value (0 = closed, 1 = open)")
    fig.suptitle(title)
    _save(fig, path)


def context_plot(records: Sequence[dict], path: str | os.PathLike) -> None:
    """Perplexity against the context length k (log x), one line per model, its full-history
    perplexity dotted in the same colour; a model with a fixed window marks it with a triangle."""
    fig = Figure(figsize=(8, 5.2))
    ax = fig.add_subplot()
    models = list(dict.fromkeys(r["model"] for r in records))
    for i, m in enumerate(models):
        rows = sorted((r for r in records if r["model"] == m), key=lambda r: r["context"])
        colour = f"C{i % 10}"
        window = rows[0]["window"]
        label = os.path.basename(os.path.normpath(m)) or m
        label += f" (window {window})" if window is not None else " (recurrent)"
        ax.plot([r["context"] for r in rows], [r["perplexity"] for r in rows], marker="o", color=colour, lw=2,
                label=label)
        ax.axhline(rows[0]["full_perplexity"], color=colour, ls=":", lw=1.2)
        if window is not None and window >= 1:
            ax.plot([window], [rows[0]["full_perplexity"]], marker="v", ms=9, color=colour, ls="none")
    ax.set_xscale("log")
    ks = sorted({r["context"] for r in records})
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_xticks([], minor=True)
    ax.set_xlabel("context length k (tokens of history the model may read, <s> counted)")
    ax.set_ylabel("perplexity (dotted: full history; ▼: a fixed window)")
    ax.set_title("Perplexity with the history cut to k tokens")
    ax.grid(True, which="both", alpha=0.35)
    ax.legend(fontsize=9, loc="best", framealpha=0.9)
    _save(fig, path)


def recall_plot(curves: Sequence[dict], path: str | os.PathLike, title: str) -> None:
    """Recall accuracy against the distance k, one line per cell: each curve has ``label``,
    ``distance``, ``median`` and the ``low``/``high`` of its seeds (drawn as error bars); chance
    (1/8) dotted."""
    fig = Figure(figsize=(8, 5.2))
    ax = fig.add_subplot()
    for i, c in enumerate(curves):
        med = c["median"]
        err = [[m - lo for m, lo in zip(med, c["low"], strict=True)], [hi - m for m, hi in zip(med, c["high"], strict=True)]]
        ax.errorbar(c["distance"], med, yerr=err, marker="o", capsize=3, lw=2, color=f"C{i % 10}", label=c["label"])
    ax.axhline(1 / 8, color="grey", ls=":", lw=1.2, label="chance (1/8)")
    ax.set_ylim(0, 1.03)
    ax.set_xlabel("distance k (blanks between the symbol and the query)")
    ax.set_ylabel("test accuracy (median over seeds; bars: min-max)")
    ax.set_title(title)
    ax.grid(True, alpha=0.35)
    ax.legend(fontsize=9, loc="best", framealpha=0.9)
    _save(fig, path)


def _run_label(trace, extra: str = "") -> str:
    said = ", ".join(x for x in (trace.model, extra) if x)
    return f"{trace.name} ({said})" if said else trace.name


def clipping_plot(traces: Sequence, path: str | os.PathLike) -> None:
    """Per run (a :class:`~lmlab.diagnostics.traces.Trace`): the gradient norm before clipping at
    every step (log scale, top) with the run's threshold dashed in the same colour, and the training
    loss (bottom); a run that diverged ends in a cross at its last finite step, labelled."""
    fig = Figure(figsize=(9, 6.4), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    for i, t in enumerate(traces):
        colour = f"C{i % 10}"
        steps = [r["step"] for r in t.steps]
        label = _run_label(t, t.clip_label)
        if t.diverged:
            label += f": diverged at step {t.diverged['step']}"
        top.plot(steps, [r["grad_norm"] for r in t.steps], color=colour, lw=1.2, label=label)
        bottom.plot(steps, [r["loss"] for r in t.steps], color=colour, lw=1.2)
        if t.clip:
            top.axhline(t.clip, color=colour, ls="--", lw=1.2)
            top.annotate(f"clip {t.clip:g}", (1.0, t.clip), xycoords=("axes fraction", "data"), xytext=(-4, 3),
                         textcoords="offset points", ha="right", va="bottom", color=colour, fontsize=8)
        if t.diverged and t.steps:
            last = t.steps[-1]
            for ax, y in ((top, last["grad_norm"]), (bottom, last["loss"])):
                ax.plot([last["step"]], [y], marker="X", ms=11, color=colour, ls="none")
            top.annotate(f"step {t.diverged['step']}: {t.diverged['diverged']} = {t.diverged.get('value')}",
                         (last["step"], last["grad_norm"]), xytext=(6, 0), textcoords="offset points",
                         color=colour, fontsize=9, va="center")
    top.set_yscale("log")
    top.set_ylabel("gradient norm before clipping\n(global L2 norm, log scale)")
    top.set_title("Exploding gradients: the gradient norm of every training step (dashed: the clipping threshold)")
    top.grid(True, which="major", alpha=0.4)
    top.legend(fontsize=9, loc="best", framealpha=0.9)
    losses = [r["loss"] for t in traces for r in t.steps]
    wide = bool(losses) and min(losses) > 0 and max(losses) / min(losses) > 20  # a run that blew up
    if wide:
        bottom.set_yscale("log")
    bottom.set_ylabel("training loss\n(nats per item" + (", log scale)" if wide else ")"))
    bottom.set_xlabel("training step (optimizer updates)")
    bottom.grid(True, which="major", alpha=0.4)
    _save(fig, path)


def curves_plot(traces: Sequence, records: Sequence[dict], path: str | os.PathLike, smooth: int) -> None:
    """Training loss against the step, one line per run (its trailing mean over ``smooth`` steps;
    the raw per-step loss faint behind it); the dev metric per epoch on the right when the runs have one."""
    from .traces import dev_metric

    devs = [dev_metric(t) for t in traces]
    has_dev = any(d is not None for d in devs)
    fig = Figure(figsize=(12.5 if has_dev else 8.5, 5.2), layout="constrained")
    axes = fig.subplots(1, 2 if has_dev else 1, squeeze=False, width_ratios=(3, 2) if has_dev else None)[0]
    ax = axes[0]
    for i, t in enumerate(traces):
        colour = f"C{i % 10}"
        rows = [r for r in records if r["model"] == t.run]
        steps = [r["step"] for r in rows]
        ax.plot(steps, [r["loss"] for r in rows], color=colour, lw=0.6, alpha=0.25)
        ax.plot(steps, [r["loss_smoothed"] for r in rows], color=colour, lw=2,
                label=_run_label(t) + (f": diverged at step {t.diverged['step']}" if t.diverged else ""))
    smooth_values = [r["loss_smoothed"] for r in records]
    if smooth_values and min(smooth_values) > 0 and max(smooth_values) / min(smooth_values) > 20:
        ax.set_yscale("log")  # a run that blew up would flatten the others
    ax.set_xlabel("training step (optimizer updates)")
    ax.set_ylabel(f"training loss (nats per item; mean of the last {smooth} steps)")
    ax.set_title("Training loss, same budget and seed (faint: every step)")
    ax.grid(True, alpha=0.35)
    ax.legend(fontsize=9, loc="best", framealpha=0.9)
    if has_dev:
        dv = axes[1]
        names = sorted({d[0] for d in devs if d is not None})
        metric = " / ".join(n.removeprefix("valid_") for n in names) + " on the dev data"
        if all(d is None or len(d[1]) == 1 for d in devs):  # one epoch each: a bar per run, its value written
            shown = [(i, t, d[1][0]) for i, (t, d) in enumerate(zip(traces, devs, strict=True)) if d is not None]
            bars = dv.barh([t.name for _, t, _ in shown], [v for _, _, (_, v) in shown],
                           color=[f"C{i % 10}" for i, _, _ in shown])
            dv.bar_label(bars, [f"{v:,.1f} (step {s})" if abs(v) >= 100 else f"{v:.4g} (step {s})"
                                 for _, _, (s, v) in shown], padding=3, fontsize=9)
            dv.invert_yaxis()
            dv.set_xlabel(metric + " after the run")
            dv.margins(x=0.3)
            dv.set_title("Dev metric at the end")
            dv.grid(True, axis="x", alpha=0.35)
        else:
            for i, (t, d) in enumerate(zip(traces, devs, strict=True)):
                if d is not None:
                    dv.plot([s for s, _ in d[1]], [v for _, v in d[1]], marker="o", color=f"C{i % 10}", lw=2,
                            label=t.name)
            dv.set_xlabel("training step at the end of the epoch")
            dv.set_ylabel(metric + " (each epoch)")
            if names == ["valid_ppl"]:
                dv.set_yscale("log")
            dv.set_title("Dev metric per epoch")
            dv.grid(True, which="both", alpha=0.35)
            dv.legend(fontsize=9, loc="best", framealpha=0.9)
    _save(fig, path)
