"""Every kind of LanguageModel lmlab makes, for the one contract suite (tests/contract).

A *kind* is a way to obtain a model: an n-gram smoother fitted from text (every method and form
in the smoothing registry), the same model read back from ARPA, from ``.lmbin`` and from the
8-bit quantised ``.lmbin`` (hash tables and trie), mixtures, and every neural cell.  The list
is built from the registries (``SMOOTHERS``, ``CELLS``), so a new smoother or
cell is checked the day it is registered.  Any test taking a ``kind`` argument runs over them
all; ``lm`` is that kind's model, built once per session (tiny corpus, tiny networks).

The nltk-compatible models (:class:`lmlab.NltkLM`) are not LanguageModels (nltk gives ``<s>`` a
probability): their own contract is checked in ``test_nltk_lm_contract.py``.

Where a kind breaks the contract because of a known defect, the (kind, test) pair is marked
``xfail(strict=True)`` in :data:`KNOWN_FAILURES`, so the mark must come off the day the fix lands.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lmlab.models.base import LanguageModel
from lmlab.models.ngram.smoothing.registry import SMOOTHERS

TRAIN = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "a cat and a dog",
    "",
    "the cat saw the dog",
    "the mat is on the floor",
    "a dog saw a cat on the mat",
    "the dog and the cat sat",
]
# OOVs ("bird", "zebra"), an empty sentence, repeats, a one-word sentence.
TEST = ["the cat sat on the log", "a bird sat", "", "the the the", "dog", "zebra on the mat"]
FALLBACK = (0.5, 1.0, 1.5)  # modified KN's discounts where the toy counts leave them undefined
HAVE_TORCH = importlib.util.find_spec("torch") is not None


@dataclass(frozen=True)
class Kind:
    id: str
    build: Callable[[Callable[[str], LanguageModel], Path], LanguageModel]  # (get other kind, tmp dir)
    family: str  # "ngram" | "mixture" | "neural"
    atol: float = 1e-9  # two ways of computing the same score agree to this (float32 nets: 1e-5)
    needs: tuple[str, ...] = field(default=())  # "torch"
    source: str | None = None  # for read-back kinds: the fitted kind it was written from
    method: str = ""  # n-gram kinds: the smoothing method and the order
    order: int = 0


def _ngram(name: str, interp: bool, order: int, **kw):
    from lmlab.models.ngram.model import NgramLM

    return lambda get, tmp: NgramLM(order, name, interpolate=interp, discount_fallback=FALLBACK, **kw).fit(TRAIN)


TRIE_SMOOTHERS = ("modified_kneser_ney", "witten_bell", "stupid_backoff")  # ARPA backoff, and a constant one


def _read_back(source: str, fmt: str, quant_bits: int | None = None, trie: bool = False):
    def build(get, tmp):
        from lmlab.models.ngram.model import NgramLM

        lm = get(source)
        if fmt == "arpa":
            path = tmp / "m.arpa"
            lm.to_arpa(path)
            return NgramLM.from_arpa(path)
        path = tmp / "m.lmbin"
        lm.to_binary(path, quant_bits=quant_bits, trie=trie)
        return NgramLM.from_binary(path)

    return build


def _neural(cfg_kw: dict, window: bool = False):
    def build(get, tmp):
        import torch

        from lmlab.models.neural.adapter import TorchLM
        from lmlab.models.neural.build import build_model
        from lmlab.models.neural.config import RNNLMConfig, WindowLMConfig
        from lmlab.text.vocab import Vocab

        vocab = Vocab.build(s.split() for s in TRAIN)
        cfg = (WindowLMConfig if window else RNNLMConfig)(vocab_size=len(vocab), **cfg_kw)
        torch.set_num_threads(1)  # nets this small only lose to a second thread (the training tests use 1 too)
        torch.manual_seed(1)
        return TorchLM(build_model(cfg), cfg, vocab)

    return build


def _mixture(parts: tuple[str, ...], weights: tuple[float, ...]):
    def build(get, tmp):
        from lmlab.models.mixture import MixtureLM

        return MixtureLM([get(p) for p in parts], list(weights))

    return build


def _form(interp: bool) -> str:
    return "interp" if interp else "backoff"


def _kinds() -> list[Kind]:
    from lmlab.models.neural.config import CELLS  # a torch-free module

    kinds: list[Kind] = []
    for name, spec in SMOOTHERS.items():
        for interp in spec.forms:
            for order in (1, 2, 3, 4):
                fid = f"{name}-{_form(interp)}-o{order}"
                ng = dict(family="ngram", method=name, order=order)
                kinds.append(Kind(fid, _ngram(name, interp, order), **ng))
                if order not in (1, 3):
                    continue
                if name != "stupid_backoff":  # which ARPA cannot express (it refuses)
                    kinds.append(Kind(f"{fid}-arpa", _read_back(fid, "arpa"), source=fid, **ng))
                kinds.append(Kind(f"{fid}-lmbin", _read_back(fid, "lmbin"), source=fid, **ng))
                kinds.append(Kind(f"{fid}-lmbin8", _read_back(fid, "lmbin", 8), source=fid, **ng))
                if order == 3 and name in TRIE_SMOOTHERS:  # the compact layout (lmlab convert --trie [-q 8])
                    kinds.append(Kind(f"{fid}-trie", _read_back(fid, "lmbin", trie=True), source=fid, **ng))
                    kinds.append(Kind(f"{fid}-trie8", _read_back(fid, "lmbin", 8, trie=True), source=fid, **ng))
    net = dict(family="neural", atol=1e-5, needs=("torch",))
    small = dict(emsize=6, nhid=6, nlayers=2, dropout=0.1)
    for cell in CELLS:
        kinds.append(Kind(f"neural-{cell}", _neural(dict(small, cell=cell)), **net))
    kinds.append(Kind("neural-lstm-tied", _neural(dict(small, cell="lstm", tied=True)), **net))
    kinds.append(Kind("neural-gru-adaptive", _neural(dict(small, cell="gru", nhid=8, adaptive_cutoffs=(8,))), **net))
    kinds.append(Kind("neural-window", _neural(dict(context=3, emsize=4, nhid=5, direct=True), window=True), **net))
    kinds.append(Kind("mixture-kn3+wb2", _mixture(("modified_kneser_ney-interp-o3", "witten_bell-interp-o2"),
                                                  (0.6, 0.4)), "mixture"))
    kinds.append(Kind("mixture-kn3arpa+wb3lmbin8", _mixture(("modified_kneser_ney-interp-o3-arpa",
                                                             "witten_bell-backoff-o3-lmbin8"), (0.5, 0.5)), "mixture"))
    kinds.append(Kind("mixture-kn3+lstm", _mixture(("modified_kneser_ney-interp-o3", "neural-lstm"), (0.7, 0.3)),
                      "mixture", atol=1e-5, needs=("torch",)))
    return kinds


KINDS: dict[str, Kind] = {k.id: k for k in _kinds()}



def _known_failures() -> dict[tuple[str, str], str]:
    """(kind id, test name) -> the defect that makes it fail; each is an xfail(strict=True)."""
    return {}


KNOWN_FAILURES = _known_failures()


def kinds_where(pred: Callable[[Kind], bool]):
    """Decorator: run this contract test only over the kinds for which ``pred`` holds."""

    def mark(fn):
        fn.contract_kinds = pred
        return fn

    return mark


def save_any(lm: LanguageModel, folder: Path) -> Path:
    """Save any model the way lmlab saves its kind; returns the path :func:`lmlab.load` opens.

    n-gram: ARPA, or ``.lmbin`` for a model read from one (and for stupid backoff, which ARPA
    cannot express); neural: a model folder; mixture: its components and a mixture file."""
    from lmlab.models.mixture import MixtureLM, write_mixture_spec
    from lmlab.models.ngram.model import NgramLM

    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(lm, MixtureLM):
        parts = [save_any(m, folder / f"c{i}") for i, m in enumerate(lm.models)]
        return write_mixture_spec(folder / "mix.json", parts, lm.weights)
    if isinstance(lm, NgramLM):
        if lm._fast is not None or not lm.normalized and lm.smoothing == "stupid_backoff":
            lm.to_binary(folder / "m.lmbin")
            return folder / "m.lmbin"
        lm.to_arpa(folder / "m.arpa")
        return folder / "m.arpa"
    from lmlab.models.neural.checkpoint import save_model

    save_model(folder / "net", lm.model, lm.config, lm.vocab)
    return folder / "net"
