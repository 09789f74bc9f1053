"""One-token steps of a recurrent LM in numpy, for generation and stateful scoring on CPU.

At batch 1 PyTorch's CPU kernels are dominated by per-call overhead (measured here: a 10000x200
``linear`` takes ~420 us, the same product in numpy/OpenBLAS ~70 us), so stepping a model one
token at a time runs on float32 numpy copies of its weights.  The equations are the cells' own
(see :mod:`.cells`), and the tests check these steps against the batched PyTorch forward.
"""

from __future__ import annotations

import numpy as np


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


class NumpyStepper:
    """Float32 copies of an :class:`RNNLM`'s weights and its step/logit functions."""

    def __init__(self, model):
        self.cell = model.cell
        self.nlayers = model.nlayers
        get = lambda n: getattr(model.rnn, n).detach().cpu().numpy().astype(np.float32)  # noqa: E731
        self.emb = model.encoder.weight.detach().cpu().numpy().astype(np.float32)
        self.layers = []
        for layer in range(model.nlayers):
            w_ih, w_hh = get(f"weight_ih_l{layer}"), get(f"weight_hh_l{layer}")
            b_ih, b_hh = get(f"bias_ih_l{layer}"), get(f"bias_hh_l{layer}")
            self.layers.append((np.ascontiguousarray(w_ih.T), np.ascontiguousarray(w_hh.T), b_ih, b_hh))
        self.dec_t = np.ascontiguousarray(model.decoder.weight.detach().cpu().numpy().astype(np.float32).T)
        self.dec_b = model.decoder.bias.detach().cpu().numpy().astype(np.float32)
        self.mask = model.out_mask.detach().cpu().numpy().astype(np.float32)

    def init_hidden(self) -> tuple[np.ndarray, ...]:
        H = self.layers[0][1].shape[0]
        z = np.zeros((self.nlayers, H), dtype=np.float32)
        return (z, z.copy()) if self.cell == "lstm" else (z,)

    def step(self, token, hidden: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
        """The hidden state after ``token``.  One sequence: ``token`` an int, hidden parts (L, H);
        a batch: ``token`` an int array (B,), hidden parts (L, B, H)."""
        x = self.emb[token]
        hs, cs = [], []
        for layer, (w_ih_t, w_hh_t, b_ih, b_hh) in enumerate(self.layers):
            h = hidden[0][layer]
            H = h.shape[-1]
            if self.cell == "lstm":
                g = x @ w_ih_t + b_ih + h @ w_hh_t + b_hh
                i, f = _sig(g[..., :H]), _sig(g[..., H : 2 * H])
                gg, o = np.tanh(g[..., 2 * H : 3 * H]), _sig(g[..., 3 * H :])
                c = f * hidden[1][layer] + i * gg
                h = o * np.tanh(c)
                cs.append(c)
            elif self.cell in ("gru", "gru_cho"):
                gi = x @ w_ih_t + b_ih
                if self.cell == "gru":
                    gh = h @ w_hh_t + b_hh
                    r, z = _sig(gi[..., :H] + gh[..., :H]), _sig(gi[..., H : 2 * H] + gh[..., H : 2 * H])
                    n = np.tanh(gi[..., 2 * H :] + r * gh[..., 2 * H :])
                else:  # Cho et al.: the reset gate before the recurrent product
                    ghrz = h @ w_hh_t[:, : 2 * H] + b_hh[: 2 * H]
                    r, z = _sig(gi[..., :H] + ghrz[..., :H]), _sig(gi[..., H : 2 * H] + ghrz[..., H:])
                    n = np.tanh(gi[..., 2 * H :] + (r * h) @ w_hh_t[:, 2 * H :] + b_hh[2 * H :])
                h = (1 - z) * n + z * h
            else:
                pre = x @ w_ih_t + b_ih + h @ w_hh_t + b_hh
                h = {"rnn_tanh": np.tanh, "rnn_relu": lambda v: np.maximum(v, 0), "rnn_sigmoid": _sig}[self.cell](pre)
            hs.append(h.astype(np.float32, copy=False))
            x = h
        return (np.stack(hs), np.stack(cs)) if self.cell == "lstm" else (np.stack(hs),)

    def logprobs(self, tops: np.ndarray) -> np.ndarray:
        """Natural-log next-token distributions (B, V) from top-layer states (B, H)."""
        z = (tops @ self.dec_t + self.dec_b + self.mask).astype(np.float64)
        m = z.max(axis=1, keepdims=True)
        return z - (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))
