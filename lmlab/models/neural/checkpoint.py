"""A neural model on disk is a folder of data, never a pickle::

    config.json          the model config; its ``kind`` says what the model is (lm, tag, ...)
    vocab.json           the token vocabulary (``tokens``) and its tokenizer
    vocab.NAME.json      any other named vocabulary (``source``, ``target``, ``chars``)
    labels.NAME.json     each named label set (``tags``, ``labels``)
    model.safetensors    the weights; its metadata holds every vocabulary's fingerprint
    last.safetensors, optimizer.safetensors, trainer_state.json, log.jsonl, steps.jsonl
                         for --resume and the run's record (written by the trainer)

Every file is written atomically (temp file, fsync, rename), the JSON files before the weights,
so a crash or a full disk leaves the previous checkpoint readable.  Loading dispatches on
``kind`` (:mod:`lmlab.models.neural.kinds`; an old LM checkpoint's ``kind`` is ``rnnlm``,
``window`` or absent: kind ``lm``), refuses a checkpoint of another kind than the caller wants
with both kinds named, checks the weights' names and shapes against the model the config builds
and reports a truncated or tampered file, and checks every vocabulary file against the
fingerprint saved in the weights' metadata (``vocab_fingerprint`` for ``vocab.json``, as lmlab
always wrote it; ``vocab_fingerprint.NAME`` / ``labels_fingerprint.NAME`` for the others): a
vocabulary edited by hand would otherwise give wrong results without a word.  Every JSON file is
read through :func:`lmlab._json.read_json`: a malformed one is an error naming the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from ..._io import read_bytes, write_bytes_atomic
from ..._json import read_json
from ...errors import ConfigError, ModelFormatError, VocabMismatchError
from ...text.labels import LabelSet
from ...text.vocab import Vocab
from .config import ModelConfig, config_from_dict, config_to_dict
from .device import resolve_device
from .kinds import check_kind, kind_of_config, spec_for_config
from .task import TaskModel

CONFIG, VOCAB, WEIGHTS = "config.json", "vocab.json", "model.safetensors"


def is_checkpoint(path: str | os.PathLike) -> bool:
    return (Path(path) / CONFIG).is_file()


def state_for_disk(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The weights to save: the state dict on the CPU, a tensor shared by two names (tied
    embeddings) saved once, under its first name."""
    out, seen = {}, set()
    for k, v in model.state_dict().items():
        key = (v.data_ptr(), v.dtype, tuple(v.shape), v.stride()) if v.numel() else None
        if key is not None and key in seen:
            continue
        seen.add(key)
        out[k] = v.detach().to("cpu").contiguous()
    return out


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


def vocab_file(name: str, vocab: Vocab | LabelSet) -> str:
    """The file a named vocabulary is saved in (``tokens`` is ``vocab.json``, as it always was)."""
    if isinstance(vocab, LabelSet):
        return f"labels.{name}.json"
    return VOCAB if name == "tokens" else f"vocab.{name}.json"


def _fingerprint_key(file: str) -> str:
    if file == VOCAB:
        return "vocab_fingerprint"
    what, name, _ = file.split(".", 2)
    return f"{'labels' if what == 'labels' else 'vocab'}_fingerprint.{name}"


def _check_name(name: str) -> None:
    if not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ConfigError(f"a vocabulary name must be letters, digits, '_' or '-', got {name!r}")


def save_checkpoint(folder: str | os.PathLike, model: torch.nn.Module, vocabs: Mapping[str, Vocab | LabelSet],
                    config: dict | None = None) -> None:
    """Write a model folder: ``config.json`` (``config``, default ``model.config_dict()``, with the
    model's ``kind`` added if it has none), one file per named vocabulary, then the weights with
    every vocabulary's fingerprint in their metadata; a named vocabulary file of an earlier model in
    the folder (``--overwrite``: a tagger's ``vocab.chars.json`` under a classifier) is removed, since
    loading reads every one there is."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = dict(model.config_dict() if config is None else config)
    if "kind" not in config:
        config = {"kind": model.kind, **config}
    write_bytes_atomic(folder / CONFIG, json.dumps(config, indent=2, default=list).encode())
    for name, vocab in vocabs.items():
        _check_name(name)
        write_bytes_atomic(folder / vocab_file(name, vocab), vocab.to_json().encode("utf-8"))
    save_tensors(folder / WEIGHTS, state_for_disk(model), fingerprints(vocabs))
    kept = {vocab_file(name, vocab) for name, vocab in vocabs.items()}
    for stale in set(_vocabulary_files(folder)) - kept:
        (folder / stale).unlink(missing_ok=True)


def fingerprints(vocabs: Mapping[str, Vocab | LabelSet]) -> dict[str, str]:
    """The weights' metadata: each named vocabulary's fingerprint, under its file's key."""
    return dict(sorted((_fingerprint_key(vocab_file(n, v)), v.fingerprint) for n, v in vocabs.items()))


def save_model(folder: str | os.PathLike, model: torch.nn.Module, config: ModelConfig, vocab: Vocab) -> None:
    """An LM's folder (the files lmlab has always written for one)."""
    save_checkpoint(folder, model, {"tokens": vocab}, config_to_dict(config))


def read_config_dict(folder: Path) -> dict:
    """``config.json`` as a JSON object (errors name the file)."""
    return read_json(Path(folder) / CONFIG, "an lmlab model config", ConfigError)


def read_config(folder: Path) -> ModelConfig:
    """An LM's config (:class:`KindMismatchError` for a checkpoint of another kind)."""
    path = Path(folder) / CONFIG
    data = read_config_dict(folder)
    check_kind(kind_of_config(data), "lm", str(folder))
    spec_for_config(data, str(path))
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
    return _read_vocab_file(Path(folder), VOCAB, weights_meta)


def _read_vocab_file(folder: Path, file: str, weights_meta: dict[str, str]) -> Vocab | LabelSet:
    path = folder / file
    data = read_json(path, "an lmlab vocabulary" if file.startswith("vocab") else "an lmlab label set",
                     ModelFormatError)
    if file.startswith("labels."):
        try:
            vocab = LabelSet.from_dict(data)
        except (ConfigError, VocabMismatchError) as exc:
            raise type(exc)(f"{path}: {exc}") from None
    else:
        vocab = Vocab.from_dict(data, str(path))  # checks the file's own fingerprint, if it has one
    key = _fingerprint_key(file)
    recorded = weights_meta.get(key)
    if recorded is None and "fingerprint" not in data:
        raise ModelFormatError(f"{path}: no {'vocabulary' if isinstance(vocab, Vocab) else 'label set'} fingerprint here nor in {folder / WEIGHTS}'s "
                               "metadata, so the vocabulary cannot be checked against the weights")
    if recorded is not None and recorded != vocab.fingerprint:
        raise VocabMismatchError(
            f"{path}: {'label set' if isinstance(vocab, LabelSet) else 'vocabulary'} fingerprint "
            f"{vocab.fingerprint} does not match {recorded}, the one {folder / WEIGHTS} was trained with; "
            f"{file} was edited or comes from another model"
        )
    return vocab


def _vocabulary_files(folder: Path) -> list[str]:
    """The names of the named-vocabulary files in a model folder (``vocab.json``, ``vocab.NAME.json``,
    ``labels.NAME.json``), sorted."""
    return sorted(p.name for p in folder.iterdir() if p.name == VOCAB or
                  (p.suffix == ".json" and p.name.count(".") == 2 and p.name.split(".")[0] in ("vocab", "labels")))


def read_vocabularies(folder: str | os.PathLike, weights_meta: dict[str, str]) -> dict[str, Vocab | LabelSet]:
    """Every named vocabulary of a model folder, each checked against the weights' metadata; a
    vocabulary the metadata names whose file is missing is an error."""
    folder = Path(folder)
    files = _vocabulary_files(folder)
    out: dict[str, Vocab | LabelSet] = {}
    for file in sorted(files, key=lambda f: f != VOCAB):  # tokens first
        name = "tokens" if file == VOCAB else file.split(".")[1]
        out[name] = _read_vocab_file(folder, file, weights_meta)
    held = {_fingerprint_key(f) for f in files}
    missing = [k for k in weights_meta if k.split(".")[0] in ("vocab_fingerprint", "labels_fingerprint")
               and k not in held]
    if missing:
        names = [VOCAB if k == "vocab_fingerprint" else f"{k.split('_')[0]}.{k.split('.', 1)[1]}.json"
                 for k in missing]
        raise ModelFormatError(f"{folder}: missing {', '.join(names)}, which {folder / WEIGHTS} was trained with")
    return out


def load_checkpoint(folder: str | os.PathLike, device: str = "cpu", kind: str | None = None,
                    use: str = "") -> tuple[TaskModel, dict[str, Vocab | LabelSet], dict]:
    """(model in eval mode, named vocabularies, config.json) of a model folder of any kind.

    ``kind``: the kind the caller needs; a checkpoint of another kind is a
    :class:`~lmlab.errors.KindMismatchError` naming both (``use`` says what would fit)."""
    folder = Path(folder)
    if not is_checkpoint(folder):
        raise ModelFormatError(f"{folder}: not an lmlab model folder (no {CONFIG})")
    path = folder / CONFIG
    config = read_config_dict(folder)
    check_kind(kind_of_config(config), kind, str(folder), use)  # before anything else: name both kinds
    spec = spec_for_config(config, str(path))
    cls = spec.model_class()
    if spec.kind == "lm":  # the LM config is validated before anything else is read, as always
        try:
            config_from_dict(config)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    state, meta = read_tensors(folder / WEIGHTS)
    vocabs = read_vocabularies(folder, meta)
    try:
        model = cls.from_config(config, vocabs)
    except VocabMismatchError as exc:
        raise VocabMismatchError(f"{folder}: {exc}") from None
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    expected = state_for_disk(model)
    problems = [f"missing weight {k}" for k in expected if k not in state]
    problems += [f"unexpected weight {k}" for k in state if k not in expected]
    problems += [f"weight {k} has shape {tuple(state[k].shape)}, the config needs {tuple(v.shape)}"
                 for k, v in expected.items() if k in state and state[k].shape != v.shape]
    if problems:
        raise ModelFormatError(f"{folder / WEIGHTS}: " + "; ".join(problems[:5]))
    model.load_state_dict(state, strict=False)
    model.to(resolve_device(device))
    for m in model.modules():
        if hasattr(m, "flatten_parameters"):
            m.flatten_parameters()
    return model.eval(), vocabs, config


def load_model(folder: str | os.PathLike, device: str = "cpu") -> tuple[torch.nn.Module, ModelConfig, Vocab]:
    """An LM: build the model from ``config.json`` and load its weights (any device -> ``device``)."""
    model, vocabs, _ = load_checkpoint(folder, device, kind="lm",
                                       use="lmlab's LM commands (perplexity, score, ...; generate also takes a conditional LM) need kind lm")
    if "tokens" not in vocabs:
        raise ModelFormatError(f"{Path(folder) / VOCAB}: missing; an LM needs its vocabulary")
    return model, model.config, vocabs["tokens"]
