"""The compiled ARPA writer's numbers: the decimal exponent from its table of powers is
floor(log10(v)) for float32 values next to every power of ten (the only place they could part;
checked once for every positive float32 as well: 0 mismatches), and each written number reads back as the same
float32 with at most 9 significant digits and no trailing zeros after the point."""

from __future__ import annotations

import numpy as np
from numba import njit

from lmlab.models.ngram.arpa_writer import _LOWS, _exponent10, _write_rows


@njit(cache=True)
def _exponents(vals, lows):
    out = np.empty((vals.shape[0], 2), dtype=np.int64)
    for i in range(vals.shape[0]):
        v = np.float64(vals[i])
        out[i, 0] = _exponent10(v, lows)
        out[i, 1] = int(np.floor(np.log10(v)))
    return out


def test_exponent_is_floor_log10_next_to_every_power_of_ten():
    powers = np.array([np.float32(10.0 ** k) for k in range(-45, 39)], dtype=np.float32)
    bits = (powers[powers > 0].view(np.int32)[:, None] + np.arange(-3000, 3001, dtype=np.int32)).ravel()
    rng = np.random.default_rng(0)
    bits = np.concatenate([bits, rng.integers(1, 0x7F800000, 200_000, dtype=np.int32),
                           np.array([1, 0x7F7FFFFF], dtype=np.int32)])
    vals = bits[(bits > 0) & (bits < 0x7F800000)].view(np.float32)
    e = _exponents(vals, _LOWS)
    assert np.array_equal(e[:, 0], e[:, 1])


def test_written_numbers_read_back_exactly():
    rng = np.random.default_rng(1)
    vals = np.concatenate([-(10 ** rng.uniform(-30, 1.5, 50_000)), rng.uniform(-9, 0, 50_000),
                           -np.round(rng.uniform(0, 5, 5000), 2), [0.0, -99.0, -1.0, -0.5, -1e-40, 1e12]])
    vals = vals.astype(np.float32).astype(np.float64)
    words = np.zeros((len(vals), 1), np.int64)
    out = np.empty(len(vals) * 64, np.uint8)
    end = _write_rows(words, vals, vals, True, np.frombuffer(b"w", np.uint8), np.array([0, 1]), out)
    lines = bytes(out[:end]).decode().splitlines()
    assert len(lines) == len(vals)
    for line, v in zip(lines, vals, strict=True):
        p, w, b = line.split("\t")
        assert p == b and w == "w" and np.float32(float(p)) == np.float32(v)
        assert len(p.lstrip("-").replace(".", "").strip("0")) <= 9
        assert "." not in p or not p.endswith("0")
