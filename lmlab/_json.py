"""The one reader of the JSON files lmlab keeps: model configs, vocabularies, mixtures, trainer state.

:func:`read_json` turns every way such a file can be wrong -- missing, not UTF-8, not JSON, not an
object -- into one :class:`~lmlab.errors.LmlabError` (of the caller's class) whose one-line
message names the file and the problem.  :func:`check_fields` then checks the object's fields
against a small schema (``{"tokens": list_of(STR), ...}``), naming every missing, unknown or
mistyped field at once, so that code reading the object never meets a ``KeyError`` or a
``TypeError`` from a value of the wrong kind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from ._io import read_text
from .errors import LmlabError


@dataclass(frozen=True)
class Kind:
    """What a JSON value must be: ``name`` (for messages, e.g. "an integer") and a test."""

    name: str
    test: Callable[[object], bool]


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


INT = Kind("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool))
NUMBER = Kind("a number", _number)
STR = Kind("a string", lambda v: isinstance(v, str))
BOOL = Kind("true or false", lambda v: isinstance(v, bool))
OBJECT = Kind("an object", lambda v: isinstance(v, dict))
LIST = Kind("a list", lambda v: isinstance(v, list))


def list_of(item: Kind) -> Kind:
    return Kind(f"a list of {item.name.removeprefix('an ').removeprefix('a ')}s",
                lambda v: isinstance(v, list | tuple) and all(item.test(x) for x in v))


def optional(kind: Kind) -> Kind:
    return Kind(f"{kind.name} or null", lambda v: v is None or kind.test(v))


def _shown(v: object) -> str:
    text = json.dumps(v, ensure_ascii=False, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."


def read_json(path: str | os.PathLike, what: str, error: type[LmlabError] = LmlabError) -> dict:
    """The JSON object in ``path`` (``what`` names the file's role in messages, e.g. "a vocabulary").

    Raises ``error`` (an :class:`LmlabError` subclass) with ``"PATH: reason"`` when the file is
    missing, not UTF-8, not valid JSON (with the line and column) or not a JSON object.
    """
    try:
        text = read_text(path)
    except LmlabError as exc:
        msg = str(exc)
        raise error(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
                    f"expected {what}") from None
    except RecursionError:
        raise error(f"{path}: JSON nested too deeply; expected {what}") from None
    if not isinstance(data, dict):
        raise error(f"{path}: expected {what} (a JSON object), got {type(data).__name__} {_shown(data)}")
    return data


def field_problems(data: Mapping, fields: Mapping[str, Kind], required: Collection[str] = (),
                   allow_unknown: bool = False) -> list[str]:
    """Every missing, unknown or mistyped field of ``data``, as messages."""
    out = [f"missing field {k!r}" for k in required if k not in data]
    if not allow_unknown:
        out += [f"unknown field {k!r}" for k in data if k not in fields]
    out += [f"field {k!r} must be {kind.name}, got {_shown(data[k])}"
            for k, kind in fields.items() if k in data and not kind.test(data[k])]
    return out


def check_fields(data: object, fields: Mapping[str, Kind], *, where: str, error: type[LmlabError],
                 required: Collection[str] = (), allow_unknown: bool = False) -> dict:
    """``data`` if it is an object whose fields match ``fields``; else ``error("WHERE: problems")``."""
    if not isinstance(data, dict):
        raise error(f"{where}: expected a JSON object, got {type(data).__name__} {_shown(data)}")
    problems = field_problems(data, fields, required, allow_unknown)
    if problems:
        raise error(f"{where}: " + "; ".join(problems))
    return data


_ANNOTATIONS = {"int": INT, "float": NUMBER, "str": STR, "bool": BOOL, "int | None": optional(INT),
                "float | None": optional(NUMBER), "str | None": optional(STR), "tuple[int, ...]": list_of(INT),
                "dict": OBJECT}


def dataclass_kinds(cls) -> dict[str, Kind]:
    """The schema of a dataclass's fields, from their annotations (``int``, ``float | None``, ...)."""
    import dataclasses

    return {f.name: _ANNOTATIONS[f.type if isinstance(f.type, str) else f.type.__name__]
            for f in dataclasses.fields(cls)}
