"""Generation written once for every LanguageModel: greedy or sampled, with the usual knobs
(:func:`generate`), and what ``lmlab generate`` makes of it (:func:`generated`: ``n`` samples or
a beam search's best, as text), which the Python API's conditional LM
(:meth:`lmlab.ConditionalGenerator.generate`) shares."""

from __future__ import annotations

import math

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..models.base import LanguageModel
from ..text.specials import BOS_ID, EOS_ID, UNK
from . import sampling
from .prompt import check_count, prompt_state, prompt_tokens


@dataclass(frozen=True)
class Generation:
    tokens: list[str]  # generated tokens (without the prompt; without </s>)
    logprobs: list[float]  # the model's natural-log probability of each generated token
    stopped: bool  # True when </s> was generated

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


def generate(
    lm: LanguageModel,
    prompt: str | Sequence[str] = "",
    *,
    max_tokens: int = 30,
    greedy: bool = False,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    stop_at_eos: bool = True,
    banned: Sequence[str] = (UNK,),
) -> Generation:
    """Continue ``prompt`` (from the start of a sentence) for up to ``max_tokens`` tokens.

    ``<s>`` is never emitted and the ``banned`` tokens (by default ``<unk>``) neither; the same
    ``seed`` gives the same text.  ``greedy`` (or ``temperature=0`` or ``top_k=1``) takes the
    most likely token; otherwise tokens are sampled after temperature, top-k and top-p.
    """
    problems = check_count("max_tokens", max_tokens)
    if not temperature >= 0:
        problems.append(f"temperature must be >= 0, got {temperature}")
    if top_k is not None:
        problems += check_count("top_k", top_k)
    if top_p is not None and not 0 < top_p <= 1:
        problems.append(f"top_p must be in (0, 1], got {top_p}")
    if seed is not None:
        problems += check_count("seed", seed, 0)
    if problems:
        raise ConfigError(problems)
    state = prompt_state(lm, prompt_tokens(lm, prompt))
    rng = np.random.default_rng(seed)
    banned_ids = {BOS_ID} | {lm.vocab.lookup(b) for b in banned if b in lm.vocab}
    if not stop_at_eos:
        banned_ids.add(EOS_ID)
    if not greedy and temperature == 1.0 and top_p is None and (top_k is None or top_k >= len(lm.vocab)):
        drawn = lm.sample_tokens(state, rng, max_tokens, banned_ids, stop_at_eos)
        if drawn is not None:  # the model samples its own distribution exactly, and faster
            ids, lps, stopped = drawn
            return Generation([lm.vocab[t] for t in (ids[:-1] if stopped else ids)], lps, stopped)
    out, lps = [], []
    for _ in range(max_tokens):
        lp = lm.next_logprobs([state])[0]
        filtered = lp.copy()
        filtered[list(banned_ids)] = -np.inf
        if greedy or temperature == 0:
            tok = sampling.greedy(filtered)
        else:
            if temperature != 1.0:
                filtered = sampling.apply_temperature(filtered, temperature)
            if top_k is not None:
                filtered = sampling.top_k(filtered, top_k)
            if top_p is not None:
                filtered = sampling.top_p(sampling.ban(filtered, ()), top_p)
            tok = sampling.sample(filtered, rng)
        if tok == EOS_ID and stop_at_eos:
            return Generation(out, lps + [float(lp[tok])], True)
        out.append(lm.vocab[tok])
        lps.append(float(lp[tok]))
        state = lm.advance(state, tok)
    return Generation(out, lps, False)


def generated(models: Sequence[LanguageModel], prompt: str | Sequence[str] = "", *, n: int = 1,
              beam: int | None = None, max_tokens: int = 30, greedy: bool = False, temperature: float = 1.0,
              top_k: int | None = None, top_p: float | None = None, seed: int | None = None,
              stop_at_eos: bool = True, nbest: int = 1, alpha: float = 0.0) -> Iterator[tuple[str, float]]:
    """``lmlab generate``'s output, one at a time as it is made: for each model in turn (e.g. a
    conditional LM given each feature vector), ``n`` samples of :func:`generate` (the ``i``-th
    output of all is seeded ``seed + i``) or, with ``beam``, the best hypothesis of the one beam
    search (:func:`lmlab.generate.beam.lm_beam_search`; ``beam=1`` is greedy), or its ``nbest``
    best, best first, ranked with GNMT length normalisation ``alpha``; each output is
    ``(the prompt and its continuation detokenised, the natural-log probability of the generated
    tokens)``.  A knob that has no effect (a sampling one with ``greedy``, ``temperature=0`` or
    ``beam``; ``n`` with any of them, ``greedy`` or ``stop_at_eos=False`` with ``beam``; ``nbest`` or
    ``alpha`` without it) is refused by name."""
    from .beam import lm_beam_search

    zero = not greedy and beam is None and temperature == 0  # temperature 0 is greedy decoding
    given = {"temperature": temperature != 1.0 and not zero, "top_k": top_k is not None, "top_p": top_p is not None,
             "seed": seed is not None}  # the sampling knobs
    if beam is not None:
        given.update(n=n != 1, greedy=greedy, stop_at_eos=not stop_at_eos)
    elif greedy or zero:  # one output: n copies would be the same (lmlab generate refuses -n with --greedy)
        given["n"] = n != 1
    mode = "beam" if beam is not None else "greedy" if greedy else "temperature 0 (greedy)" if zero else None
    problems = check_count("n", n) + check_count("nbest", nbest)
    if beam is None:
        problems += [f"{k} has no effect without beam" for k, on in (("nbest", nbest != 1), ("alpha", alpha != 0.0))
                     if on]
    else:
        problems += check_count("beam", beam)
        if isinstance(nbest, int) and isinstance(beam, int) and nbest > beam > 0:
            problems.append(f"nbest {nbest} is more than the beam keeps ({beam})")
        if not (isinstance(alpha, int | float) and math.isfinite(alpha) and alpha >= 0):
            problems.append(f"alpha must be a number >= 0, got {alpha!r}")
    problems += [f"{k} has no effect with {mode}" for k, on in given.items() if on and mode]
    if problems:
        raise ConfigError(problems)
    i = 0
    for lm in models:
        for _ in range(n):
            if beam is not None:
                for hyp in lm_beam_search(lm, prompt, beam=beam, nbest=nbest, max_len=max_tokens, alpha=alpha):
                    yield (lm.vocab.tokenizer.detokenize(prompt_tokens(lm, prompt) + [lm.vocab[t] for t in hyp.tokens]),
                           hyp.logprob)
                i += 1
                continue
            g = generate(lm, prompt, max_tokens=max_tokens, greedy=greedy, temperature=temperature, top_k=top_k,
                         top_p=top_p, seed=None if seed is None else seed + i, stop_at_eos=stop_at_eos)
            yield lm.vocab.tokenizer.detokenize(prompt_tokens(lm, prompt) + g.tokens), sum(g.logprobs)
            i += 1
