"""A neural model on disk is a folder of data, never a pickle::

    config.json          the model config (kind, sizes, cell, ...)
    vocab.json           the vocabulary and its tokenizer
    model.safetensors    the weights
    optimizer.safetensors, trainer_state.json    for --resume (written by the trainer)

Every file is written atomically (temp file, fsync, rename), ``config.json``/``vocab.json`` before
the weights, so a crash or a full disk leaves the previous checkpoint readable.  Loading checks
the weights' names and shapes against the config and reports a truncated or tampered file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from ..._io import read_bytes, write_bytes_atomic
from ...errors import ConfigError, ModelFormatError, VocabMismatchError
from ...text.vocab import Vocab
from .build import build_model
from .config import ModelConfig, config_from_dict, config_to_dict

CONFIG, VOCAB, WEIGHTS = "config.json", "vocab.json", "model.safetensors"


def is_checkpoint(path: str | os.PathLike) -> bool:
    return (Path(path) / CONFIG).is_file()


def _state_for_disk(model: torch.nn.Module, config: ModelConfig) -> dict[str, torch.Tensor]:
    state = model.state_dict()
    if getattr(config, "tied", False):
        state.pop("decoder.weight", None)  # the same tensor as encoder.weight
    return {k: v.detach().to("cpu").contiguous() for k, v in state.items()}


def save_tensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict | None = None) -> None:
    write_bytes_atomic(path, st_save(tensors, metadata=metadata))


def load_tensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        data = read_bytes(path)
    except Exception as exc:  # noqa: BLE001 - any read problem is a bad model file here
        raise ModelFormatError(f"{path}: cannot read ({exc})") from None
    try:
        return st_load(data)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise ModelFormatError(f"{path}: not a valid safetensors file, truncated or tampered ({exc})") from None


def save_model(folder: str | os.PathLike, model: torch.nn.Module, config: ModelConfig, vocab: Vocab) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(folder / CONFIG, json.dumps(config_to_dict(config), indent=2, default=list).encode())
    write_bytes_atomic(folder / VOCAB, vocab.to_json().encode("utf-8"))
    save_tensors(folder / WEIGHTS, _state_for_disk(model, config), {"vocab_fingerprint": vocab.fingerprint})


def read_config(folder: Path) -> ModelConfig:
    try:
        data = json.loads(read_bytes(folder / CONFIG).decode("utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{folder / CONFIG}: not valid JSON ({exc})") from None
    return config_from_dict(data)


def load_model(folder: str | os.PathLike, device: str = "cpu") -> tuple[torch.nn.Module, ModelConfig, Vocab]:
    """Build the model from ``config.json`` and load its weights (any device -> ``device``)."""
    folder = Path(folder)
    if not is_checkpoint(folder):
        raise ModelFormatError(f"{folder}: not an lmlab model folder (no {CONFIG})")
    config = read_config(folder)
    vocab = Vocab.from_json(read_bytes(folder / VOCAB).decode("utf-8"))
    if len(vocab) != config.vocab_size:
        raise VocabMismatchError(
            f"{folder}: vocab.json has {len(vocab)} tokens but the model was built for {config.vocab_size}"
        )
    state = load_tensors(folder / WEIGHTS)
    model = build_model(config)
    expected = _state_for_disk(model, config)
    problems = [f"missing weight {k}" for k in expected if k not in state]
    problems += [f"unexpected weight {k}" for k in state if k not in expected]
    problems += [f"weight {k} has shape {tuple(state[k].shape)}, the config needs {tuple(v.shape)}"
                 for k, v in expected.items() if k in state and state[k].shape != v.shape]
    if problems:
        raise ModelFormatError(f"{folder / WEIGHTS}: " + "; ".join(problems[:5]))
    model.load_state_dict(state, strict=False)
    model.to(device)
    if hasattr(model, "rnn") and hasattr(model.rnn, "flatten_parameters"):
        model.rnn.flatten_parameters()
    return model.eval(), config, vocab
