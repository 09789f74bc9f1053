"""Label sets: the output symbols of a tagger or classifier (POS tags, chunk tags, class labels).

A :class:`LabelSet` is a frozen label <-> id map, the sibling of :class:`~lmlab.text.vocab.Vocab`
for outputs.  It has no specials: no ``<unk>``, ``<s>`` or ``</s>`` (they would be junk classes),
so id ``i`` is the ``i``-th label and a model has exactly ``len(labels)`` outputs.  Padded
positions of a batch of label ids hold :data:`PAD_ID` (``-100``), which no label has and losses
ignore.

Ids are stable: :meth:`LabelSet.build` sorts the labels seen in the training data (Python string
order), so the same training labels give the same ids whatever order the data comes in.
:meth:`LabelSet.from_labels` keeps an order you give.

A label that the set was not built with is an error naming it (:meth:`encode`), except where
evaluation asks to count such labels instead (:meth:`encode_counting`, :meth:`unseen`): a test
label that training never saw is reported, not a crash.

Example:
    >>> ls = LabelSet.build([["DET", "NOUN"], ["VERB", "NOUN"]])
    >>> ls.labels
    ('DET', 'NOUN', 'VERB')
    >>> ls.encode(["NOUN", "VERB"]).tolist()
    [1, 2]
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from ..errors import ConfigError, UnknownLabelError, VocabMismatchError
from .specials import PAD_ID

FORMAT = "lmlab-labels"


class LabelSet:
    """Frozen set of labels with ids ``0 .. len - 1`` and an out-of-band padding id."""

    __slots__ = ("_fingerprint", "_index", "_labels", "name")

    pad_id = PAD_ID

    def __init__(self, labels: Sequence[str], name: str = "labels"):
        labels = tuple(labels)
        problems = []
        if not labels:
            problems.append(f"a label set ({name}) needs at least one label")
        bad = [x for x in labels if not isinstance(x, str) or not x or x != x.strip()]
        if bad:
            problems.append(f"labels must be non-empty strings without surrounding spaces; got {bad[:5]!r}")
        dup = [x for x, c in Counter(labels).items() if c > 1]
        if dup:
            problems.append(f"duplicate labels in {name}: {dup[:5]!r}")
        if problems:
            raise ConfigError(problems)
        self._labels = labels
        self._index = {x: i for i, x in enumerate(labels)}
        self._fingerprint: str | None = None
        self.name = name

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def build(cls, data: Iterable[str] | Iterable[Sequence[str]], name: str = "labels") -> LabelSet:
        """The sorted set of labels in ``data``: class labels (strings) or tag sequences."""
        seen: set[str] = set()
        for item in data:
            if isinstance(item, str):
                seen.add(item)
            else:
                seen.update(item)
        return cls(sorted(seen), name)

    @classmethod
    def from_labels(cls, labels: Iterable[str], name: str = "labels") -> LabelSet:
        """A label set in the order given (duplicates are an error)."""
        return cls(list(labels), name)

    # -- lookups --------------------------------------------------------------------------
    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    def __len__(self) -> int:
        return len(self._labels)

    def __contains__(self, label: object) -> bool:
        return label in self._index

    def __getitem__(self, label_id: int) -> str:
        return self._labels[label_id]

    def __iter__(self):
        return iter(self._labels)

    def id(self, label: str, where: str = "") -> int:
        """Id of ``label``; :class:`UnknownLabelError` naming it (and ``where``) if unknown."""
        try:
            return self._index[label]
        except KeyError:
            raise self._unknown(label, where) from None

    def encode(self, labels: Sequence[str], where: str = "") -> np.ndarray:
        """int64 ids of ``labels``; the first unknown label is an :class:`UnknownLabelError`.

        ``where`` (e.g. ``"train.txt: line 12"``) goes into the message."""
        index = self._index
        try:
            return np.fromiter((index[x] for x in labels), dtype=np.int64, count=len(labels))
        except KeyError as exc:
            raise self._unknown(exc.args[0], where) from None

    def encode_counting(self, labels: Sequence[str], unseen: Counter[str]) -> np.ndarray:
        """Like :meth:`encode`, but an unknown label becomes :data:`PAD_ID` (skipped by losses)
        and is counted in ``unseen`` (updated in place) instead of raising."""
        get = self._index.get
        out = np.empty(len(labels), dtype=np.int64)
        for i, x in enumerate(labels):
            j = get(x)
            if j is None:
                unseen[x] += 1
                j = PAD_ID
            out[i] = j
        return out

    def unseen(self, data: Iterable[str] | Iterable[Sequence[str]]) -> Counter[str]:
        """How often each label of ``data`` (labels or label sequences) outside this set occurs."""
        out: Counter[str] = Counter()
        for item in data:
            for x in ([item] if isinstance(item, str) else item):
                if x not in self._index:
                    out[x] += 1
        return out

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Labels of ``ids``; :data:`PAD_ID` or any id out of range is an error."""
        n = len(self._labels)
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < n:
                raise ConfigError(f"label id {i} is out of range for {self.name} ({n} labels)")
            out.append(self._labels[i])
        return out

    def _unknown(self, label: str, where: str) -> UnknownLabelError:
        shown = ", ".join(self._labels[:20]) + (", ..." if len(self._labels) > 20 else "")
        return UnknownLabelError(
            f"{where + ': ' if where else ''}label {label!r} is not in the {self.name} seen in training "
            f"({len(self._labels)} labels: {shown})"
        )

    # -- identity and serialisation -------------------------------------------------------
    @property
    def fingerprint(self) -> str:
        """sha256 of the label list (first 16 hex digits)."""
        if self._fingerprint is None:
            h = hashlib.sha256(b"lmlab-labels\x00")
            for x in self._labels:
                h.update(x.encode("utf-8") + b"\x00")
            self._fingerprint = h.hexdigest()[:16]
        return self._fingerprint

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LabelSet) and self._labels == other._labels

    def __hash__(self) -> int:
        return hash(self._labels)

    def __repr__(self) -> str:
        return f"LabelSet({self.name}, size={len(self)}, fingerprint={self.fingerprint})"

    def check_same(self, other: LabelSet, what: str = "model") -> None:
        """Raise :class:`VocabMismatchError` unless ``other`` has the same labels in the same order."""
        if self != other:
            raise VocabMismatchError(
                f"label set mismatch: {what} has {len(other)} {other.name} (fingerprint {other.fingerprint}) "
                f"but {len(self)} (fingerprint {self.fingerprint}) were expected"
            )

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": 1, "name": self.name, "fingerprint": self.fingerprint,
                "labels": list(self._labels)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict) -> LabelSet:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ConfigError(f"not an lmlab label set (missing format: {FORMAT})")
        if not isinstance(data.get("labels"), list):
            raise ConfigError("an lmlab label set needs a list of labels")
        if data.get("version", 1) != 1:
            raise ConfigError(f"label set format version {data['version']}; this lmlab reads version 1")
        ls = cls(data["labels"], data.get("name", "labels"))
        if "fingerprint" in data and data["fingerprint"] != ls.fingerprint:
            raise VocabMismatchError(
                f"label set fingerprint {data['fingerprint']} does not match its labels "
                f"({ls.fingerprint}); the file was edited or is corrupt"
            )
        return ls

    @classmethod
    def from_json(cls, text: str) -> LabelSet:
        return cls.from_dict(json.loads(text))


def check_shared_labels(gold: Iterable[str], known: Iterable[str], where: str, noun: str, hint: str) -> None:
    """Gold labels none of which the model knows are another label set (UPOS against XPOS, another
    file column, another corpus' class names), not unseen labels to count: a one-line
    :class:`~lmlab.errors.ConfigError` naming both sets (``where``: the data; ``noun``: ``tags`` or
    ``labels``; ``hint``: what to give instead), where scoring would say 0% and go on."""
    gold, known = set(gold), set(known)
    if gold and not gold & known:
        show = lambda labels: ", ".join(sorted(labels)[:6]) + (", ..." if len(labels) > 6 else "")  # noqa: E731
        raise ConfigError(f"{where}: none of its {len(gold)} {noun} is one the model {hint[0]} (gold: {show(gold)}; "
                          f"the model's: {show(known)}): another {noun[:-1]} set -- {hint[1]}")

