"""Chunk tag schemes and conversion among them: IOB1, IOB2 and IOBES.

A chunk tag is ``O`` (outside) or ``PREFIX-TYPE`` (the type may itself hold hyphens: the prefix is
what comes before the first one, as in conlleval).

* **IOB2** (CoNLL-2000, most NER data): every chunk starts with ``B-``, continues with ``I-``.
* **IOB1** (original CoNLL-2003): chunks are ``I-``; ``B-`` is used only for a chunk that starts
  right after a chunk of the same type (so ``B-X`` always follows ``I-X`` or ``B-X``).
* **IOBES**: ``S-`` is a one-token chunk; longer chunks are ``B- I-* E-``.

Reading is lenient where conlleval is: an ``I-X`` (or ``E-X``) that does not continue a chunk of
type X starts a new one.  A prefix that the scheme does not have (``S-`` in IOB2) is an error.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ConfigError

SCHEMES = ("iob1", "iob2", "iobes")
_PREFIXES = {"iob1": ("B", "I"), "iob2": ("B", "I"), "iobes": ("B", "I", "E", "S")}

Span = tuple[str, int, int]  # (type, start, end): tokens start .. end - 1


def check_scheme(scheme: str) -> str:
    s = scheme.lower()
    if s not in SCHEMES:
        raise ConfigError(f"unknown tag scheme {scheme!r}; known: {', '.join(SCHEMES)}")
    return s


def split_tag(tag: str) -> tuple[str, str]:
    """``("B", "NP")`` for ``B-NP``; ``("O", "")`` for ``O``."""
    if tag == "O":
        return "O", ""
    prefix, dash, kind = tag.partition("-")
    if not dash or not prefix or not kind:
        raise ConfigError(f"chunk tag {tag!r} is neither O nor PREFIX-TYPE (e.g. B-NP)")
    return prefix, kind


def check_tag(tag: str, scheme: str) -> tuple[str, str]:
    """``split_tag(tag)``, or a :class:`ConfigError` when ``tag`` is not a tag of ``scheme``."""
    prefix, kind = split_tag(tag)
    allowed = _PREFIXES[check_scheme(scheme)]
    if prefix != "O" and prefix not in allowed:
        raise ConfigError(f"tag {tag!r} is not an {scheme.upper()} chunk tag (prefixes {', '.join(allowed)}, or O)")
    return prefix, kind


def spans(tags: Sequence[str], scheme: str) -> list[Span]:
    """The chunks of a tag sequence read in ``scheme``, as ``(type, start, end)``."""
    scheme = check_scheme(scheme)
    out: list[Span] = []
    kind_open: str | None = None  # type of the chunk that the previous token is in (None: outside)
    start = 0
    closed_by_end = False  # previous token was E- or S- (IOBES): its chunk is finished
    for i, tag in enumerate(tags):
        try:
            prefix, kind = check_tag(tag, scheme)
        except ConfigError as exc:
            raise ConfigError(f"position {i + 1}: {exc}") from None
        continues = kind_open == kind and not closed_by_end and prefix in ("I", "E")
        if kind_open is not None and not continues:
            out.append((kind_open, start, i))
            kind_open = None
        if prefix == "O":
            closed_by_end = False
            continue
        if not continues:
            kind_open, start = kind, i
        closed_by_end = prefix in ("E", "S")
        if closed_by_end:
            out.append((kind, start, i + 1))
            kind_open = None
    if kind_open is not None:
        out.append((kind_open, start, len(tags)))
    return out


def tags_from_spans(chunks: Sequence[Span], length: int, scheme: str) -> list[str]:
    """The tag sequence of ``length`` tokens holding the (non-overlapping) ``chunks`` in ``scheme``."""
    scheme = check_scheme(scheme)
    tags = ["O"] * length
    prev_end, prev_kind = -1, None
    for kind, start, end in sorted(chunks, key=lambda c: c[1]):
        if not 0 <= start < end <= length or start < prev_end:
            raise ConfigError(f"chunk {(kind, start, end)} overlaps another or is outside 0..{length}")
        if scheme == "iobes" and end - start == 1:
            tags[start] = f"S-{kind}"
        else:
            for i in range(start, end):
                tags[i] = f"I-{kind}"
            if scheme == "iob2" or scheme == "iobes" or (start == prev_end and kind == prev_kind):
                tags[start] = f"B-{kind}"
            if scheme == "iobes":
                tags[end - 1] = f"E-{kind}"
        prev_end, prev_kind = end, kind
    return tags


def convert_tags(tags: Sequence[str], source: str, target: str) -> list[str]:
    """``tags`` (in scheme ``source``) rewritten in scheme ``target``; the chunks are the same."""
    return tags_from_spans(spans(tags, source), len(tags), target)
