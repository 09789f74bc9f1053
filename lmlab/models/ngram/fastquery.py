"""The n-gram query engine: :class:`FastTables`, one model's tables in one buffer, queried by
compiled kernels.

The layout of the buffer is :mod:`.fastlayout`'s (hashed tables as KenLM's ``probing``, optionally
quantised, or KenLM's ``trie``), built by :mod:`.fastbuild`; the backoff rule and the query kernels
are :mod:`.fastkernels`' (the one home of the backoff rule: every path that scores with an n-gram
model calls them through this class), sampling :mod:`.fastsample`'s.  The buffer is exactly what
an ``.lmbin`` file holds (:mod:`.binary`), so opening a model is a memory map.  States are
described in :mod:`.fastkernels`.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .fastlayout import BOS_ID, HASHED, HASHED_QUANT, TRIE, _L_KIND, _M_CBOW, _M_CONST, _M_HEAD, _M_N, _M_QUANT, _M_V, Views
from .fastkernels import _next_dists, _score_sequence, _sentence_scores, _step, _step_states
from .fastsample import _build_sampler, _sample_tokens
from .fastbuild import build, check_layout

_ENTRIES: dict = {}
_NOWHERE = np.empty(0, dtype=np.float64)  # an ``out`` that asks for no per-token scores


def _entry_point(dispatcher, args):
    """The compiled function for ``args``' types, callable without dispatch (the dispatcher
    itself if numba does not expose it); compiled (or loaded from numba's cache) without running."""
    import numba

    sig = tuple(numba.typeof(a) for a in args)
    fn = _ENTRIES.get((dispatcher, sig))
    if fn is None:
        try:
            dispatcher.compile(sig)
            fn = dispatcher.overloads[sig].entry_point
        except (AttributeError, KeyError, TypeError):
            fn = dispatcher
        _ENTRIES[dispatcher, sig] = fn
    return fn


class FastTables:
    """The query engine's tables for one model (see the module docstring).

    Built from :class:`BackoffTables` (``FastTables(tables)``) or opened from a buffer
    (:meth:`from_buffer`, what :mod:`.binary` maps).  ``quant_bits`` (1..8) quantises the
    probabilities (and ``backoff_bits``, by default the same, the backoffs) of orders >= 2 into
    ``2**bits`` values per order and packs each slot into 8 bytes (KenLM's ``-q``/``-b``);
    unigrams stay exact.  ``trie`` lays the tables out as KenLM's trie (:func:`.fastbuild._build_trie`)
    instead of hash tables: about a third of the size, queried by the same kernels.
    """

    def __init__(self, tables, quant_bits: int | None = None, *, backoff_bits: int | None = None,
                 trie: bool = False):
        buf, meta = build(tables, quant_bits, backoff_bits, trie)
        self._attach(buf, meta, quant_bits)

    @classmethod
    def from_buffer(cls, buf: np.ndarray, meta: np.ndarray, quant_bits: int | None = None) -> FastTables:
        """Tables over an existing buffer (a memory map: nothing is copied or built).  Raises
        ``ValueError`` naming the problem when ``meta`` does not describe tables inside ``buf``."""
        check_layout(len(buf), np.asarray(meta, dtype=np.int64), quant_bits)
        fast = cls.__new__(cls)
        fast._attach(buf, meta, quant_bits)
        return fast

    def _attach(self, buf: np.ndarray, meta: np.ndarray, quant_bits: int | None) -> None:
        meta = np.ascontiguousarray(meta, dtype=np.int64)
        V, N = int(meta[_M_V]), int(meta[_M_N])
        if len(meta) == _M_HEAD + 4 * (N + 1):  # a hashed layout: its ``lay`` is the kind alone
            kind = HASHED_QUANT if meta[_M_QUANT] else HASHED
            meta = np.concatenate([meta, [kind, N, V], np.zeros(5 * (N + 1), np.int64)])
        self.buf, self.meta = buf, meta
        self.trie = int(meta[_M_HEAD + 4 * (N + 1) + _L_KIND]) == TRIE
        self.order, self.vocab_size, self.quant_bits = N, V, quant_bits
        self.use_const = bool(meta[_M_CONST])
        self.const_bow = float(meta[_M_CBOW:_M_CBOW + 1].view(np.float64)[0])

        v = Views(buf, meta)
        self.slots_i, self.slots_f, self.prob1, self.bow1 = v.slots_i, v.slots_f, v.prob1, v.bow1
        self.cb_p, self.cb_b, self.cslot = v.cb_p, v.cb_b, v.cslot
        self.slot_off, self.slot_size, self.cslot_off = v.slot_off, v.slot_size, v.cslot_off
        self._entries: dict = {}

    @property
    def hashed_meta_len(self) -> int:
        """Length of ``meta`` without ``lay`` (what a hashed layout's file holds)."""
        return _M_HEAD + 4 * (self.order + 1)

    @property
    def quant(self) -> bool:
        return self.quant_bits is not None

    def nbytes(self) -> int:
        return int(self.buf.nbytes)

    def _call(self, kernel, *args):
        """``kernel(buf, meta, *args)`` through its compiled entry point for these argument types,
        skipping the dispatcher's type resolution (KenLM-style APIs call once per word or line).
        Callers pass arguments of fixed types."""
        fn = self._entries.get(kernel)
        if fn is None:
            fn = self._entries[kernel] = _entry_point(kernel, (self.buf, self.meta, *args))
        return fn(self.buf, self.meta, *args)

    # -- states ---------------------------------------------------------------------------
    def null_state(self) -> tuple:
        """No history (KenLM's ``NullContextWrite``)."""
        return (0,) + (-1,) * (self.order - 1)

    def begin_state(self, bos_id: int = BOS_ID) -> tuple:
        """After ``<s>``."""
        if self.order == 1:
            return (0,)
        return (int(self.use_const), bos_id) + (-1,) * (self.order - 2)

    # -- queries --------------------------------------------------------------------------
    def score(self, tok: np.ndarray, kind: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """log10 p and matched length per token; ``kind`` as in :func:`_score_sequence`."""
        tok = np.ascontiguousarray(tok, dtype=np.int64)
        out_lp = np.empty(len(tok), dtype=np.float64)
        out_len = np.empty(len(tok), dtype=np.int8)
        self._call(_score_sequence, tok, np.ascontiguousarray(kind, dtype=np.int8), out_lp, out_len)
        return out_lp, out_len

    def score_rows(self, rows: np.ndarray) -> np.ndarray:
        """log10 p(last word | the others) for each row of word ids (n, m >= 2), the others taken
        as given (no ``<s>`` added)."""
        rows = np.asarray(rows, dtype=np.int64)
        n, m = rows.shape
        kind = np.zeros((n, m), dtype=np.int8)
        kind[:, 0], kind[:, 1:-1] = 1, 2
        lp, _ = self.score(rows.ravel(), kind.ravel())
        return lp.reshape(n, m)[:, -1]

    def sentence_scores(self, ids: np.ndarray, bos: bool = True, eos: bool = True, scale: float = 1.0) -> np.ndarray:
        """``scale`` * log10 p of each token of one sentence of ids (int64), then of ``</s>``."""
        out = np.empty(len(ids) + bool(eos), dtype=np.float64)
        self._call(_sentence_scores, ids, bool(bos), bool(eos), float(scale), out)
        return out

    def score_sentence(self, ids: np.ndarray, bos: bool = True, eos: bool = True) -> float:
        """Total log10 probability of one sentence of ids."""
        return self._call(_sentence_scores, np.ascontiguousarray(ids, dtype=np.int64), bool(bos), bool(eos), 1.0,
                          _NOWHERE)

    def step(self, state: tuple, w: int) -> tuple[float, int, tuple]:
        """(log10 p, matched length, next state) for one token after ``state``."""
        return self._call(_step, state, int(w))

    def step_function(self):
        """:meth:`step` as a plain function ``(state, w)`` with the tables bound (a decoder's inner
        loop)."""
        self.step(self.null_state(), 0)  # compile / load, and find the entry point
        return partial(self._entries[_step], self.buf, self.meta)

    def state_of(self, state) -> tuple:
        """``state`` itself, or the state after a sequence of fewer than ``order`` token ids from
        no history (lmlab's earlier n-gram states: the last ``order - 1`` token ids)."""
        if isinstance(state, tuple) and len(state) == self.order:
            return state
        if isinstance(state, tuple) and len(state) < self.order:
            ids = np.asarray(state, dtype=np.int64)
            if not len(ids) or (0 <= int(ids.min()) and int(ids.max()) < self.vocab_size):
                out = self.null_state()
                for t in ids.tolist():
                    out = self.step(out, t)[2]
                return out
        self._refuse(state)

    def _refuse(self, state):
        from ...errors import ConfigError

        raise ConfigError(f"{state!r} is not a state of this {self.order}-gram model: states come from its "
                          "begin_state(), null_state(), advance() and step() (or are fewer than "
                          f"{self.order} token ids)")

    def states_array(self, states) -> np.ndarray:
        """States as a (B, N) int64 array."""
        if any(len(s) != self.order for s in states if isinstance(s, tuple)):
            states = [self.state_of(s) for s in states]
        try:
            arr = np.array(states, dtype=np.int64).reshape(len(states), self.order)
        except (ValueError, TypeError, OverflowError):
            self._refuse(next((s for s in states if not isinstance(s, tuple)), states))
        bad = (arr < -1).any(axis=1) | (arr[:, 0] >= self.order) | (arr[:, 1:] >= self.slot_size[1:self.order]).any(axis=1)
        if bad.any():
            self._refuse(states[int(np.argmax(bad))])
        return arr

    def step_states(self, states, toks) -> tuple[list[tuple], np.ndarray]:
        """:meth:`step` for a batch: (next states, log10 p of each token)."""
        arr = self.states_array(states)
        out = np.empty_like(arr)
        lp = np.empty(len(arr), dtype=np.float64)
        self._call(_step_states, arr, np.ascontiguousarray(toks, dtype=np.int64), out, lp)
        return list(map(tuple, out.tolist())), lp

    def next_dists(self, states, scale: float = 1.0) -> np.ndarray:
        """(B, V) float64: ``scale`` * log10 p(w | state) for every word w of each state."""
        arr = self.states_array(states)
        out = np.empty((len(arr), self.vocab_size), dtype=np.float64)
        self._call(_next_dists, arr, float(scale), out)
        return out

    def sampler(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The sampler's tables (:func:`_build_sampler`: each context's run of continuations and
        the running probability mass), built on the first draw and kept (about 16 bytes per
        n-gram): nothing else needs them."""
        built = self.__dict__.get("_sampler")
        if built is None:
            N, V = self.order, self.vocab_size
            n_ctx = V + (int(self.slot_off[N]) if N > 2 else 0)
            n_cum = V + (int(self.cslot_off[N]) + int(self.meta[_M_HEAD + 3 * (N + 1) + N]) if N > 1 else 0)
            run_lo, run_hi = np.zeros(n_ctx, dtype=np.int32), np.zeros(n_ctx, dtype=np.int32)
            cum = np.zeros(n_cum, dtype=np.float64)
            self._call(_build_sampler, run_lo, run_hi, cum)
            built = self.__dict__["_sampler"] = (run_lo, run_hi, cum)
        return built

    def sample_tokens(self, state, rng: np.random.Generator, max_tokens: int, banned, stop_eos: bool = True
                      ) -> tuple[np.ndarray, np.ndarray, bool]:
        """Up to ``max_tokens`` tokens drawn one after another from ``state``, each exactly from
        :meth:`next_dists`' distribution without the ``banned`` ids (:func:`_sample_tokens`):
        (token ids, log10 p of each as :meth:`next_dists` gives it, True if it stopped at
        ``</s>``).  ``rng`` is advanced as the draws use it, so a seeded generator repeats."""
        from ...errors import ConfigError

        try:
            st = np.array(state, dtype=np.int64).reshape(self.order)  # checked in the kernel
        except (ValueError, TypeError, OverflowError):
            self._refuse(state)
        ids = np.empty(max_tokens, dtype=np.int64)
        lps = np.empty(max_tokens, dtype=np.float64)
        n, stopped = self._call(_sample_tokens, *self.sampler(), st, rng,
                                np.ascontiguousarray(sorted(banned), dtype=np.int64), int(max_tokens),
                                bool(stop_eos), ids, lps)
        if n == -2:
            self._refuse(state)
        if n < 0:
            raise ConfigError("no token is left to choose from (every token was banned or filtered out)")
        return ids[:n], lps[:n], bool(stopped)

