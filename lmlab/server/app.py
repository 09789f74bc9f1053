"""``create_app(lm)``: a FastAPI app over one LanguageModel (any n-gram or neural model).

POST /score       {"text": "..."}                       per-token and total log-probabilities
POST /complete    {"prefix": "...", "k": 5, "partial": false}  next-word (or rest-of-word) completions
POST /generate    {"prompt": "...", "max_tokens": 30, "temperature": 1, "top_k": null, "top_p": null,
                   "seed": null, "greedy": false}
POST /perplexity  {"text": "line\\nline"}                tokens, OOVs, perplexity incl./excl. OOVs
GET  /info        the model's kind, order/config and vocabulary size
GET  /            the page: type a prefix and see completions, compare sentences, generate

Requests are JSON objects with only the listed fields (anything else is a 422 naming it); a body
over ``max_body_bytes`` is a 413; empty text is a 422 with a clear message.  Errors are JSON
``{"detail": ...}`` and never a 500 for bad input.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import LmlabError
from ..eval.perplexity import evaluate
from ..eval.scoring import score_sentences
from ..generate.complete import complete_text
from ..generate.decode import generate
from ..models.base import LanguageModel

STATIC = Path(__file__).parent / "static"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _nonempty(v: str) -> str:
    if not v.strip():
        raise ValueError("the text is empty")
    return v


class ScoreRequest(_Strict):
    text: str = Field(max_length=10_000)
    _check = field_validator("text")(_nonempty)


class PerplexityRequest(_Strict):
    text: str = Field(max_length=200_000)
    _check = field_validator("text")(_nonempty)


class CompleteRequest(_Strict):
    prefix: str = Field(default="", max_length=10_000)
    k: int = Field(default=5, ge=1, le=100)
    partial: bool = False


class GenerateRequest(_Strict):
    prompt: str = Field(default="", max_length=10_000)
    max_tokens: int = Field(default=30, ge=1, le=500)
    temperature: float = Field(default=1.0, ge=0.0, le=10.0)
    top_k: int | None = Field(default=None, ge=1)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    seed: int | None = None
    greedy: bool = False


def create_app(lm: LanguageModel, *, name: str = "model", max_body_bytes: int = 256 * 1024) -> FastAPI:
    app = FastAPI(title="lmlab", description=__doc__)

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_body_bytes:
            return JSONResponse({"detail": f"request body over {max_body_bytes} bytes"}, status_code=413)
        body = await request.body()
        if len(body) > max_body_bytes:
            return JSONResponse({"detail": f"request body over {max_body_bytes} bytes"}, status_code=413)
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        msgs = []
        for e in exc.errors():
            where = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
            msgs.append(f"{where}: {e.get('msg')}" if where else str(e.get("msg")))
        return JSONResponse({"detail": "; ".join(msgs) or "invalid request"}, status_code=422)

    @app.exception_handler(LmlabError)
    async def lmlab_error(request: Request, exc: LmlabError):
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return (STATIC / "index.html").read_text(encoding="utf-8")

    @app.get("/info")
    def info() -> dict:
        order = getattr(lm, "order", None)
        return {"name": name, "kind": type(lm).__name__, "order": order, "vocab_size": len(lm.vocab),
                "smoothing": getattr(lm, "smoothing", None),
                "normalized": lm.normalized, "tokenizer": lm.vocab.tokenizer.to_dict()}

    @app.post("/score")
    def score(req: ScoreRequest) -> dict:
        (s,) = score_sentences(lm, [req.text])
        return {"tokens": s.tokens, "logprobs": [float(x) for x in s.logprobs], "total": s.total,
                "total_log10": s.total / math.log(10), "oovs": s.oovs}

    @app.post("/complete")
    def complete_(req: CompleteRequest) -> dict:
        t0 = time.perf_counter()
        out, partial = complete_text(lm, req.prefix, req.k, partial=req.partial)
        return {"completions": [{"token": w, "prob": math.exp(lp)} for w, lp in out], "partial": partial,
                "ms": (time.perf_counter() - t0) * 1000}

    @app.post("/generate")
    def generate_(req: GenerateRequest) -> dict:
        g = generate(lm, req.prompt, max_tokens=req.max_tokens, greedy=req.greedy, temperature=req.temperature,
                     top_k=req.top_k, top_p=req.top_p, seed=req.seed)
        words = lm.vocab.tokenize(req.prompt) + g.tokens
        return {"text": lm.vocab.tokenizer.detokenize(words), "tokens": g.tokens, "stopped": g.stopped,
                "logprob": sum(g.logprobs)}

    @app.post("/perplexity")
    def perplexity(req: PerplexityRequest) -> dict:
        return evaluate(lm, req.text.split("\n")).to_dict()

    return app
