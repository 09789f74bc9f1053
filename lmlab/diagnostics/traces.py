"""What a training run recorded, read back from its model folder: ``steps.jsonl`` (every optimizer
step: the loss, the item count, the global gradient norm before clipping, the learning rate; a run
stopped by the trainer's NaN guard ends with a record of the step that diverged) and ``log.jsonl``
(every epoch; the same rows as ``trainer_state.json``'s history, read from there), for ``lmlab diagnose clipping`` (gradient-norm traces with and without clipping)
and ``lmlab diagnose curves`` (training-loss curves of runs side by side).

No training happens here: the folders are those ``lmlab train`` (or :class:`~lmlab.train.loop.Trainer`)
wrote, finished, interrupted or diverged.
"""

from __future__ import annotations

import math
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from .._json import read_json
from ..errors import ConfigError, ModelFormatError


@dataclass
class Trace:
    """One run's steps (finite ones), the step that diverged (or None), the clipping threshold
    (0: off; None: not recorded), what the model is, and the per-epoch rows of ``log.jsonl``."""

    run: str
    steps: list[dict]
    diverged: dict | None = None
    clip: float | None = None
    model: str = ""  # e.g. "rnn_relu 1x200, init identity" (from config.json when the folder has one)
    epochs: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        return Path(self.run).name or self.run

    @property
    def clip_label(self) -> str:
        return "clip unknown" if self.clip is None else "no clipping" if self.clip == 0 else f"clip {self.clip:g}"


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def read_trace(folder: str | os.PathLike) -> Trace:
    """The trace of the run in ``folder``; one line naming the folder or file otherwise."""
    from ..train.run_folder import STATE, STEPS, read_steps

    d = Path(folder)
    if not d.is_dir():
        raise ConfigError(f"{d}: {'no such folder' if not d.exists() else 'not a folder'}: give the folder of a "
                          "run trained by lmlab train")
    path = d / STEPS
    if not path.is_file():
        raise ConfigError(f"{d}: no {STEPS} (the trainer records every step of a run there): give the folder of a "
                          "run trained by lmlab train")
    records = read_steps(path, math.inf)
    steps, diverged = [], None
    for no, r in enumerate(records, start=1):
        if not isinstance(r.get("step"), int) or isinstance(r.get("step"), bool):
            raise ModelFormatError(f"{path}: line {no}: the step number must be an integer")
        if "diverged" in r:
            if no != len(records):
                raise ModelFormatError(f"{path}: line {no}: a diverged step must be the last record")
            diverged = r
            continue
        for key in ("grad_norm", "loss"):
            if not _number(r.get(key)):
                raise ModelFormatError(f"{path}: line {no}: {key} must be a finite number, got {r.get(key)!r}")
        if steps and r["step"] <= steps[-1]["step"]:
            raise ModelFormatError(f"{path}: line {no}: step {r['step']} does not follow step {steps[-1]['step']}")
        steps.append(r)
    if not steps and diverged is None:
        raise ConfigError(f"{path}: no steps recorded")
    clip = diverged.get("clip") if diverged is not None else None
    epochs = []
    if (d / STATE).is_file():  # its history is log.jsonl's rows, read through the checked JSON reader
        state = read_json(d / STATE, "an lmlab trainer state", ModelFormatError)
        clip = state.get("train_config", {}).get("clip", clip)
        epochs = [h for h in state.get("history", []) if isinstance(h, dict)]
    return Trace(str(folder), steps, diverged, clip, _describe(d), epochs)


def _describe(d: Path) -> str:
    """``cell NLxNH, init I`` from the run's config.json ("" when it has none: diverged before a checkpoint)."""
    from ..models.neural.checkpoint import CONFIG

    if not (d / CONFIG).is_file():
        return ""
    c = read_json(d / CONFIG, "a model config", ModelFormatError)
    cell = c.get("cell") or c.get("rnn_type") or c.get("model") or c.get("kind", "")
    size = f" {c['nlayers']}x{c['nhid']}" if "nlayers" in c and "nhid" in c else ""
    init = f", init {c['init']}" if c.get("init") not in (None, "default") else ""
    return f"{cell}{size}{init}"


def clipping_records(trace: Trace) -> list[dict]:
    """One record per step: the gradient norm before clipping, the threshold, whether the step was
    clipped (norm above it), the loss; the diverged step last, with what diverged."""
    out = [{"model": trace.run, "step": r["step"], "epoch": r.get("epoch"), "grad_norm": r["grad_norm"],
            "clip": trace.clip, "clipped": bool(trace.clip) and r["grad_norm"] > trace.clip, "loss": r["loss"],
            "diverged": None} for r in trace.steps]
    if trace.diverged is not None:
        r = trace.diverged
        out.append({"model": trace.run, "step": r["step"], "epoch": r.get("epoch"), "grad_norm": None,
                    "clip": trace.clip, "clipped": None, "loss": r.get("loss") if _number(r.get("loss")) else None,
                    "diverged": f"{r['diverged']} became {r.get('value')}"})
    return out


def clipping_summary(trace: Trace) -> dict:
    """One run's row of the clipping tables: its finite steps, the median and largest gradient norm
    before clipping, the share of steps clipped (None without clipping) and how the run ended."""
    norms = sorted(r["grad_norm"] for r in trace.steps)
    d = trace.diverged
    return {"steps": len(norms), "median_norm": statistics.median(norms) if norms else None,
            "max_norm": norms[-1] if norms else None,
            "clipped": sum(n > trace.clip for n in norms) / len(norms) if trace.clip and norms else None,
            "outcome": (f"diverged at step {d['step']} ({d['diverged']} became {d.get('value')})" if d else
                        f"trained {len(norms)} steps, last loss {trace.steps[-1]['loss']:.4g}")}


def smoothed(values: list[float], window: int) -> list[float]:
    """The trailing mean of each value and the ``window - 1`` before it (fewer at the start)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def curve_records(trace: Trace, window: int) -> list[dict]:
    """One record per step: the training loss and its trailing mean over ``window`` steps."""
    losses = [r["loss"] for r in trace.steps]
    return [{"model": trace.run, "step": r["step"], "epoch": r.get("epoch"), "loss": r["loss"], "loss_smoothed": s}
            for r, s in zip(trace.steps, smoothed(losses, window), strict=True)]


def dev_metric(trace: Trace) -> tuple[str, list[tuple[int, float]]] | None:
    """The dev metric's name (``valid_ppl``, ``valid_accuracy``, ...) and (last step of the epoch,
    value) for each epoch of ``log.jsonl``; None without one."""
    keys = [k for k in (trace.epochs[0] if trace.epochs else {}) if k.startswith("valid_") and k != "valid_mode"
            and k != "valid_columns"]
    if not keys:
        return None
    ends: dict[int, int] = {}
    for r in trace.steps:
        ends[r.get("epoch")] = r["step"]
    points = [(ends[e["epoch"]], e[keys[0]]) for e in trace.epochs
              if e.get("epoch") in ends and _number(e.get(keys[0]))]
    return (keys[0], points) if points else None
