"""Pooling over the true length, by hand on tiny tensors whose padding would change every answer."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from lmlab.errors import ConfigError  # noqa: E402
from lmlab.models.neural.pooling import pool  # noqa: E402

P = 99.0  # padding: larger than every real value, so a leak changes max, mean and last
STATES = torch.tensor(
    [
        # length 3, features (f1, f2, b1, b2): forward half then backward half
        [[1.0, -2.0, 5.0, 6.0], [3.0, -4.0, 7.0, 8.0], [2.0, -1.0, 9.0, 0.0], [P, P, P, P]],
        # length 1
        [[-1.0, 4.0, 2.0, -3.0], [P, P, P, P], [P, P, P, P], [P, P, P, P]],
        # length 4 (no padding)
        [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [-8.0, 9.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0]],
    ],
    dtype=torch.float64,
)
LENGTHS = torch.tensor([3, 1, 4])


def test_last():
    want = [[2.0, -1.0, 9.0, 0.0], [-1.0, 4.0, 2.0, -3.0], [2.0, 2.0, 2.0, 2.0]]
    assert pool(STATES, LENGTHS, "last").tolist() == want


def test_last_bidirectional_takes_the_backward_state_at_position_0():
    want = [[2.0, -1.0, 5.0, 6.0], [-1.0, 4.0, 2.0, -3.0], [2.0, 2.0, 2.0, 3.0]]
    assert pool(STATES, LENGTHS, "last", bidirectional=True).tolist() == want


def test_max():
    want = [[3.0, -1.0, 9.0, 8.0], [-1.0, 4.0, 2.0, -3.0], [4.0, 9.0, 6.0, 7.0]]
    assert pool(STATES, LENGTHS, "max").tolist() == want


def test_mean():
    want = [[2.0, -7.0 / 3, 7.0, 14.0 / 3], [-1.0, 4.0, 2.0, -3.0], [-0.5, 17.0 / 4, 11.0 / 4, 13.0 / 4]]
    torch.testing.assert_close(pool(STATES, LENGTHS, "mean"), torch.tensor(want, dtype=torch.float64))


def test_gradients_never_reach_padding():
    s = STATES.clone().requires_grad_(True)
    sum(pool(s, LENGTHS, m).sum() for m in ("last", "max", "mean")).backward()
    assert float(s.grad[0, 3].abs().sum()) == 0.0 and float(s.grad[1, 1:].abs().sum()) == 0.0


def test_bad_mode_and_lengths():
    with pytest.raises(ConfigError, match="pooling must be one of last, max, mean"):
        pool(STATES, LENGTHS, "sum")
    with pytest.raises(ConfigError, match="1..4"):
        pool(STATES, torch.tensor([3, 0, 4]), "mean")
