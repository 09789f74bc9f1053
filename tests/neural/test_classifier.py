"""The classifier and its batches: no leak through padding, every pooling, round trip, overfitting."""

from __future__ import annotations

import json
from collections import Counter

import pytest

torch = pytest.importorskip("torch")

from lmlab.errors import ConfigError, UnknownLabelError
from lmlab.models.neural.classifier import Classifier
from lmlab.models.neural.pooling import POOLING_MODES
from lmlab.tensors.batch import bucketed_order, pad
from lmlab.tensors.classification import classification_batches, text_batches
from lmlab.text.labels import LabelSet
from lmlab.text.specials import PAD_ID
from lmlab.text.vocab import Vocab

EXAMPLES = [("pos", "a good film"), ("neg", "bad"), ("pos", "good good fun and a film"), ("neg", "a bad bad plot"),
            ("neu", "a film"), ("pos", "fun"), ("neg", "plot and bad film"), ("neu", "and a plot")]
VOCAB = Vocab.build([t.split() for _, t in EXAMPLES])
LABELS = LabelSet.build([label for label, _ in EXAMPLES])


def model(pooling="max", bi=True, cell="lstm", layers=2, seed=0):
    torch.manual_seed(seed)
    return Classifier(VOCAB, LABELS, emsize=5, hidden_size=4, num_layers=layers, cell=cell, bidirectional=bi,
                      pooling=pooling).double()


def test_batches_hold_padded_ids_true_lengths_labels_and_the_input_positions():
    [b] = classification_batches(EXAMPLES[:3], VOCAB, LABELS, batch_size=8)
    assert b.index == [1, 0, 2]  # by length, stable
    assert b["lengths"].tolist() == [1, 3, 6]
    assert b["tokens"][0].tolist() == [VOCAB.lookup("bad")] + [VOCAB.pad_id] * 5
    assert b["tokens"][1, :3].tolist() == VOCAB.encode(["a", "good", "film"]).tolist()
    assert b["labels"].tolist() == [LABELS.id("neg"), LABELS.id("pos"), LABELS.id("pos")]
    assert b.n_items == 3 and len(b) == 3
    [t] = text_batches(["x y", "a"], VOCAB)
    assert "labels" not in t and t.n_items == 2 and t.index == [1, 0]
    assert t["tokens"].tolist() == [[VOCAB.lookup("a"), VOCAB.pad_id], [VOCAB.unk_id, VOCAB.unk_id]]


def test_an_unseen_label_is_an_error_or_counted_and_skipped():
    data = [("pos", "a"), ("huh", "bad film")]
    with pytest.raises(UnknownLabelError, match="huh"):
        classification_batches(data, VOCAB, LABELS)
    unseen: Counter[str] = Counter()
    [b] = classification_batches(data, VOCAB, LABELS, unseen=unseen)
    assert unseen == {"huh": 1} and b["labels"].tolist() == [LABELS.id("pos"), PAD_ID] and b.n_items == 1
    loss, n = model().loss(b)
    assert n == 1 and torch.isfinite(loss)


def test_an_empty_training_text_is_an_error_and_an_empty_input_line_is_left_out_of_every_batch():
    with pytest.raises(ConfigError, match="text 2 is empty"):
        classification_batches([("pos", "a"), ("neg", "  ")], VOCAB, LABELS)
    batches = text_batches(["a", "  ", "bad film", ""], VOCAB, batch_size=1)
    assert [b.index for b in batches] == [[0], [2]]  # the caller writes empty lines at 1 and 3
    m = model()
    out = dict.fromkeys(range(4), "")
    for b in batches:
        out.update(zip(b.index, LABELS.decode(m.predict(b)), strict=True))
    assert out[1] == out[3] == "" and out[0] in LABELS and out[2] in LABELS


def test_bucketed_order_is_a_partition_seeded_and_groups_similar_lengths():
    lengths = [(7 * i) % 23 + 1 for i in range(200)]
    for shuffle in (False, True):
        batches = bucketed_order(lengths, 16, shuffle=shuffle, seed=3, pool=4)
        flat = sorted(int(i) for b in batches for i in b)
        assert flat == list(range(200)) and all(1 <= len(b) <= 16 for b in batches)
    a = [b.tolist() for b in bucketed_order(lengths, 16, shuffle=True, seed=(3, 1))]
    assert a == [b.tolist() for b in bucketed_order(lengths, 16, shuffle=True, seed=(3, 1))]
    assert a != [b.tolist() for b in bucketed_order(lengths, 16, shuffle=True, seed=(3, 2))]
    spread = [max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in bucketed_order(lengths, 16)]
    assert max(spread) <= 2  # sorted: a batch spans few lengths
    padded, lens = pad([[1, 2], [], [3]], -1)
    assert padded.tolist() == [[1, 2], [-1, -1], [3, -1]] and lens.tolist() == [2, 0, 1]


@pytest.mark.parametrize("pooling", POOLING_MODES)
@pytest.mark.parametrize("bi", [False, True])
def test_a_padded_batch_equals_each_sentence_alone(pooling, bi):
    m = model(pooling, bi)
    [batch] = classification_batches(EXAMPLES, VOCAB, LABELS, batch_size=8)
    assert len(set(batch["lengths"].tolist())) > 3
    loss, n = m.loss(batch)
    assert n == 8
    loss.backward()
    grads = [p.grad.clone() for p in m.parameters()]
    logits = m(batch["tokens"], batch["lengths"]).detach()
    preds = dict(zip(batch.index, m.predict(batch), strict=True))
    total, summed = 0.0, [torch.zeros_like(p) for p in m.parameters()]
    for one in classification_batches(EXAMPLES, VOCAB, LABELS, batch_size=1):
        assert one["tokens"].shape[1] == one["lengths"][0]  # no padding at all
        m.zero_grad()
        lo, k = m.loss(one)
        lo.backward()
        total += float(lo.detach())
        for s, p in zip(summed, m.parameters(), strict=True):
            s += p.grad
        row = batch.index.index(one.index[0])
        torch.testing.assert_close(m(one["tokens"], one["lengths"]).detach()[0], logits[row], rtol=0, atol=1e-12)
        assert m.predict(one) == [preds[one.index[0]]] and k == 1
    assert abs(total - float(loss.detach())) < 1e-10
    for gb, gs in zip(grads, summed, strict=True):
        torch.testing.assert_close(gb, gs, rtol=0, atol=1e-10)


def test_the_loss_is_the_summed_cross_entropy_and_prediction_the_argmax():
    m = model("mean", False, layers=1)
    [b] = classification_batches(EXAMPLES, VOCAB, LABELS, batch_size=8)
    logits = m(b["tokens"], b["lengths"])
    want = -sum(torch.log_softmax(logits[i], 0)[y] for i, y in enumerate(b["labels"].tolist()))
    assert abs(float(m.loss(b)[0].detach()) - float(want.detach())) < 1e-12
    assert m.predict(b) == [int(torch.argmax(row)) for row in logits]


def test_a_config_round_trip_gives_identical_predictions():
    m = model("last", True, cell="gru")
    config = json.loads(json.dumps(m.config_dict()))
    assert config["kind"] == "classify" == Classifier.kind
    again = Classifier.from_config(config, {"tokens": VOCAB, "labels": LABELS}).double()
    again.load_state_dict(m.state_dict())
    [b] = classification_batches(EXAMPLES, VOCAB, LABELS, batch_size=8)
    assert again.predict(b) == m.predict(b)
    torch.testing.assert_close(again(b["tokens"], b["lengths"]), m(b["tokens"], b["lengths"]), rtol=0, atol=0)
    assert set(m.vocabs) == {"tokens", "labels"}
    with pytest.raises(ConfigError, match="unknown classifier settings: colour"):
        Classifier.from_config({**config, "colour": 1}, m.vocabs)
    with pytest.raises(ConfigError, match="pooling"):
        Classifier(VOCAB, LABELS, pooling="sum")


def test_frozen_pretrained_embeddings_are_loaded_and_stay_fixed(tmp_path):
    vec = tmp_path / "v.txt"
    vec.write_text("good 1 2 3 4 5\nbad -1 -2 -3 -4 -5\nzebra 9 9 9 9 9\n")
    torch.manual_seed(0)
    m = Classifier(VOCAB, LABELS, emsize=5, hidden_size=4, freeze_embeddings=True)
    cover = m.load_pretrained(vec)
    assert cover == 2 / len(VOCAB)
    w = m.encoder.embedding.weight
    assert w[VOCAB.lookup("bad")].tolist() == [-1, -2, -3, -4, -5]
    before = w.detach().clone()
    opt = torch.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=1.0)
    [b] = classification_batches(EXAMPLES, VOCAB, LABELS, batch_size=8)
    m.loss(b)[0].backward()
    opt.step()
    assert torch.equal(w, before) and not w.requires_grad


def test_a_short_run_fits_eight_sentences():
    torch.manual_seed(0)
    m = Classifier(VOCAB, LABELS, emsize=16, hidden_size=16, pooling="max")
    opt = torch.optim.Adam(m.parameters(), lr=0.02)
    [b] = classification_batches(EXAMPLES, VOCAB, LABELS, batch_size=8)
    for _ in range(60):
        opt.zero_grad()
        loss, n = m.loss(b)
        (loss / n).backward()
        opt.step()
    m.eval()
    assert m.predict(b) == b["labels"].tolist()
