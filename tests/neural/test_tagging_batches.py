"""Tagged sentences as padded batches: vocabularies, padding values, length buckets, seeded epochs,
input order, unseen labels."""

from __future__ import annotations

from collections import Counter

import pytest

torch = pytest.importorskip("torch")

from lmlab.data.columns import TaggedSentence  # noqa: E402
from lmlab.errors import ConfigError  # noqa: E402
from lmlab.tensors.tagging import (  # noqa: E402
    TaggingBatches,
    build_tagging_vocabs,
    encode_sentences,
    encode_tagging,
    in_input_order,
    length_batches,
)
from lmlab.text.specials import PAD_ID, UNK_ID  # noqa: E402

SENTS = [(["a", "bb", "a"], ["X", "Y", "X"]), (["ccc"], ["Z"]), (["bb", "a"], ["Y", "X"])]


def test_vocabularies_and_one_padded_batch_by_hand():
    v = build_tagging_vocabs(SENTS, min_count=2)
    assert v["tokens"].tokens[3:] == ("a", "bb")  # ccc is seen once
    assert v["chars"].tokens[3:] == ("a", "b", "c") and v["tags"].labels == ("X", "Y", "Z")
    a, bb, tp, cp = v["tokens"].lookup("a"), v["tokens"].lookup("bb"), v["tokens"].pad_id, v["chars"].pad_id
    ca, cb, cc = (v["chars"].lookup(c) for c in "abc")
    batch = encode_sentences(SENTS, v).batch([1, 0])
    assert batch.index == [1, 0] and batch.n_items == 4
    assert batch["tokens"].tolist() == [[UNK_ID, tp, tp], [a, bb, a]]
    assert batch["lengths"].tolist() == [1, 3]
    assert batch["chars"].tolist() == [[[cc, cc, cc], [cp] * 3, [cp] * 3], [[ca, cp, cp], [cb, cb, cp], [ca, cp, cp]]]
    assert batch["char_lengths"].tolist() == [[3, 0, 0], [1, 2, 1]]
    assert batch["tags"].tolist() == [[2, PAD_ID, PAD_ID], [0, 1, 0]]
    assert all(t.dtype == torch.int64 for t in batch.tensors.values())


def test_unseen_test_labels_are_counted_not_raised():
    v = build_tagging_vocabs(SENTS)
    data = encode_sentences([TaggedSentence(("a", "zz"), ("NEW", "X"), 7), (["a"], ["NEW"])], v)
    assert data.unseen == Counter({"NEW": 2})
    b = data.batch([0, 1])
    assert b["tags"].tolist() == [[PAD_ID, 0], [PAD_ID, PAD_ID]] and b.n_items == 1


def test_words_and_tags_of_different_lengths_name_the_line():
    v = build_tagging_vocabs(SENTS)
    with pytest.raises(ConfigError, match="line 12: 2 words but 1 tags"):
        encode_sentences([TaggedSentence(("a", "b"), ("X",), 12)], v)
    with pytest.raises(ConfigError, match="sentence 2: 1 words but 2 tags"):
        build_tagging_vocabs([(["a"], ["X"]), (["a"], ["X", "Y"])])


def test_sentences_without_tags_or_words():
    v = build_tagging_vocabs(SENTS)
    data = encode_tagging([["a"], [], ["bb", "bb"]], v)
    assert data.empty == [1] and data.tags is None
    batches = list(TaggingBatches(data, 8, shuffle=False))
    assert [b.index for b in batches] == [[0, 2]] and "tags" not in batches[0] and batches[0].n_items == 3
    assert in_input_order(3, [(b.index, ["p0", "p2"]) for b in batches]) == ["p0", [], "p2"]
    nochars = encode_tagging([["a"]], {"tokens": v["tokens"], "tags": v["tags"]})
    assert "chars" not in nochars.batch([0])
    with pytest.raises(ConfigError, match="no words"):
        data.batch([1])


LENGTHS = [5, 0, 3, 9, 1, 1, 4, 7, 2, 2, 8, 6, 3, 0, 5, 5, 1, 2, 9, 4, 3]


def test_length_batches_partition_the_sentences_and_bucket_them():
    plain = length_batches(LENGTHS, 4)
    flat = [i for b in plain for i in b]
    assert sorted(flat) == [i for i, n in enumerate(LENGTHS) if n]  # every non-empty sentence once
    assert [LENGTHS[i] for i in flat] == sorted(LENGTHS[i] for i in flat)  # sorted by length
    assert all(len(b) == 4 for b in plain[:-1])
    for epoch in (0, 1):
        batches = length_batches(LENGTHS, 4, shuffle=True, seed=3, epoch=epoch, pool=2)
        assert sorted(i for b in batches for i in b) == sorted(flat)
        assert batches == length_batches(LENGTHS, 4, shuffle=True, seed=3, epoch=epoch, pool=2)  # replayable
        for b in batches:  # inside a batch, lengths ascend (each pool is sorted before it is cut)
            assert [LENGTHS[i] for i in b] == sorted(LENGTHS[i] for i in b)
    e0, e1 = (length_batches(LENGTHS, 4, shuffle=True, seed=3, epoch=e, pool=2) for e in (0, 1))
    assert e0 != e1 and e0 != length_batches(LENGTHS, 4, shuffle=True, seed=4, epoch=0, pool=2)
    with pytest.raises(ConfigError, match="batch_size"):
        length_batches(LENGTHS, 0)


def test_epoch_iterator_resumes_at_a_batch():
    v = build_tagging_vocabs(SENTS)
    data = encode_tagging([["a"] * n for n in LENGTHS], v)
    it = TaggingBatches(data, 3, seed=1)
    assert len(it) == len(list(it.epoch(2)))
    full = [b.index for b in it.epoch(2)]
    assert [b.index for b in it.epoch(2, start=2)] == full[2:]
    assert [b.index for b in it] == [b.index for b in it.epoch(0)] != full
