"""The data of a resumed run (lmlab.cli._task_train.resumed_source), one rule for every kind: the
data options given with --resume replace the recorded ones."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lmlab.cli._task_train import resumed_source
from lmlab.errors import ConfigError


def args(**kw):
    return SimpleNamespace(**{"data": None, "train": None, "valid": None, "save": "run", **kw})


FILE_RUN = {"data": None, "train": "/a/t.txt", "valid": "/a/v.txt", "char": False, "word_column": 2}
DATA_RUN = {"data": "ptb", "train": None, "valid": None, "char": False}


def test_nothing_given_keeps_the_recorded_data():
    assert resumed_source(FILE_RUN, args(), frozenset()) == FILE_RUN


def test_valid_alone_replaces_the_dev_file_only(tmp_path):
    v = tmp_path / "v2.txt"
    got = resumed_source(FILE_RUN, args(valid=str(v)), frozenset({"valid"}))
    assert got == {**FILE_RUN, "valid": str(v.resolve())}


def test_new_training_data_replaces_all_the_recorded_data(tmp_path):
    got = resumed_source(FILE_RUN, args(data="wikitext-2"), frozenset({"data"}))
    assert (got["data"], got["train"], got["valid"]) == ("wikitext-2", None, None)
    assert got["word_column"] == 2 and got["char"] is False  # how the files are read stays the run's
    t = tmp_path / "t2.txt"
    got = resumed_source(DATA_RUN, args(train=str(t)), frozenset({"train"}))
    assert (got["data"], got["train"], got["valid"]) == (None, str(t.resolve()), None)
    # a seq2seq run's own files are dropped with new training data too
    got = resumed_source({"data": None, "train_source": "/s", "valid_target": "/t"}, args(data="multi30k"),
                         frozenset({"data"}), files=("train_source", "valid_target"))
    assert got["data"] == "multi30k" and got["train_source"] is None and got["valid_target"] is None


def test_a_dev_file_for_a_named_dataset_and_two_sources_are_refused():
    with pytest.raises(ConfigError, match="has its own dev set"):
        resumed_source(DATA_RUN, args(valid="v.txt"), frozenset({"valid"}))
    with pytest.raises(ConfigError, match="not both"):
        resumed_source(FILE_RUN, args(data="ptb", train="t.txt"), frozenset({"data", "train"}))
