"""Chunk tag schemes: IOB1, IOB2 and IOBES, converted in every direction on hand-written sequences."""

from __future__ import annotations

import itertools

import pytest

from lmlab.data.tagschemes import SCHEMES, convert_tags, spans
from lmlab.errors import ConfigError

# The same chunks in each scheme: [PER John Smith] [PER Mary] ( O ) [LOC Paris] [LOC Rome] O [ORG X-Y Inc]
# Two chunks of one type side by side (Smith|Mary, Paris|Rome) are where IOB1 writes B-.
CASES = [
    {
        "iob1": ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "B-LOC", "O", "I-ORG", "I-ORG"],
        "iob2": ["B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-LOC", "O", "B-ORG", "I-ORG"],
        "iobes": ["B-PER", "E-PER", "S-PER", "O", "S-LOC", "S-LOC", "O", "B-ORG", "E-ORG"],
    },
    {  # type change without O: IOB1 needs no B- (the types differ)
        "iob1": ["I-NP", "I-NP", "I-VP", "I-NP", "I-NP", "I-NP"],
        "iob2": ["B-NP", "I-NP", "B-VP", "B-NP", "I-NP", "I-NP"],
        "iobes": ["B-NP", "E-NP", "S-VP", "B-NP", "I-NP", "E-NP"],
    },
    {  # hyphenated type; a single chunk; all O
        "iob1": ["O", "I-ADJ-P", "O"],
        "iob2": ["O", "B-ADJ-P", "O"],
        "iobes": ["O", "S-ADJ-P", "O"],
    },
    {"iob1": [], "iob2": [], "iobes": []},
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize(("src", "dst"), list(itertools.permutations(SCHEMES, 2)) + [(s, s) for s in SCHEMES])
def test_every_direction(case, src, dst):
    assert convert_tags(CASES[case][src], src, dst) == CASES[case][dst]


def test_spans_read_by_hand():
    assert spans(CASES[0]["iob2"], "iob2") == [("PER", 0, 2), ("PER", 2, 3), ("LOC", 4, 5), ("LOC", 5, 6),
                                                ("ORG", 7, 9)]
    for scheme in SCHEMES:
        assert spans(CASES[0][scheme], scheme) == spans(CASES[0]["iob2"], "iob2")


def test_iob1_b_only_after_same_type():
    out = convert_tags(["B-PER", "I-PER", "O", "B-PER", "B-LOC", "B-LOC"], "iob2", "iob1")
    # B- survives only where the previous token ends a chunk of the same type
    assert out == ["I-PER", "I-PER", "O", "I-PER", "I-LOC", "B-LOC"]
    for i, tag in enumerate(out):
        if tag.startswith("B-"):
            assert i > 0 and out[i - 1][2:] == tag[2:] and out[i - 1] != "O"


def test_lenient_reading_like_conlleval():
    # I- after O (invalid IOB2) starts a chunk; I- of another type starts a chunk
    assert spans(["O", "I-NP", "I-VP"], "iob2") == [("NP", 1, 2), ("VP", 2, 3)]
    # an IOBES I- after E- starts a new chunk
    assert spans(["B-NP", "E-NP", "I-NP", "E-NP"], "iobes") == [("NP", 0, 2), ("NP", 2, 4)]


def test_foreign_prefix_and_bad_tags():
    with pytest.raises(ConfigError, match=r"position 2: tag 'S-PER' is not an IOB2 chunk tag"):
        spans(["O", "S-PER"], "iob2")
    for tag in ("BI-NP", "IE-NP", "b-NP"):  # a prefix is one of the scheme's letters, not a substring
        with pytest.raises(ConfigError, match="is not an IOBES chunk tag"):
            spans([tag], "iobes")
    with pytest.raises(ConfigError, match="neither O nor PREFIX-TYPE"):
        spans(["NP"], "iob2")
    with pytest.raises(ConfigError, match="unknown tag scheme"):
        convert_tags(["O"], "bilou", "iob2")
