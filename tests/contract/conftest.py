"""Runs every contract test that takes a ``kind`` over every kind of model (see kinds.py)."""

from __future__ import annotations

import pytest

from lmlab.models.base import LanguageModel
from tests.contract.kinds import HAVE_TORCH, KINDS, KNOWN_FAILURES, Kind


def _marks(kind: Kind, test: str) -> list:
    marks = []
    if "torch" in kind.needs and not HAVE_TORCH:
        marks.append(pytest.mark.skip(reason="torch (the neural extra) is not installed"))
    for (kid, tname), reason in KNOWN_FAILURES.items():
        if tname == test and kind.id == kid:
            marks.append(pytest.mark.xfail(strict=True, reason=reason))
    return marks


def pytest_generate_tests(metafunc):
    if "kind" not in metafunc.fixturenames:
        return
    only = getattr(metafunc.function, "contract_kinds", None)  # a test may restrict itself
    kinds = [k for k in KINDS.values() if only is None or only(k)]
    test = metafunc.function.__name__
    metafunc.parametrize("kind", [pytest.param(k, id=k.id, marks=_marks(k, test)) for k in kinds])


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory):
    cache: dict[str, LanguageModel] = {}

    def get(kid: str) -> LanguageModel:
        if kid not in cache:
            tmp = tmp_path_factory.mktemp(kid.replace("+", "_"))
            cache[kid] = KINDS[kid].build(get, tmp)
        return cache[kid]

    return get


@pytest.fixture
def lm(kind, model_cache) -> LanguageModel:
    return model_cache(kind.id)
