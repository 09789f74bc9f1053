"""An :class:`~lmlab.models.ngram.model.NgramLM`'s files: ARPA text (:func:`save_arpa`,
:func:`load_arpa`) and lmlab's memory-mappable binary (:func:`save_binary`, :func:`load_binary`),
with lmlab's header (smoothing, discounts, version) recorded in both."""

from __future__ import annotations

from ...text.vocab import Vocab
from .model import NgramLM


def _arpa_meta(lm: NgramLM) -> dict:
    from ..._version import __version__

    meta = {
        "lmlab_version": __version__,
        "order": lm.order,
        "smoothing": lm.smoothing,
        "interpolate": lm.interpolate,
        "normalized": lm.normalized,
    }
    if lm.smoothing in ("modified_kneser_ney", "kneser_ney") and not lm.interpolate_unigrams:
        meta["interpolate_unigrams"] = False
    if lm.discounts is not None:
        meta["discounts"] = [[round(float(x), 9) for x in d[1:]] for d in lm.discounts]
    return meta


def save_arpa(lm: NgramLM, path) -> None:
    """Write ``lm`` as an ARPA file (atomically to a path, or to an open binary stream)."""
    from .arpa import write_arpa

    if lm.tables.constant_backoff10 is not None:
        from ...errors import LmlabError

        raise LmlabError(
            f"{lm.smoothing} cannot be written as ARPA: it penalises every backoff step, also from "
            "contexts that are not in the file, which ARPA's backoff cannot express"
        )
    write_arpa(lm.tables, lm.vocab, path, meta=_arpa_meta(lm))


def load_arpa(path) -> NgramLM:
    """Read an ARPA file (lmlab's, KenLM's, SRILM's; .gz/.bz2/.xz too) as an :class:`NgramLM`."""
    from .arpa import read_arpa

    tables, vocab, meta = read_arpa(path)
    lm = _read_model(tables.order, vocab, meta)
    lm._tables = tables
    return lm


UNKNOWN = "unknown"  # the smoothing of a model from a file that does not record it (KenLM's, SRILM's)


def _read_model(order: int, vocab: Vocab, meta: dict) -> NgramLM:
    """An NgramLM for a model read from a file, labelled as lmlab's header records (or ``unknown``)."""
    label = meta.get("smoothing")
    label = label if isinstance(label, str) and label else UNKNOWN
    lm = NgramLM(order=order, tokenizer=vocab.tokenizer)
    lm.smoothing = label  # a label here: the model is not re-estimated
    lm.interpolate = meta.get("interpolate") if label != UNKNOWN else None
    lm.normalized = bool(meta.get("normalized", True))
    lm._vocab, lm.meta = vocab, meta
    return lm


def save_binary(lm: NgramLM, path, *, quant_bits: int | None = None, backoff_bits: int | None = None,
                trie: bool = False) -> None:
    """Write ``lm`` in lmlab's memory-mappable binary format (see :mod:`.binary`).

    ``quant_bits`` (1..8) quantises probabilities and backoffs of orders >= 2 (KenLM's ``-q``):
    8 bytes per slot instead of 16; ``backoff_bits`` (needs ``quant_bits``) gives the backoffs
    their own width (KenLM's ``-b``).  ``trie`` writes KenLM's compact trie layout instead of hash
    tables (KenLM's ``build_binary trie``).
    """
    from .binary import write_binary
    from .fastquery import FastTables

    same = quant_bits is None and not trie and not lm.fast.quant and not lm.fast.trie
    fast = lm.fast if same else FastTables(lm.tables, quant_bits, backoff_bits=backoff_bits, trie=trie)
    meta = _arpa_meta(lm)
    meta.pop("quant_bits", None)
    meta.pop("backoff_bits", None)
    if quant_bits is not None:
        meta["quant_bits"] = quant_bits
        meta["backoff_bits"] = quant_bits if backoff_bits is None else backoff_bits
    write_binary(fast, lm.vocab, path, meta=meta)


def load_binary(path, *, verify: bool = False) -> NgramLM:
    """Open an ``.lmbin`` (a memory map); ``verify`` also checks its checksum (reads it all)."""
    from .binary import read_binary

    fast, vocab, meta = read_binary(path, verify=verify)
    lm = _read_model(fast.order, vocab, meta)
    lm._fast = fast
    return lm
