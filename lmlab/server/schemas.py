"""The server's request bodies: every field typed and range-checked, so bad input is a 422 with a
JSON message naming the field, never a 500 from deep inside a model.

Strict types (``"k": "5"`` or ``"partial": "yes"`` are refused, not guessed at), no extra fields,
no NaN or infinity, and bounds on every number and string.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: the largest seed (numpy takes any non-negative integer; 32 bits is plenty and exact in the JSON schema)
MAX_SEED = 2**32 - 1


def _nonempty(v: str) -> str:
    if not v.strip():
        raise ValueError("the text is empty")
    return v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class ScoreRequest(_Strict):
    text: str = Field(max_length=10_000, description="one sentence")
    _check = field_validator("text")(_nonempty)


class PerplexityRequest(_Strict):
    text: str = Field(max_length=200_000, description="sentences, one a line")
    _check = field_validator("text")(_nonempty)


class CompleteRequest(_Strict):
    prefix: str = Field(default="", max_length=10_000, description="the text typed so far")
    k: int = Field(default=5, ge=1, le=100, description="how many completions")
    partial: bool = Field(default=False, description="complete the word being typed (word models)")


class GenerateRequest(_Strict):
    prompt: str = Field(default="", max_length=10_000, description="the start of the text")
    max_tokens: int = Field(default=30, ge=1, le=500, description="tokens to generate at most")
    temperature: float = Field(default=1.0, ge=0.0, le=10.0, description="0 = greedy")
    top_k: int | None = Field(default=None, ge=1, le=1_000_000, description="sample from the k most likely")
    top_p: float | None = Field(default=None, gt=0.0, le=1.0, description="nucleus sampling mass")
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED, description="the same seed gives the same text")
    greedy: bool = Field(default=False, description="always take the most likely token")

    @model_validator(mode="after")
    def _sampling_knobs_need_sampling(self):
        """As the CLI: temperature, top_k and top_p have no effect with greedy decoding."""
        given = [name for name in ("temperature", "top_k", "top_p") if name in self.model_fields_set]
        if self.greedy and given:
            raise ValueError(f"{', '.join(given)} cannot be given with greedy (they only shape sampling)")
        return self


REQUESTS = {"/score": ScoreRequest, "/perplexity": PerplexityRequest, "/complete": CompleteRequest,
            "/generate": GenerateRequest}
