"""``/docs``: the API described from its OpenAPI schema, as one self-contained HTML page.

FastAPI's own /docs loads Swagger UI's scripts from a CDN and is blank offline; this page is
rendered on the server from ``app.openapi()`` (every endpoint, its request fields with their
types, defaults and bounds, and a curl example) and needs nothing else.  The raw schema is at
``/openapi.json``.
"""

from __future__ import annotations

import json
from html import escape

_BOUNDS = (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<"),
           ("minLength", "length >="), ("maxLength", "length <="))


def _type(prop: dict) -> str:
    if "anyOf" in prop:
        return " or ".join(_type(p) for p in prop["anyOf"])
    return prop.get("type", "any")


def _number(x) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() and abs(x) < 2**53 else str(x)


def _bounds(prop: dict) -> str:
    parts = []
    for p in prop.get("anyOf", [prop]):
        parts += [f"{sym} {_number(p[key])}" for key, sym in _BOUNDS if key in p]
    return ", ".join(parts)


def _fields_table(schema: dict) -> str:
    props = schema.get("properties", {})
    if not props:
        return ""
    required = set(schema.get("required", []))
    rows = []
    for name, prop in props.items():
        default = "required" if name in required else json.dumps(prop.get("default"))
        rows.append(f"<tr><td><code>{escape(name)}</code></td><td>{escape(_type(prop))}</td>"
                    f"<td>{escape(default)}</td><td>{escape(_bounds(prop))}</td>"
                    f"<td>{escape(prop.get('description', ''))}</td></tr>")
    return ("<table><tr><th>field</th><th>type</th><th>default</th><th>allowed</th><th>meaning</th></tr>"
            + "".join(rows) + "</table>")


def _example(schema: dict) -> dict:
    out = {}
    for name, prop in schema.get("properties", {}).items():
        if name in schema.get("required", []):
            out[name] = "the stock market" if _type(prop) == "string" else 1
        elif prop.get("default") not in (None, ""):
            out[name] = prop["default"]
    return out


def docs_page(openapi: dict) -> str:
    schemas = openapi.get("components", {}).get("schemas", {})
    sections = []
    for path, ops in openapi.get("paths", {}).items():
        for method, op in ops.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            schema = schemas.get(body.get("$ref", "").rsplit("/", 1)[-1], {})
            curl = f"curl -s localhost:8000{path}"
            if schema:
                curl += f" -H 'content-type: application/json' -d '{json.dumps(_example(schema))}'"
            codes = ", ".join(f"{c} {escape(r.get('description', ''))}" for c, r in op.get("responses", {}).items())
            sections.append(
                f'<section id="{escape(method + path)}"><h2><code>{method.upper()} {escape(path)}</code></h2>'
                f"<p>{escape(op.get('summary', ''))}</p>{_fields_table(schema)}"
                f"<p>responses: {codes}</p><pre>{escape(curl)}</pre></section>")
    info = openapi.get("info", {})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(info.get('title', 'API'))} API</title>
<style>body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: .2rem .5rem; text-align: left; }}
pre {{ background: #f4f4f4; padding: .5rem; overflow-x: auto; }}</style></head>
<body><h1>{escape(info.get('title', 'API'))} API</h1>
<p>Requests and answers are JSON.  A bad request is a 422 (413 for a body too large) and a busy
server a 503 with <code>Retry-After</code>, each with <code>{{"detail": "..."}}</code>.
The machine-readable schema: <a href="/openapi.json">/openapi.json</a>.  The page: <a href="/">/</a>.</p>
{''.join(sections)}
</body></html>
"""
