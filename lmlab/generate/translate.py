"""Translating with an encoder-decoder: greedy or beam decoding of a batch of source sentences.

Beam search is the one :func:`~lmlab.generate.beam.beam_search`, driven by the model's
:class:`~lmlab.models.neural.seq2seq.BeamDecoder` (one source sentence at a time, its beam as a
batch).  ``beam=1, nbest=1`` decodes the whole batch greedily at once instead, which gives the same
translations (beam 1 is greedy decoding) faster.  Hypotheses are
:class:`~lmlab.generate.beam.Hypothesis` objects either way, ranked by GNMT's length-normalised
score (``alpha``).
"""

from __future__ import annotations

from ..models.neural.seq2seq import Seq2Seq
from ..models.neural.task import Batch
from ..text.specials import BOS_ID, EOS_ID
from .beam import Hypothesis, beam_search, length_penalty


def translate(model: Seq2Seq, batch: Batch, *, beam: int = 1, nbest: int = 1, max_len: int | None = None,
              alpha: float = 0.0) -> list[list[Hypothesis]]:
    """The ``nbest`` best translations of each row of ``batch``, best first, in the batch's order."""
    if beam == 1 and nbest == 1:
        out = []
        for d in model.greedy(batch, max_len=max_len):
            n = len(d.tokens) + d.finished
            out.append([Hypothesis(tuple(d.tokens), d.logprob, d.logprob / length_penalty(n, alpha), d.finished)])
        return out
    return [beam_search(dec, start, start_token=BOS_ID, beam=beam, nbest=nbest, max_len=limit, alpha=alpha,
                        banned=[BOS_ID])
            for dec, start, limit in model.beam_decoders(batch, max_len=max_len)]


def attention(model: Seq2Seq, batch: Batch, best: list[Hypothesis]):
    """The attention weights (output tokens x source positions, numpy) of each row's hypothesis."""
    return model.attention_weights(batch, [list(h.tokens) + [EOS_ID] * h.finished for h in best])


__all__ = ["attention", "translate"]


def best_translations(model: Seq2Seq, lines: list[str], **options) -> list[str]:
    """The best translation of each source line as a line of target tokens (an empty line for an
    empty one); ``options`` are :func:`translate_lines`'s."""
    return [" ".join(model.target.decode(h[0].tokens)) if h else "" for h in translate_lines(model, lines, **options)]


__all__ += ["best_translations"]


def translate_lines(model: Seq2Seq, lines: list[str], *, beam: int = 1, nbest: int = 1, max_len: int | None = None,
                    alpha: float = 0.0, batch_size: int = 64, device="cpu", with_attention: bool = False):
    """The ``nbest`` best translations of each source line, in the lines' order (an empty line:
    no hypothesis), and with ``with_attention`` the best one's attention weights (None for an
    empty line) as a second list."""
    from ..tensors.parallel import source_batches

    out: list[list[Hypothesis]] = [[] for _ in lines]
    weights: list = [None] * len(lines)
    for batch in source_batches(lines, model.source, batch_size=batch_size):
        batch = batch.to(device)
        hyps = translate(model, batch, beam=beam, nbest=nbest, max_len=max_len, alpha=alpha)
        if with_attention:
            for i, w in zip(batch.index, attention(model, batch, [h[0] for h in hyps]), strict=True):
                weights[i] = w
        for i, h in zip(batch.index, hyps, strict=True):
            out[i] = h
    return (out, weights) if with_attention else out


__all__ += ["translate_lines"]


def context_vectors(model: Seq2Seq, lines: list[str], name: str = "<input>", *, batch_size: int = 64, device="cpu"):
    """The ``(N, M)`` context vectors (float64) of source ``lines``, in their order: what an
    attention-free decoder is conditioned on (``lmlab encode`` writes them as a feature file).  An
    empty line has no encoding: an error naming ``name`` and the line."""
    import numpy as np

    from ..errors import ConfigError
    from ..tensors.parallel import source_batches

    for no, line in enumerate(lines, start=1):
        if not model.source.tokenize(line):
            raise ConfigError(f"{name}: line {no}: an empty source sentence has no encoding (a feature file needs "
                              "a vector for every line)")
    out = np.zeros((len(lines), model.encoder.output_size))
    was = model.training
    model.eval()
    try:
        for batch in source_batches(lines, model.source, batch_size=batch_size):
            out[batch.index] = model.context_vectors(batch.to(device)).double().cpu().numpy()
    finally:
        model.train(was)
    return out


__all__ += ["context_vectors"]
