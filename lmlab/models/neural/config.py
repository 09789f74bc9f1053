"""Frozen configuration dataclasses of the neural models, validated with every error at once.

A model is data: its config (``config.json``), its vocabulary (``vocab.json``) and its weights
(``model.safetensors``).  :func:`config_from_dict` names every unknown field and every invalid
value in one :class:`ConfigError`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..._json import dataclass_kinds, field_problems
from ...errors import ConfigError

CELLS = ("rnn_tanh", "rnn_relu", "rnn_sigmoid", "lstm", "gru", "gru_cho")
INITS = ("default", "orthogonal", "identity")  # a language model's
ENCODER_INITS = (*INITS, "chrono")  # the sequence models' encoders (lmlab.models.neural.cells.init_recurrent)


@dataclass(frozen=True)
class RNNLMConfig:
    """A recurrent LM: embedding -> ``nlayers`` recurrent layers -> softmax over the vocabulary.

    ``cell``: ``rnn_tanh``/``rnn_relu`` (Elman), ``rnn_sigmoid`` (the lecture notes' first form),
    ``lstm``, ``gru`` (PyTorch's), ``gru_cho`` (Cho et al. 2014: the reset gate applied before
    the matrix product).  ``init``: PyTorch's default, ``orthogonal`` recurrent weights, or
    ``identity`` recurrent weights with zero bias (Le et al. 2015, for ``rnn_relu``).
    """

    vocab_size: int
    kind: str = "rnnlm"
    cell: str = "lstm"
    emsize: int = 200
    nhid: int = 200
    nlayers: int = 2
    dropout: float = 0.2  # on the embedding output, between layers and on the top layer ...
    dropout_emb: float | None = None  # ... unless set apart for one place (AWD-LSTM's dropouti,
    dropout_between: float | None = None  # dropouth and dropout): None means ``dropout``
    dropout_out: float | None = None
    tied: bool = False
    init: str = "default"
    freeze_embeddings: bool = False
    adaptive_cutoffs: tuple[int, ...] = ()  # adaptive softmax (Grave et al. 2017) for big vocabularies

    def dropouts(self) -> tuple[float, float, float]:
        """The dropout rates (embedding, between layers, top layer) after the defaults apply."""
        pick = lambda v: self.dropout if v is None else v  # noqa: E731
        return pick(self.dropout_emb), pick(self.dropout_between), pick(self.dropout_out)

    def problems(self) -> list[str]:
        out = []
        cut = list(self.adaptive_cutoffs)
        if cut and (cut != sorted(set(cut)) or cut[0] < 1 or cut[-1] >= self.vocab_size):
            out.append(f"adaptive_cutoffs must increase strictly within (0, vocab_size), got {cut}")
        if cut and isinstance(self.nhid, int) and self.nhid // 4 ** len(cut) < 1:
            out.append(f"nhid {self.nhid} is too small for {len(cut)} adaptive tail clusters (needs >= {4 ** len(cut)})")
        if cut and self.tied:
            out.append("tied embeddings and the adaptive softmax cannot be combined")
        if self.cell not in CELLS:
            out.append(f"cell {self.cell!r} is not one of {', '.join(CELLS)}")
        if self.init not in INITS:
            out.append(f"init {self.init!r} is not one of {', '.join(INITS)}")
        for name in ("vocab_size", "emsize", "nhid", "nlayers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                out.append(f"{name} must be a positive integer, got {v!r}")
        for name in ("dropout", "dropout_emb", "dropout_between", "dropout_out"):
            v = getattr(self, name)
            if v is None and name != "dropout":
                continue
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < 1:
                out.append(f"{name} must be in [0, 1), got {v!r}")
        if self.tied and self.emsize != self.nhid:
            out.append(f"tied embeddings need emsize == nhid, got {self.emsize} and {self.nhid}")
        return out


@dataclass(frozen=True)
class WindowLMConfig:
    """Bengio et al. 2003: the previous ``context`` tokens' embeddings, concatenated -> tanh hidden
    layer -> softmax (optionally with direct connections from the embeddings to the output)."""

    vocab_size: int
    kind: str = "window"
    context: int = 4
    emsize: int = 100
    nhid: int = 200
    dropout: float = 0.2
    direct: bool = False

    def problems(self) -> list[str]:
        out = []
        for name in ("vocab_size", "context", "emsize", "nhid"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                out.append(f"{name} must be a positive integer, got {v!r}")
        if not isinstance(self.dropout, int | float) or not 0 <= self.dropout < 1:
            out.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        return out


KINDS = {"rnnlm": RNNLMConfig, "window": WindowLMConfig}
ModelConfig = RNNLMConfig | WindowLMConfig


def config_from_dict(data: dict) -> ModelConfig:
    """Build and validate a config; every unknown, missing or mistyped field and every invalid
    value is reported at once."""
    if not isinstance(data, dict):
        raise ConfigError(f"a model config must be a JSON object, got {type(data).__name__}")
    kind = data.get("kind", "rnnlm")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ConfigError(f"unknown model kind {kind!r}; known: {', '.join(KINDS)}")
    cls = KINDS[kind]
    fields = dataclasses.fields(cls)
    required = [f.name for f in fields
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    problems = field_problems(data, dataclass_kinds(cls), required)
    if problems:
        raise ConfigError([f"{p} for a {kind} model" if p.startswith("unknown") else p for p in problems])
    if "adaptive_cutoffs" in data:
        data = dict(data, adaptive_cutoffs=tuple(data["adaptive_cutoffs"]))
    cfg = cls(**data)
    problems = cfg.problems()
    if problems:
        raise ConfigError(problems)
    return cfg


def config_to_dict(cfg: ModelConfig) -> dict:
    return dataclasses.asdict(cfg)


__all__ = ["RNNLMConfig", "WindowLMConfig", "ModelConfig", "config_from_dict", "config_to_dict", "field"]
