"""A neural model on disk is a folder of data, never a pickle::

    config.json          the model config (kind, sizes, cell, ...)
    vocab.json           the vocabulary and its tokenizer
    model.safetensors    the weights
    optimizer.safetensors, trainer_state.json    for --resume (written by the trainer)

Every file is written atomically (temp file, fsync, rename), ``config.json``/``vocab.json`` before
the weights, so a crash or a full disk leaves the previous checkpoint readable.  Loading checks
the weights' names and shapes against the config and reports a truncated or tampered file, and
checks ``vocab.json`` against the vocabulary fingerprint saved in the weights' metadata (a
vocabulary edited by hand would otherwise give wrong scores without a word).  Every JSON file is
read through :func:`lmlab._json.read_json`: a malformed one is an error naming the file.
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
from ..._json import read_json
from ...errors import ConfigError, ModelFormatError, VocabMismatchError
from ...text.vocab import Vocab
from .build import build_model
from .config import ModelConfig, config_from_dict, config_to_dict
from .device import resolve_device

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
    return read_tensors(path)[0]


def read_tensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors of a safetensors file and its metadata (``{}`` when it has none)."""
    try:
        data = read_bytes(path)
    except Exception as exc:  # noqa: BLE001 - any read problem is a bad model file here
        raise ModelFormatError(f"{path}: cannot read ({exc})") from None
    try:
        tensors = st_load(data)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise ModelFormatError(f"{path}: not a valid safetensors file, truncated or tampered ({exc})") from None
    return tensors, _metadata(data[8 : 8 + int.from_bytes(data[:8], "little")], path)


def weights_metadata(path: Path) -> dict[str, str]:
    """The metadata of a safetensors file (its header only is read)."""
    try:
        with open(path, "rb") as fh:
            n = int.from_bytes(fh.read(8), "little")
            header = fh.read(n) if 2 <= n <= 100_000_000 else b""
    except OSError as exc:
        raise ModelFormatError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(header) != n or not header:
        raise ModelFormatError(f"{path}: not a valid safetensors file, truncated or tampered (bad header)")
    return _metadata(header, path)


def _metadata(header: bytes, path: Path) -> dict[str, str]:
    """``__metadata__`` of a safetensors header (the JSON after the 8 bytes of its length)."""
    try:
        meta = json.loads(header).get("__metadata__") or {}
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        meta = None
    if not isinstance(meta, dict):
        raise ModelFormatError(f"{path}: not a valid safetensors file, truncated or tampered (bad header)")
    return meta


def save_model(folder: str | os.PathLike, model: torch.nn.Module, config: ModelConfig, vocab: Vocab) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(folder / CONFIG, json.dumps(config_to_dict(config), indent=2, default=list).encode())
    write_bytes_atomic(folder / VOCAB, vocab.to_json().encode("utf-8"))
    save_tensors(folder / WEIGHTS, _state_for_disk(model, config), {"vocab_fingerprint": vocab.fingerprint})


def read_config(folder: Path) -> ModelConfig:
    path = Path(folder) / CONFIG
    data = read_json(path, "an lmlab model config", ConfigError)
    try:
        return config_from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def read_vocab(folder: Path, weights_meta: dict[str, str]) -> Vocab:
    """``vocab.json``, checked against the fingerprint the weights were saved with.

    A vocabulary edited by hand (two words swapped, a word renamed, the tokenizer changed) would
    give wrong scores without an error: its fingerprint no longer matches the one in
    ``model.safetensors``' metadata, whether or not ``vocab.json`` still carries its own.
    """
    path = Path(folder) / VOCAB
    data = read_json(path, "an lmlab vocabulary", ModelFormatError)
    vocab = Vocab.from_dict(data, str(path))  # checks vocab.json's own fingerprint, if it has one
    recorded = weights_meta.get("vocab_fingerprint")
    if recorded is None and "fingerprint" not in data:
        raise ModelFormatError(f"{path}: no vocabulary fingerprint here nor in {Path(folder) / WEIGHTS}'s "
                               "metadata, so the vocabulary cannot be checked against the weights")
    if recorded is not None and recorded != vocab.fingerprint:
        raise VocabMismatchError(
            f"{path}: vocabulary fingerprint {vocab.fingerprint} does not match {recorded}, the one "
            f"{Path(folder) / WEIGHTS} was trained with; vocab.json was edited or comes from another model"
        )
    return vocab


def load_model(folder: str | os.PathLike, device: str = "cpu") -> tuple[torch.nn.Module, ModelConfig, Vocab]:
    """Build the model from ``config.json`` and load its weights (any device -> ``device``)."""
    folder = Path(folder)
    if not is_checkpoint(folder):
        raise ModelFormatError(f"{folder}: not an lmlab model folder (no {CONFIG})")
    config = read_config(folder)
    state, meta = read_tensors(folder / WEIGHTS)
    vocab = read_vocab(folder, meta)
    if len(vocab) != config.vocab_size:
        raise VocabMismatchError(
            f"{folder / VOCAB}: {len(vocab)} tokens, but the model in {folder} was built for {config.vocab_size}"
        )
    model = build_model(config)
    expected = _state_for_disk(model, config)
    problems = [f"missing weight {k}" for k in expected if k not in state]
    problems += [f"unexpected weight {k}" for k in state if k not in expected]
    problems += [f"weight {k} has shape {tuple(state[k].shape)}, the config needs {tuple(v.shape)}"
                 for k, v in expected.items() if k in state and state[k].shape != v.shape]
    if problems:
        raise ModelFormatError(f"{folder / WEIGHTS}: " + "; ".join(problems[:5]))
    model.load_state_dict(state, strict=False)
    model.to(resolve_device(device))
    if hasattr(model, "rnn") and hasattr(model.rnn, "flatten_parameters"):
        model.rnn.flatten_parameters()
    return model.eval(), config, vocab
