"""``lmlab serve``: a JSON API and a web page over one model (127.0.0.1 by default)."""

from __future__ import annotations

from ._common import MODEL_HELP, Formatter

EXAMPLES = """examples:
  lmlab serve ptb.o5.lmbin                 # then open http://127.0.0.1:8000/
  lmlab serve runs/ptb-lstm --port 8080
  curl -s localhost:8000/complete -H 'content-type: application/json' -d '{"prefix": "the stock", "k": 3}'
"""


def add_parser(sub):
    p = sub.add_parser("serve", help="serve a model over HTTP (JSON API + web page)", description=__doc__,
                       epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model", help=MODEL_HELP)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="TCP port to listen on")
    p.add_argument("--max_body", type=int, default=256 * 1024, help="largest request body in bytes")
    return p


def run(args) -> int:
    import uvicorn

    from ..models.loading import load
    from ..server.app import create_app

    app = create_app(load(args.model), name=str(args.model), max_body_bytes=args.max_body)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
