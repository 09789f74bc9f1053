"""Gate activity of LSTMs and GRUs: what fraction each unit keeps or forgets at each word.

The gates come from :func:`lmlab.models.neural.cells.gated_step`, the one place that writes the
gated cells' equations with their gates exposed (the fused cells the model runs hide them; the
tests check that the state this trace computes is the model's own, step by step).  Every layer is
traced; a sentence is read from ``<s>`` with a fresh state, as ``lmlab perplexity`` scores it.

* :func:`sentence_gates`: every gate of every unit at every token of one sentence (heat maps).
* :func:`corpus_gate_stats`: per gate and layer, the mean, standard deviation and the fractions
  of values below 0.1 (closed: forgets / lets nothing in) and above 0.9 (open) over a corpus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ConfigError
from ..models.neural.cells import GATE_NAMES, gated_step
from ..models.neural.rnn import RNNLM
from ..text.specials import BOS_ID

LOW, HIGH = 0.1, 0.9  # a gate value below LOW counts as closed, above HIGH as open


def check_gated(model, name: str = "the model") -> RNNLM:
    """``model`` if it is a recurrent LM with gates; one line naming ``name`` otherwise."""
    if not isinstance(model, RNNLM):
        raise ConfigError(f"{name}: {type(model).__name__} has no recurrent cell: gate activity is for LSTM and "
                          "GRU language models")
    if model.cell not in GATE_NAMES:
        raise ConfigError(f"{name}: a {model.cell} cell has no gates: gate activity is for "
                          f"{', '.join(GATE_NAMES)} language models")
    return model


@torch.no_grad()
def trace_gates(model: RNNLM, tokens: torch.Tensor, hidden: tuple[torch.Tensor, ...]):
    """tokens (T, B) from ``hidden`` -> (gates: name -> (L, T, B, H) tensor, states: list over t of
    the hidden tuple after token t), in eval mode, each layer's weights as the model stores them."""
    check_gated(model)
    x_all = model.encoder(tokens)
    params = [tuple(getattr(model.rnn, f"{p}_l{layer}") for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
              for layer in range(model.nlayers)]
    names = GATE_NAMES[model.cell]
    out = {g: [] for g in names}
    states = []
    for t in range(tokens.shape[0]):
        x, new, step_gates = x_all[t], [], {g: [] for g in names}
        for layer in range(model.nlayers):
            gates, state = gated_step(model.cell, x, tuple(part[layer] for part in hidden), *params[layer])
            for g in names:
                step_gates[g].append(gates[g])
            new.append(state)
            x = state[0]
        hidden = tuple(torch.stack([s[p] for s in new]) for p in range(len(new[0])))
        states.append(hidden)
        for g in names:
            out[g].append(torch.stack(step_gates[g]))  # (L, B, H)
    return {g: torch.stack(v, dim=1) for g, v in out.items()}, states


@dataclass
class SentenceGates:
    cell: str
    tokens: list[str]  # the tokens read, <s> first
    gates: dict[str, np.ndarray]  # name -> (layers, tokens, units)

    def to_dict(self, model: str) -> dict:
        return {"model": model, "cell": self.cell, "tokens": self.tokens,
                "gates": {g: v.tolist() for g, v in self.gates.items()}}


def sentence_gates(model: RNNLM, ids: Sequence[int], words: Sequence[str]) -> SentenceGates:
    """The gates while reading ``<s>`` and the token ids ``ids`` (``words`` their spellings)."""
    model = check_gated(model).eval()
    tokens = torch.as_tensor([BOS_ID, *ids], dtype=torch.long, device=model.encoder.weight.device)[:, None]
    gates, _ = trace_gates(model, tokens, model.init_hidden(1))
    return SentenceGates(model.cell, ["<s>", *words], {g: v[:, :, 0].double().cpu().numpy() for g, v in gates.items()})


def gate_summary(values: np.ndarray) -> dict:
    """Mean, standard deviation and the fractions below :data:`LOW` / above :data:`HIGH`."""
    v = np.asarray(values, dtype=np.float64)
    return {"values": int(v.size), "mean": float(v.mean()), "std": float(v.std()),
            "below_0.1": float((v < LOW).mean()), "above_0.9": float((v > HIGH).mean())}


def corpus_gate_stats(model: RNNLM, sentences: Sequence[Sequence[int]], batch: int = 128) -> dict:
    """(layer, gate) -> :func:`gate_summary` fields over every unit at every token of the
    sentences (each read from ``<s>`` with a fresh state; ``<s>`` counted, padding not)."""
    model = check_gated(model).eval()
    if not sentences:
        raise ConfigError("no sentences to average the gates over")
    device = model.encoder.weight.device
    acc: dict[tuple[int, str], np.ndarray] = {}  # [count, sum, sum of squares, below, above]
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    for a in range(0, len(order), batch):
        rows = [sentences[i] for i in order[a : a + batch]]
        T = max(len(s) for s in rows) + 1
        tokens = torch.full((T, len(rows)), BOS_ID, dtype=torch.long)
        for b, s in enumerate(rows):
            tokens[1 : len(s) + 1, b] = torch.as_tensor(np.asarray(s, dtype=np.int64))
        real = torch.arange(T)[:, None] < torch.tensor([len(s) + 1 for s in rows])[None, :]  # (T, B)
        gates, _ = trace_gates(model, tokens.to(device), model.init_hidden(len(rows)))
        for g, v in gates.items():
            for layer in range(model.nlayers):
                x = v[layer].double().cpu()[real]  # (positions, H)
                s = acc.setdefault((layer, g), np.zeros(5))
                s += [x.numel(), float(x.sum()), float((x * x).sum()), float((x < LOW).sum()), float((x > HIGH).sum())]
    out = {}
    for key, (n, s1, s2, lo, hi) in acc.items():
        mean = s1 / n
        out[key] = {"values": int(n), "mean": mean, "std": float(np.sqrt(max(s2 / n - mean * mean, 0.0))),
                    "below_0.1": lo / n, "above_0.9": hi / n}
    return out
