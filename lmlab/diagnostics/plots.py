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
