"""What a run's folder holds, and reading it back: the best model (``model.safetensors`` +
``config.json`` + vocabularies), the last epoch's weights, the optimizer's state, the trainer's
state, the per-epoch log and the per-step trace.  Each file is written atomically, the trainer
state last, so a folder with a ``trainer_state.json`` always holds a whole checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .._io import write_bytes_atomic
from .._json import BOOL, INT, NUMBER, OBJECT, check_fields, dataclass_kinds, list_of, optional, read_json
from ..errors import ConfigError, ModelFormatError
from ..models.neural.checkpoint import CONFIG, WEIGHTS, fingerprints, load_tensors, save_checkpoint, save_tensors, \
    state_for_disk
from .config import TrainConfig

LAST, OPTIM, STATE, LOG, STEPS = ("last.safetensors", "optimizer.safetensors", "trainer_state.json", "log.jsonl",
                                  "steps.jsonl")


def check_save_dir(folder: Path, overwrite: bool = False) -> None:
    """Refuse a ``save_dir`` that is a file (or under one), or that holds a model, unless ``overwrite``."""
    for p in (folder, *folder.parents):
        if p.exists():
            if not p.is_dir():
                what = "is a file" if p == folder else f"is under {p}, a file"
                raise ConfigError(f"{folder}: {what}, not a folder; a model is saved as a folder of files")
            break
    held = [n for n in (CONFIG, WEIGHTS, STATE) if (folder / n).exists()]
    if held and not overwrite:
        raise ConfigError(f"{folder}: already holds a model ({', '.join(held)}); continue it with --resume "
                          "(Trainer.resume) or replace it with --overwrite (overwrite=True)")


def _outermost_missing(folder: Path) -> Path | None:
    """The outermost folder on ``folder``'s path that does not exist yet (None if ``folder`` exists)."""
    missing = None
    for p in (folder, *folder.parents):
        if p.exists():
            break
        missing = p
    return missing



_STATE_FIELDS = {"epoch": INT, "lr": NUMBER, "best": NUMBER, "bad_epochs": INT, "step": INT, "threads": INT,
                 "train_config": OBJECT, "history": list_of(OBJECT), "source": optional(OBJECT),
                 "task": OBJECT, "world_size": INT, "stopped_early": BOOL}


def read_state(path: Path) -> dict:
    """``trainer_state.json``, every field checked (a one-line error naming the file otherwise)."""
    meta = read_json(path, "an lmlab trainer state", ModelFormatError)
    check_fields(meta, _STATE_FIELDS, where=str(path), error=ModelFormatError,
                 required=[k for k in _STATE_FIELDS if k not in ("source", "task", "world_size", "stopped_early")])
    check_fields(meta["train_config"], dataclass_kinds(TrainConfig), where=f"{path}: train_config",
                 error=ModelFormatError)
    return meta


def read_steps(path: Path, up_to: int) -> list[dict]:
    """The per-step records of ``steps.jsonl`` up to step ``up_to`` (none if the file is absent)."""
    if not path.is_file():
        return []
    out = []
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            rec = json.loads(line)
            keep = rec["step"] <= up_to
        except (json.JSONDecodeError, TypeError, KeyError):
            raise ModelFormatError(f"{path}: line {no}: expected a JSON object with a step number") from None
        if keep:
            out.append(rec)
    return out


def write_run(folder: Path, model, vocabs, optimizer, meta: dict, steps: list[dict], history: list[dict], *,
              with_model: bool) -> None:
    """One epoch's checkpoint into ``folder``: the model files when ``with_model`` (the best epoch,
    or the run's first checkpoint), then the last weights, the optimizer, the step trace, the
    trainer state ``meta`` and the log."""
    if with_model:
        save_checkpoint(folder, model, vocabs)
    save_tensors(folder / LAST, state_for_disk(model), fingerprints(vocabs))
    opt = {}
    for pid, st in optimizer.state_dict()["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                opt[f"{pid}.{k}"] = v.detach().cpu().contiguous()
    save_tensors(folder / OPTIM, opt or {"empty": torch.zeros(1)})
    write_bytes_atomic(folder / STEPS, "".join(json.dumps(r) + "\n" for r in steps).encode())
    write_bytes_atomic(folder / STATE, json.dumps(meta, indent=2).encode())
    write_bytes_atomic(folder / LOG, "".join(json.dumps(h) + "\n" for h in history).encode())


def load_run_weights(folder: Path, model, optimizer) -> None:
    """The last epoch's weights and the optimizer's state from ``folder`` into ``model`` and ``optimizer``."""
    model.load_state_dict(load_tensors(folder / LAST), strict=False)
    opt_state = optimizer.state_dict()
    for key, v in load_tensors(folder / OPTIM).items():
        if key == "empty":
            continue
        pid, name = key.split(".", 1)
        opt_state["state"].setdefault(int(pid), {})[name] = v
    optimizer.load_state_dict(opt_state)
