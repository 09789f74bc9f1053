"""BLEU of translations with ``sacrebleu``, the two ways lmlab reports it (each with its signature).

* ``tokenized``: ``-tok none`` on the tokenised output against tokenised references (Multi30k's
  ``lc.norm.tok`` files): the closest figure to bentrevett/pytorch-seq2seq's, which scores
  spaCy-tokenised, lowercased text (not reproducible exactly: spaCy's models are not on the
  package registry).
* ``detokenized``: the output detokenised with sacremoses' Moses detokeniser, scored ``-lc``
  (sacrebleu's own 13a tokenisation, case-insensitive) against the raw references.

:func:`paired_bootstrap` compares two systems' outputs on the same references with sacrebleu's
paired bootstrap resampling.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ConfigError


def _check(hyps: Sequence[str], refs: Sequence[str], what: str) -> None:
    if len(hyps) != len(refs):
        raise ConfigError(f"{len(hyps)} translations but {len(refs)} {what} lines; they must be line-aligned")


def _metric(tokenize: str, lowercase: bool):
    """sacrebleu's BLEU; ``-tok none`` scores tokenised text on purpose, so its "forgot to
    detokenize" warning is off there (``force``; the signature is the same)."""
    from sacrebleu.metrics import BLEU

    return BLEU(tokenize=tokenize, lowercase=lowercase, force=tokenize == "none")


def bleu(hyps: Sequence[str], refs: Sequence[str], *, tokenize: str = "none", lowercase: bool = False) -> dict:
    """``{"score", "signature", "text"}`` of sacrebleu's corpus BLEU of ``hyps`` against one reference each."""
    _check(hyps, refs, "reference")
    metric = _metric(tokenize, lowercase)
    result = metric.corpus_score(list(hyps), [list(refs)])
    return {"score": float(result.score), "signature": str(metric.get_signature()), "text": str(result)}


def detokenize(lines: Sequence[str], lang: str = "en") -> list[str]:
    """Moses detokenisation (sacremoses) of whitespace-tokenised lines."""
    from sacremoses import MosesDetokenizer

    d = MosesDetokenizer(lang=lang)
    return [d.detokenize(line.split()) if line.strip() else "" for line in lines]


def bleu_report(hyps: Sequence[str], refs: Sequence[str], raw_refs: Sequence[str] | None = None,
                lang: str = "en") -> dict:
    """Both BLEU figures (``detokenized`` only when the raw references are given)."""
    rep = {"sentences": len(hyps), "tokenized": bleu(hyps, refs, tokenize="none")}
    if raw_refs is not None:
        rep["detokenized"] = bleu(detokenize(hyps, lang), raw_refs, tokenize="13a", lowercase=True)
    return rep


def format_bleu_report(rep: dict) -> str:
    lines = [f"{rep['sentences']} sentences"]
    for name in ("tokenized", "detokenized"):
        if name in rep:
            lines.append(f"BLEU ({name}) {rep[name]['score']:.2f}  {rep[name]['text']}")
            lines.append(f"  signature: {rep[name]['signature']}")
    if "bootstrap" in rep:
        lines.append(rep["bootstrap"]["text"])
    return "\n".join(lines)


def paired_bootstrap(baseline: Sequence[str], system: Sequence[str], refs: Sequence[str], *, tokenize: str = "none",
                     lowercase: bool = False, resamples: int = 1000) -> dict:
    """sacrebleu's paired bootstrap test of ``system`` against ``baseline`` (same references)."""
    from sacrebleu.significance import PairedTest

    _check(baseline, refs, "reference")
    _check(system, refs, "reference")
    named = [("baseline", list(baseline)), ("system", list(system))]
    metric = _metric(tokenize, lowercase)
    test = PairedTest(named, {"BLEU": metric}, [list(refs)], test_type="bs", n_samples=resamples)
    sig, scores = test()
    base, other = scores["BLEU"]
    text = (f"paired bootstrap ({resamples} resamples): baseline BLEU {base.score:.2f}, system BLEU "
            f"{other.score:.2f} ({other.mean:.2f} +- {other.ci:.2f}), p = {other.p_value:.4f}")
    return {"baseline": float(base.score), "system": float(other.score), "p_value": float(other.p_value),
            "signature": str(sig["BLEU"]), "text": text}
