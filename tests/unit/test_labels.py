"""Label sets (outputs without specials, out-of-band padding) and the input vocabulary's padding id."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from lmlab.errors import ConfigError, UnknownLabelError, VocabMismatchError
from lmlab.text.labels import LabelSet
from lmlab.text.specials import PAD_ID, SPECIALS
from lmlab.text.vocab import Vocab


def test_ids_are_sorted_training_labels_without_specials():
    a = LabelSet.build([["NOUN", "VERB"], ["DET", "NOUN"]])
    b = LabelSet.build([["DET", "NOUN"], ["VERB"]])  # other order, same labels: same ids
    assert a.labels == ("DET", "NOUN", "VERB") == b.labels
    assert a == b and a.fingerprint == b.fingerprint
    assert not set(SPECIALS) & set(a.labels) and len(a) == 3
    assert a.encode(["VERB", "DET"]).tolist() == [2, 0]
    assert a.decode([1, 2]) == ["NOUN", "VERB"]
    assert LabelSet.build(["1", "0", "1"]).labels == ("0", "1")  # class labels (strings)
    assert LabelSet.from_labels(["O", "B-NP", "I-NP"]).labels == ("O", "B-NP", "I-NP")  # given order


def test_padding_is_out_of_band():
    ls = LabelSet.build([["a", "b"]])
    assert ls.pad_id == PAD_ID == -100
    assert PAD_ID not in range(len(ls))
    with pytest.raises(ConfigError, match="out of range"):
        ls.decode([PAD_ID])
    v = Vocab.build([["x", "y"]])
    assert v.pad_id == len(v) and v.pad_id not in range(len(v))


def test_vocab_fingerprint_unchanged_by_pad_id():
    # the fingerprint of this vocabulary before issue 9 (tokens and tokenizer only)
    v = Vocab.build([["the", "cat"], ["the", "dog"]])
    before = "c096e89e255f3b80"  # computed by lmlab before Vocab had a pad_id
    assert v.pad_id == 6
    assert Vocab.from_dict(json.loads(v.to_json())).fingerprint == before == v.fingerprint
    assert "pad" not in v.to_dict()


def test_round_trip_and_fingerprint_check():
    ls = LabelSet.build([["B-NP", "I-NP", "O", "B-VP"]], name="tags")
    back = LabelSet.from_json(ls.to_json())
    assert back == ls and back.labels == ls.labels and back.name == "tags"
    assert back.fingerprint == ls.fingerprint
    d = ls.to_dict()
    d["labels"] = list(reversed(d["labels"]))
    with pytest.raises(VocabMismatchError, match="fingerprint"):
        LabelSet.from_dict(d)
    with pytest.raises(ConfigError, match="not an lmlab label set"):
        LabelSet.from_dict(Vocab.build([["a"]]).to_dict())
    with pytest.raises(VocabMismatchError, match="label set mismatch"):
        ls.check_same(LabelSet.build([["O"]]))


def test_unseen_label_is_an_error_naming_it():
    ls = LabelSet.build([["NOUN", "VERB"]], name="upos tags")
    with pytest.raises(UnknownLabelError, match=r"test.conllu: line 7: label 'INTJ' is not in the upos tags"):
        ls.encode(["NOUN", "INTJ"], where="test.conllu: line 7")
    with pytest.raises(UnknownLabelError, match="'X'"):
        ls.id("X")


def test_unseen_labels_counted_in_counting_mode():
    ls = LabelSet.build([["NOUN", "VERB"]])
    unseen: Counter[str] = Counter()
    ids = ls.encode_counting(["NOUN", "INTJ", "VERB", "INTJ", "X"], unseen)
    assert ids.tolist() == [0, PAD_ID, 1, PAD_ID, PAD_ID]
    assert ids.dtype == np.int64
    assert unseen == Counter({"INTJ": 2, "X": 1})
    assert ls.unseen([["NOUN", "SYM"], ["SYM"]]) == Counter({"SYM": 2})


def test_bad_label_sets_are_refused():
    with pytest.raises(ConfigError, match="duplicate"):
        LabelSet.from_labels(["a", "a"])
    with pytest.raises(ConfigError, match="at least one"):
        LabelSet.build([])
    with pytest.raises(ConfigError, match="non-empty"):
        LabelSet.from_labels(["a", " b"])
