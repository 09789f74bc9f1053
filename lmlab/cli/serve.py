"""lmlab serve: a JSON API and a web page over one model (127.0.0.1 by default).

The model is loaded and everything its queries need is built before the server listens; then it
prints "lmlab serve: listening on URL".  Requests are admitted in two lanes (quick: /complete,
/score; long: /generate, /perplexity), each with a bounded queue: beyond it a request gets 503
with Retry-After.  The API is described at /docs (offline) and /openapi.json."""

from __future__ import annotations

from ._common import Formatter

EXAMPLES = """examples:
  lmlab serve ptb.o5.lmbin                 # then open http://127.0.0.1:8000/
  lmlab serve runs/ptb-lstm --port 8080
  lmlab serve ptb.o5.lmbin --port 0        # any free port (printed)
  curl -s localhost:8000/complete -H 'content-type: application/json' -d '{"prefix": "the stock", "k": 3}'
  curl -s localhost:8000/health
"""


def _number(kind, low, *, strict: bool):
    """An argparse type: a ``kind`` number > ``low`` (``strict``) or >= ``low``."""
    def parse(text: str):
        import argparse

        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        if not (value > low if strict else value >= low):
            raise argparse.ArgumentTypeError(f"must be {'>' if strict else '>='} {low}, got {text}")
        return value

    return parse


def _positive(kind):
    return _number(kind, 0, strict=True)


def add_parser(sub):
    from ..server.admission import Limits

    d = Limits()
    p = sub.add_parser("serve", help="serve a model over HTTP (JSON API + web page)", description=__doc__,
                       epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model", help="a model file or run folder (.arpa, .lmbin, a neural run)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on; 0 picks a free one (default 8000)")
    p.add_argument("--max_body", type=_positive(int), default=d.max_body_bytes,
                   help=f"largest request body in bytes (default {d.max_body_bytes})")
    p.add_argument("--timeout", type=_positive(float), default=d.request_timeout,
                   help=f"seconds a request may wait and run before a 503 (default {d.request_timeout:g})")
    p.add_argument("--body_timeout", type=_positive(float), default=d.body_timeout,
                   help=f"seconds a client has to send a request's headers and body (default {d.body_timeout:g})")
    p.add_argument("--long_workers", type=_positive(int), default=d.long_workers,
                   help=f"/generate and /perplexity requests run at once (default {d.long_workers}: half the cores)")
    p.add_argument("--long_queue", type=_number(int, 0, strict=False), default=d.long_queue,
                   help=f"long requests that may wait; more get 503 (default {d.long_queue})")
    return p


def run(args) -> int:
    from ..errors import ConfigError
    from ..models.loading import load
    from ..server.admission import Limits
    from ..server.app import create_app
    from ..server.run import serve

    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be in 0..65535, got {args.port}")
    limits = Limits(max_body_bytes=args.max_body, request_timeout=args.timeout, body_timeout=args.body_timeout,
                    long_workers=args.long_workers, long_queue=args.long_queue)
    app = create_app(load(args.model), name=str(args.model), limits=limits)
    try:
        serve(app, args.host, args.port, header_timeout=args.body_timeout)
    except OSError as exc:  # the port is taken, the address is not this machine's
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    return 0
