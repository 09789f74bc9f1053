"""Ancestral sampling from an n-gram model without a full distribution (numba kernels over
:mod:`.fastlayout`'s buffer; the backoff rule is :mod:`.fastkernels`')."""

from __future__ import annotations

import numpy as np
from numba import njit

from .fastlayout import EOS_ID, _find, _key, _prob, _unpack
from .fastkernels import _context_weights, _fill_row, _state_step


@njit(cache=True)
def _build_sampler(buf, meta, run_lo, run_hi, cum):
    """The sampler's tables (:meth:`FastTables.sampler`): for each context (slot of order j < N,
    at ``V + slot_off[j]`` for j >= 2, the word id for j = 1) the run ``[run_lo, run_hi)`` of its
    continuations in order j + 1's ``cslot``; ``cum`` the running sum of 10 ** log10 p over the
    unigrams (``cum[:V]``), then over each run (at ``V + cslot_off[m] + i``, restarting at each
    context)."""
    (V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1, const_bow, use_const, lay, cb_p,
     cb_b, cslot, cslot_off, count) = _unpack(buf, meta)
    acc = 0.0
    for w in range(V):
        acc += 10.0 ** np.float64(prob1[w])
        cum[w] = acc
    for m in range(2, N + 1):
        base = cslot_off[m]
        at = 0 if m == 2 else V + slot_off[m - 1]  # the contexts' entries
        prev = -1
        acc = 0.0
        for i in range(count[m]):
            s = np.int64(cslot[base + i])
            c = _key(slots_i, slot_off, m, s, lay) // V
            if c != prev:
                run_lo[at + c] = i
                prev = c
                acc = 0.0
            run_hi[at + c] = i + 1
            acc += 10.0 ** np.float64(_prob(slots_i, slots_f, slot_off, m, s, lay, cb_p))
            cum[V + base + i] = acc


@njit(cache=True, inline="always")
def _in_run(cum, lo, hi, off, u):
    """First position i in [lo, hi) with ``cum[off + i] > u`` (``hi - 1`` if none: rounding)."""
    a, b = lo, hi - 1
    while a < b:
        mid = (a + b) >> 1
        if cum[off + mid] > u:
            b = mid
        else:
            a = mid + 1
    return a


MAX_TRIES = 1000  # rejections before a draw falls back to the full distribution (as exact)


@njit(cache=True)
def _sample_tokens(buf, meta, run_lo, run_hi, cum, st, rng, banned, max_tokens, stop_eos, out_ids, out_lp):
    """Draw up to ``max_tokens`` tokens from state row ``st`` (updated in place), each exactly from
    the next-token distribution of :func:`_fill_row` with the ``banned`` ids removed (what
    ``next_logprobs`` gives, renormalised), into ``out_ids`` and ``out_lp`` (log10 p as
    ``next_logprobs``).  Returns (tokens drawn, True if the last was ``</s>`` with ``stop_eos``);
    a count of -1 when every token is banned or has no probability, -2 when ``st`` is not a state
    of these tables.

    A draw is rejection sampling from a proposal that never needs the whole vocabulary: each
    order j <= k of the context (0: the unigrams) proposes its explicit continuations with their
    probabilities times the backoff weights above them (``tail``), in proportion to the run's
    mass (``cum``); a word is accepted when the order that proposed it is the longest that holds
    it (no longer context of the state continues with it) and it is not banned.  Every word's
    accepted mass is then exactly its probability, so the draw is exact for any backoff model
    (normalised or not).  After ``MAX_TRIES`` rejections it draws from the full distribution."""
    (V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1, const_bow, use_const, lay, cb_p,
     cb_b, cslot, cslot_off, count) = _unpack(buf, meta)
    ok = 0 <= st[0] < N
    for j in range(1, N):
        ok = ok and -1 <= st[j] < slot_size[j]
    for b in range(banned.shape[0]):
        ok = ok and 0 <= banned[b] < V
    if not ok:
        return -2, False
    ctx = np.empty(N, dtype=np.int64)
    new = np.empty(N, dtype=np.int64)
    tail = np.zeros(N + 1, dtype=np.float64)
    tail2 = np.zeros(N + 1, dtype=np.float64)
    weight = np.zeros(N, dtype=np.float64)  # proposal mass of each order j = 0..k
    lo_of = np.zeros(N, dtype=np.int64)
    hi_of = np.zeros(N, dtype=np.int64)
    row = np.empty(0, dtype=np.float64)
    nxt = np.empty(N, dtype=np.int64)
    for t in range(max_tokens):
        for j in range(N - 1):
            ctx[j] = st[j + 1]
        ctx[N - 1] = -1
        k = _context_weights(ctx, st[0], N, slots_i, slots_f, slot_off, lay, bow1, cb_b, const_bow,
                             use_const, tail)
        total = 0.0
        weight[0] = cum[V - 1] * 10.0 ** tail[1]
        total += weight[0]
        for j in range(1, k + 1):
            at = 0 if j == 1 else V + slot_off[j]
            lo, hi = np.int64(run_lo[at + ctx[j - 1]]), np.int64(run_hi[at + ctx[j - 1]])
            lo_of[j], hi_of[j] = lo, hi
            weight[j] = cum[V + cslot_off[j + 1] + hi - 1] * 10.0 ** tail[j + 1] if hi > lo else 0.0
            total += weight[j]
        w, lp = -1, 0.0
        for _ in range(MAX_TRIES):
            u = rng.random() * total
            j = k
            while j > 0 and u >= weight[j]:
                u -= weight[j]
                j -= 1
            if j == 0:
                x = _in_run(cum, 0, V, 0, u / 10.0 ** tail[1])
                lp = np.float64(prob1[x]) + tail[1]
            else:
                m = j + 1
                off = V + cslot_off[m]
                i = _in_run(cum, lo_of[j], hi_of[j], off, u / 10.0 ** tail[m])
                s = np.int64(cslot[cslot_off[m] + i])
                x = _key(slots_i, slot_off, m, s, lay) % V
                lp = np.float64(_prob(slots_i, slots_f, slot_off, m, s, lay, cb_p)) + tail[m]
            ok = True
            for b in range(banned.shape[0]):
                ok = ok and banned[b] != x
            for h in range(j + 1, k + 1):  # a longer context holds x: its own order proposes it
                ok = ok and _find(slots_i, slot_off, slot_size, h + 1, ctx[h - 1] * V + x, lay) < 0
            if ok:
                w = x
                break
        if w < 0:  # the full distribution, as next_logprobs
            if row.shape[0] == 0:
                row = np.empty(V, dtype=np.float64)
            _fill_row(ctx, k, tail, row, V, slots_i, slots_f, slot_off, slot_size, prob1, lay, cb_p, cslot,
                      cslot_off, count)
            for b in range(banned.shape[0]):
                row[banned[b]] = -np.inf
            acc = 0.0
            for x in range(V):
                acc += 10.0 ** row[x]
            if not acc > 0.0:
                return -1, False
            u = rng.random() * acc
            acc = 0.0
            w = V - 1
            for x in range(V):
                acc += 10.0 ** row[x]
                if acc > u:
                    w = x
                    break
            lp = row[w]
        out_ids[t] = w
        out_lp[t] = lp
        if w == EOS_ID and stop_eos:
            return t + 1, True
        _state_step(st, w, ctx, new, tail2, nxt, V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1,
                    const_bow, use_const, lay, cb_p, cb_b)
        for j in range(N):
            st[j] = nxt[j]
    return max_tokens, False
