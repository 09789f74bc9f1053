"""Recurrent layers PyTorch does not ship: the sigmoid Elman RNN and Cho et al.'s GRU.

Both follow ``nn.RNN``'s interface (input ``(T, B, I)``, hidden ``(L, B, H)``, parameters
``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``) and loop over time in
Python, so they are slower than the fused cells; they exist to match the lecture notes' forms.

    sigmoid RNN:  h' = sigmoid(W_ih x + b_ih + W_hh h + b_hh)
    Cho GRU:      r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
                  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
                  n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)     <- reset before the product
                  h' = (1 - z) * n + z * h
    (PyTorch's GRU instead has n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).)
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ...errors import ConfigError


def sigmoid_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    """One step of the sigmoid RNN.  Shapes: x (B, I), h (B, H) -> (B, H)."""
    return torch.sigmoid(x @ w_ih.t() + b_ih + h @ w_hh.t() + b_hh)


def cho_gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    """One step of Cho et al.'s GRU.  Gates in PyTorch's order r, z, n."""
    return gated_step("gru_cho", x, (h,), w_ih, w_hh, b_ih, b_hh)[1][0]


GATE_NAMES = {"lstm": ("forget", "input", "output"), "gru": ("update", "reset"), "gru_cho": ("update", "reset")}


def gated_step(cell: str, x, state: tuple, w_ih, w_hh, b_ih, b_hh) -> tuple[dict, tuple]:
    """One step of a gated cell with its gates exposed: ``(gates, new state)``.

    ``state`` is ``(h, c)`` for ``lstm``, ``(h,)`` for ``gru``/``gru_cho``; shapes x (B, I), h (B, H).
    The gates are those of :data:`GATE_NAMES` (each (B, H), in [0, 1]): an LSTM's forget gate f
    is the fraction of c kept, c' = f * c + i * g, h' = o * tanh(c'); a GRU's update gate z is the
    fraction of h kept, h' = (1 - z) * n + z * h, and its reset gate r scales h (Cho) or W_hn h
    (PyTorch) inside the candidate n.  The fused cells (``torch.lstm_cell``, ``torch.gru_cell``)
    compute the same state without showing their gates; the tests check this function's state
    against theirs."""
    h = state[0]
    H = h.shape[-1]
    gi = x @ w_ih.t() + b_ih
    if cell == "lstm":
        g = gi + h @ w_hh.t() + b_hh
        i, f = torch.sigmoid(g[..., :H]), torch.sigmoid(g[..., H : 2 * H])
        cand, o = torch.tanh(g[..., 2 * H : 3 * H]), torch.sigmoid(g[..., 3 * H :])
        c = f * state[1] + i * cand
        return {"forget": f, "input": i, "output": o}, (o * torch.tanh(c), c)
    if cell == "gru":
        gh = h @ w_hh.t() + b_hh
        r, z = torch.sigmoid(gi[..., :H] + gh[..., :H]), torch.sigmoid(gi[..., H : 2 * H] + gh[..., H : 2 * H])
        n = torch.tanh(gi[..., 2 * H :] + r * gh[..., 2 * H :])
    elif cell == "gru_cho":
        ghrz = h @ w_hh[: 2 * H].t() + b_hh[: 2 * H]
        r, z = torch.sigmoid(gi[..., :H] + ghrz[..., :H]), torch.sigmoid(gi[..., H : 2 * H] + ghrz[..., H:])
        n = torch.tanh(gi[..., 2 * H :] + (r * h) @ w_hh[2 * H :].t() + b_hh[2 * H :])
    else:
        raise ConfigError(f"cell {cell!r} has no gates (gated cells: {', '.join(GATE_NAMES)})")
    return {"update": z, "reset": r}, ((1 - z) * n + z * h,)


class LoopRNN(nn.Module):
    """A multi-layer RNN built from one of the cells above, looped over time."""

    GATES = {"rnn_sigmoid": 1, "gru_cho": 3}
    CELLS = {"rnn_sigmoid": sigmoid_cell, "gru_cho": cho_gru_cell}

    def __init__(self, cell: str, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0):
        super().__init__()
        self.cell, self.hidden_size, self.num_layers, self.dropout = cell, hidden_size, num_layers, dropout
        self.step_fn = self.CELLS[cell]
        g = self.GATES[cell]
        k = 1.0 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            i = input_size if layer == 0 else hidden_size
            for name, shape in ((f"weight_ih_l{layer}", (g * hidden_size, i)),
                                (f"weight_hh_l{layer}", (g * hidden_size, hidden_size)),
                                (f"bias_ih_l{layer}", (g * hidden_size,)),
                                (f"bias_hh_l{layer}", (g * hidden_size,))):
                p = nn.Parameter(torch.empty(shape))
                nn.init.uniform_(p, -k, k)  # nn.RNN's default
                self.register_parameter(name, p)

    def layer_params(self, layer: int):
        return (getattr(self, f"weight_ih_l{layer}"), getattr(self, f"weight_hh_l{layer}"),
                getattr(self, f"bias_ih_l{layer}"), getattr(self, f"bias_hh_l{layer}"))

    def forward(self, x: torch.Tensor, h0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (T, B, I), h0 (L, B, H) -> output (T, B, H), h_n (L, B, H)."""
        out = x
        finals = []
        for layer in range(self.num_layers):
            params = self.layer_params(layer)
            h = h0[layer]
            steps = []
            for t in range(out.shape[0]):
                h = self.step_fn(out[t], h, *params)
                steps.append(h)
            out = torch.stack(steps)
            finals.append(h)
            if self.dropout and self.training and layer < self.num_layers - 1:
                out = nn.functional.dropout(out, self.dropout, True)
        return out, torch.stack(finals)


def recurrent_layers(cell: str, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0,
                     bidirectional: bool = False) -> nn.Module:
    """The recurrent stack for a cell name: the one mapping of names to modules (LM and encoders).

    ``lstm``, ``gru``, ``rnn_tanh``, ``rnn_relu`` are PyTorch's fused modules (time-first); the
    others are :class:`LoopRNN`, which has no bidirectional form."""
    if cell == "lstm":
        return nn.LSTM(input_size, hidden_size, num_layers, dropout=dropout, bidirectional=bidirectional)
    if cell == "gru":
        return nn.GRU(input_size, hidden_size, num_layers, dropout=dropout, bidirectional=bidirectional)
    if cell in ("rnn_tanh", "rnn_relu"):
        return nn.RNN(input_size, hidden_size, num_layers, nonlinearity=cell[4:], dropout=dropout,
                      bidirectional=bidirectional)
    if bidirectional:
        raise ConfigError(f"cell {cell!r} has no bidirectional form (use lstm, gru, rnn_tanh or rnn_relu)")
    return LoopRNN(cell, input_size, hidden_size, num_layers, dropout=dropout)


# the gate whose bias decides how much of the state is kept (PyTorch's row blocks: LSTM i f g o, GRU r z n)
_KEEP_GATE = {"lstm": 1, "gru": 1}


def init_recurrent(rnn: nn.Module, init: str, cell: str, *, chrono_tmax: int | None = None,
                   generator: torch.Generator | None = None) -> None:
    """Initialise the recurrent weights of ``rnn`` (:func:`recurrent_layers`' module), every layer
    and direction, in place:

    * ``default``: PyTorch's own (nothing changes);
    * ``orthogonal``: each gate's block of W_hh an orthogonal matrix;
    * ``identity``: W_hh = I, zero biases and small input weights (Le et al. 2015's IRNN);
    * ``chrono``: Tallec & Ollivier 2018's chrono initialisation of a gated cell: the bias of the
      gate that keeps the state (the LSTM's forget gate, the GRU's update gate) drawn as
      log(U(1, T - 1)) with T = ``chrono_tmax``, the longest dependency to be kept, and the LSTM's
      input-gate bias its negative, so units start with memories of time scales 1 to T.
    """
    from .config import ENCODER_INITS

    if init not in ENCODER_INITS:
        raise ConfigError(f"init must be one of {', '.join(ENCODER_INITS)}, got {init!r}")
    if init == "default":
        return
    if init == "chrono" and cell not in _KEEP_GATE:
        raise ConfigError(f"chrono initialisation sets a gate's bias: it needs an lstm or gru cell, not {cell!r}")
    if init == "chrono" and (chrono_tmax is None or chrono_tmax < 3):
        raise ConfigError(f"chrono initialisation needs the longest dependency T >= 3, got {chrono_tmax}")
    H = rnn.hidden_size
    suffixes = ("", "_reverse") if getattr(rnn, "bidirectional", False) else ("",)
    with torch.no_grad():
        for layer in range(rnn.num_layers):
            for sfx in suffixes:
                w_hh = getattr(rnn, f"weight_hh_l{layer}{sfx}")
                b_ih, b_hh = getattr(rnn, f"bias_ih_l{layer}{sfx}"), getattr(rnn, f"bias_hh_l{layer}{sfx}")
                if init == "chrono":
                    keep = slice(_KEEP_GATE[cell] * H, (_KEEP_GATE[cell] + 1) * H)
                    u = torch.rand(H, generator=generator, dtype=b_ih.dtype)
                    b = torch.log(1.0 + u * (chrono_tmax - 2))  # log U(1, T - 1)
                    b_ih[keep], b_hh[keep] = b, 0.0
                    if cell == "lstm":  # the input gate opens as little as the forget gate closes
                        b_ih[:H], b_hh[:H] = -b, 0.0
                    continue
                for g in range(w_hh.shape[0] // H):
                    block = w_hh[g * H : (g + 1) * H]
                    if init == "orthogonal":
                        nn.init.orthogonal_(block)
                    else:
                        block.copy_(torch.eye(H))
                if init == "identity":
                    b_hh.zero_()
                    b_ih.zero_()
                    nn.init.normal_(getattr(rnn, f"weight_ih_l{layer}{sfx}"), 0.0, 0.001)
