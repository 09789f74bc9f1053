"""Generation written once for every LanguageModel: greedy or sampled, with the usual knobs."""

from __future__ import annotations

from collections.abc import Sequence
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
