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
