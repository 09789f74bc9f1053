"""lmlab serve: a JSON API and a web page over one model (127.0.0.1 by default).

The model is loaded and everything its queries need is built before the server listens; then it
prints "lmlab serve: listening on URL".  Requests are admitted in two lanes (quick: /complete,
/score; long: /generate, /perplexity), each with a bounded queue: beyond it a request gets 503
with Retry-After.  The API is described at /docs (offline) and /openapi.json."""

from __future__ import annotations

from ._common import MODEL_HELP, Formatter, nonnegative_int, port_number, positive_float, positive_int

EXAMPLES = """examples:
  lmlab serve ptb.o5.lmbin                 # then open http://127.0.0.1:8000/
  lmlab serve runs/ptb-lstm --port 8080
  lmlab serve ptb.o5.lmbin --port 0        # any free port (printed)
  curl -s localhost:8000/complete -H 'content-type: application/json' -d '{"prefix": "the stock", "k": 3}'
  curl -s localhost:8000/health
"""


def add_parser(sub):
    from ..server.admission import Limits

    d = Limits()
    p = sub.add_parser("serve", help="serve a model over HTTP (JSON API + web page)", description=__doc__,
                       epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model", help=MODEL_HELP)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=port_number, default=8000, help="port to listen on; 0 picks a free one (default 8000)")
    p.add_argument("--max_body", type=positive_int, default=d.max_body_bytes,
                   help=f"largest request body in bytes (default {d.max_body_bytes})")
    p.add_argument("--timeout", type=positive_float, default=d.request_timeout,
                   help=f"seconds a request may wait and run before a 503 (default {d.request_timeout:g})")
    p.add_argument("--body_timeout", type=positive_float, default=d.body_timeout,
                   help=f"seconds a client has to send a request's headers and body (default {d.body_timeout:g})")
    p.add_argument("--long_workers", type=positive_int, default=d.long_workers,
                   help=f"/generate and /perplexity requests run at once (default {d.long_workers}: half the cores)")
    p.add_argument("--long_queue", type=nonnegative_int, default=d.long_queue,
                   help=f"long requests that may wait; more get 503 (default {d.long_queue})")
    return p


def run(args) -> int:
    from ..errors import ConfigError
    from ..models.loading import load
    from ..server.admission import Limits
    from ..server.app import create_app
    from ..server.run import serve

    limits = Limits(max_body_bytes=args.max_body, request_timeout=args.timeout, body_timeout=args.body_timeout,
                    long_workers=args.long_workers, long_queue=args.long_queue)
    app = create_app(load(args.model), name=str(args.model), limits=limits)
    try:
        serve(app, args.host, args.port, header_timeout=args.body_timeout)
    except OSError as exc:  # the port is taken, the address is not this machine's
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    return 0
