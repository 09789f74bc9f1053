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
