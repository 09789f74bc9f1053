"""The taggers (BiRNN with character features and CRF or softmax; Collobert window MLP): no leak
through padding, brute-force CRF decoding, hand-computed losses, config round trips, overfitting."""

from __future__ import annotations

import itertools
import json
import math

import pytest

torch = pytest.importorskip("torch")

from lmlab.errors import ConfigError  # noqa: E402
from lmlab.models.neural.tagger import Tagger, TaggingModel, WindowTagger  # noqa: E402
from lmlab.tensors.tagging import build_tagging_vocabs, encode_sentences, encode_tagging  # noqa: E402
from lmlab.text.labels import LabelSet  # noqa: E402
from lmlab.text.specials import BOS_ID, EOS_ID, PAD_ID  # noqa: E402
from lmlab.text.vocab import Vocab  # noqa: E402

SENTS = [
    (["The", "cat", "sat", "on", "the", "mat"], ["DET", "NOUN", "VERB", "ADP", "DET", "NOUN"]),
    (["Dogs", "bark"], ["NOUN", "VERB"]),
    (["A", "dog", "ran", "quickly"], ["DET", "NOUN", "VERB", "ADV"]),
    (["Run"], ["VERB"]),
    (["the", "extraordinarily", "big", "cat", "slept"], ["DET", "ADV", "ADJ", "NOUN", "VERB"]),
]
VOCABS = build_tagging_vocabs(SENTS)


def val(x) -> float:
    return float(x.detach()) if isinstance(x, torch.Tensor) else float(x)


def tagger(crf=False, chars=True, cell="lstm", bi=True, seed=0, **kw):
    torch.manual_seed(seed)
    opts = dict(emsize=6, hidden_size=5, num_layers=2, cell=cell, bidirectional=bi, dropout=0.0,
                char_emsize=4, char_hidden_size=3 if chars else 0, crf=crf)
    m = Tagger(VOCABS, **{**opts, **kw}).double()
    if crf:  # non-zero transitions, so that the CRF matters
        with torch.no_grad():
            for p in (m.crf.transitions, m.crf.start, m.crf.end):
                p.copy_(torch.randn(p.shape, dtype=torch.float64))
    return m.eval()


def window_tagger(seed=0, **kw):
    torch.manual_seed(seed)
    return WindowTagger(VOCABS, **{**dict(window=2, emsize=4, hidden_size=7), **kw}).double().eval()


MODELS = {
    "softmax": lambda: tagger(),
    "crf": lambda: tagger(crf=True),
    "crf-no-chars": lambda: tagger(crf=True, chars=False),
    "gru-uni": lambda: tagger(cell="gru", bi=False),
    "rnn-crf": lambda: tagger(crf=True, cell="rnn_tanh", num_layers=1),
    "sigmoid-uni": lambda: tagger(cell="rnn_sigmoid", bi=False),
    "window": lambda: window_tagger(),
}


@pytest.mark.parametrize("name", MODELS)
def test_a_padded_batch_equals_each_sentence_alone(name):
    model = MODELS[name]()
    data = encode_sentences(SENTS, VOCABS)
    rows = [0, 3, 1, 4, 2]  # mixed lengths: every row but one is padded, words of every length
    batch = data.batch(rows)
    assert batch["chars"].shape == (5, 6, len("extraordinarily"))
    loss, n = model.loss(batch)
    alone = [model.loss(data.batch([r])) for r in rows]
    assert n == sum(k for _, k in alone) == sum(len(SENTS[r][0]) for r in rows) == batch.n_items
    assert val(loss) == pytest.approx(sum(val(x) for x, _ in alone), rel=1e-12)
    assert model.predict(batch) == [model.predict(data.batch([r]))[0] for r in rows]
    em = model.emissions(batch)
    for b, r in enumerate(rows):
        n_r = len(SENTS[r][0])
        assert torch.allclose(em[b, :n_r], model.emissions(data.batch([r]))[0], atol=1e-12, rtol=0)
    # the gradient of one sentence's loss is the same in a batch (padding leaks nothing backwards)
    model.zero_grad()
    model.loss(data.batch([1]))[0].backward()
    alone_grad = [p.grad.clone() if p.grad is not None else None for p in model.parameters()]
    model.zero_grad()
    batch.tensors["tags"][[0, 1, 3, 4]] = PAD_ID  # only row 2 (sentence 1) is scored (the CRF leaves the rest out)
    model.loss(batch)[0].backward()
    for a, p in zip(alone_grad, model.parameters(), strict=True):
        if a is None:
            assert p.grad is None or not p.grad.any()
        else:
            assert torch.allclose(a, p.grad, atol=1e-10, rtol=0)


def test_char_bilstm_of_a_word_does_not_depend_on_padding():
    model = tagger()
    data = encode_sentences(SENTS, VOCABS)
    big = data.batch([0, 4, 3])  # C = 15 ("extraordinarily"), T = 6
    feats = model.char_features(big["chars"], big["char_lengths"])
    assert feats.shape == (3, 6, 6)
    assert not feats[2, 1:].any() and not feats[1, 5:].any()  # zeros at padded words
    lstm, emb, H = model.char_encoder.rnn, model.char_encoder.embedding, 3
    for b, r in enumerate([0, 4, 3]):
        for t, word in enumerate(SENTS[r][0]):
            alone = data.batch([3]) if word == "Run" else None
            ids = torch.tensor([VOCABS["chars"].lookup(c) for c in word])
            out, _ = lstm(emb(ids)[:, None, :])  # (len, 1, 2H), the word with no padding at all
            want = torch.cat([out[-1, 0, :H], out[0, 0, H:]])  # forward at the last char, backward at the first
            assert torch.allclose(feats[b, t], want, atol=1e-12, rtol=0), word
            if alone is not None:
                assert torch.allclose(model.char_features(alone["chars"], alone["char_lengths"])[0, 0], want,
                                      atol=1e-12, rtol=0)


def test_crf_tagger_predicts_the_brute_force_argmax():
    tags = LabelSet.from_labels(["A", "B", "C"], name="tags")
    sents = [(["x", "y", "z", "x"], ["A", "B", "C", "A"]), (["y", "y"], ["B", "B"]), (["z"], ["C"])]
    vocabs = {**build_tagging_vocabs(sents), "tags": tags}
    torch.manual_seed(3)
    model = Tagger(vocabs, emsize=3, hidden_size=2, num_layers=1, char_emsize=2, char_hidden_size=2, crf=True,
                   dropout=0.0).double().eval()
    with torch.no_grad():
        for p in (model.crf.transitions, model.crf.start, model.crf.end):
            p.copy_(3 * torch.randn(p.shape, dtype=torch.float64))
    data = encode_sentences(sents, vocabs)
    batch = data.batch([0, 1, 2])
    em = model.emissions(batch)
    pred = model.predict(batch)
    crf = model.crf
    for b, (words, _) in enumerate(sents):
        n = len(words)

        def score(y, b=b, n=n):
            tr, st, en = crf.transitions, crf.start, crf.end
            s = val(st[y[0]] + em[b, 0, y[0]] + en[y[-1]])
            return s + sum(val(tr[y[t - 1], y[t]] + em[b, t, y[t]]) for t in range(1, n))

        best = max(itertools.product(range(3), repeat=n), key=score)
        assert pred[b] == list(best)
    # the softmax argmax differs somewhere: the transitions decide
    assert pred != [row[: len(s[0])] for row, s in zip(em.argmax(2).tolist(), sents, strict=True)]


def test_softmax_loss_is_the_hand_computed_cross_entropy():
    model = tagger()
    test = [(["the", "cat"], ["DET", "PROPN"]), (["Dogs", "sat", "on"], ["NOUN", "VERB", "ADP"])]
    data = encode_sentences(test, VOCABS)  # PROPN was never seen in training
    assert data.unseen == {"PROPN": 1}
    batch = data.batch([0, 1])
    assert batch["tags"][0].tolist() == [VOCABS["tags"].id("DET"), PAD_ID, PAD_ID]
    em = model.emissions(batch).detach()
    want, n = 0.0, 0
    for b, (_, tags) in enumerate(test):
        for t, tag in enumerate(tags):
            if tag not in VOCABS["tags"]:
                continue
            row = em[b, t].tolist()
            want += math.log(sum(math.exp(x) for x in row)) - row[VOCABS["tags"].id(tag)]
            n += 1
    loss, items = model.loss(batch)
    assert items == n == batch.n_items == 4
    assert val(loss) == pytest.approx(want, rel=1e-12)


def test_crf_loss_leaves_out_a_sentence_with_an_unseen_tag():
    model = tagger(crf=True)
    test = [(["the", "cat"], ["DET", "PROPN"]), (["Dogs", "sat", "on"], ["NOUN", "VERB", "ADP"])]
    data = encode_sentences(test, VOCABS)
    loss, n = model.loss(data.batch([0, 1]))
    alone, n1 = model.loss(data.batch([1]))
    assert n == n1 == 3 and val(loss) == pytest.approx(val(alone), rel=1e-12)
    assert model.loss(data.batch([0]))[1] == 0


def test_crf_nll_of_one_sentence_is_log_z_minus_its_score():
    model = tagger(crf=True)
    data = encode_sentences(SENTS[1:2], VOCABS)
    batch = data.batch([0])
    em = model.emissions(batch)[0]
    crf = model.crf

    def score(y):
        s = val(crf.start[y[0]] + em[0, y[0]] + crf.end[y[-1]])
        return s + sum(val(crf.transitions[y[t - 1], y[t]] + em[t, y[t]]) for t in range(1, len(y)))

    L = len(VOCABS["tags"])
    logz = math.log(sum(math.exp(score(y)) for y in itertools.product(range(L), repeat=2)))
    gold = VOCABS["tags"].encode(SENTS[1][1]).tolist()
    assert val(model.loss(batch)[0]) == pytest.approx(logz - score(gold), rel=1e-10)


@pytest.mark.parametrize("name", MODELS)
def test_config_round_trip_gives_identical_predictions(name):
    model = MODELS[name]()
    config = json.loads(json.dumps(model.config_dict()))
    assert config["kind"] == "tag" and config["architecture"] in ("rnn", "window")
    vocabs = {"tokens": Vocab.from_json(VOCABS["tokens"].to_json()), "chars": Vocab.from_json(VOCABS["chars"].to_json()),
              "tags": LabelSet.from_json(VOCABS["tags"].to_json())}
    again = TaggingModel.from_config(config, vocabs).double()
    assert type(again) is type(model)
    again.load_state_dict(model.state_dict())
    again.eval()
    words = [s[0] for s in SENTS] + [["unknown", "Words", "here"], []]
    assert again.tag(words) == model.tag(words)
    data = encode_sentences(SENTS, VOCABS)
    assert val(again.loss(data.batch(range(5)))[0]) == val(model.loss(data.batch(range(5)))[0])


def test_from_config_refuses_what_is_not_a_tagger():
    with pytest.raises(ConfigError, match="architecture"):
        TaggingModel.from_config({"kind": "tag", "architecture": "transformer"}, VOCABS)
    with pytest.raises(ConfigError, match="kind 'tag', got 'lm'"):
        TaggingModel.from_config({"kind": "lm", "architecture": "rnn"}, VOCABS)
    with pytest.raises(ConfigError, match="unknown option 'hidden' for a rnn tagger"):
        TaggingModel.from_config({"kind": "tag", "architecture": "rnn", "hidden": 3}, VOCABS)
    with pytest.raises(ConfigError, match="option 'window' must be an int, got '2'"):
        TaggingModel.from_config({"kind": "tag", "architecture": "window", "window": "2"}, VOCABS)
    with pytest.raises(ConfigError, match="option 'crf' must be a bool, got 1"):
        TaggingModel.from_config({"kind": "tag", "architecture": "rnn", "crf": 1}, VOCABS)
    assert TaggingModel.from_config({"architecture": "rnn", "dropout": 0, "char_hidden_size": 0}, VOCABS).hparams[
        "dropout"] == 0
    with pytest.raises(ConfigError, match="chars"):
        Tagger({"tokens": VOCABS["tokens"], "tags": VOCABS["tags"]}, char_hidden_size=10)
    with pytest.raises(ConfigError, match="bidirectional"):
        Tagger(VOCABS, cell="gru_cho", bidirectional=True)
    with pytest.raises(ConfigError, match="cell"):
        Tagger(VOCABS, cell="transformer")


def test_window_tagger_reads_the_words_around_each_token():
    model = window_tagger(window=1)
    data = encode_sentences(SENTS, VOCABS)
    batch = data.batch([1, 3])  # "Dogs bark", "Run" (padded)
    win = model.windows(batch["tokens"], batch["lengths"]).tolist()
    ids = VOCABS["tokens"].lookup
    assert win[0] == [[BOS_ID, ids("Dogs"), ids("bark")], [ids("Dogs"), ids("bark"), EOS_ID]]
    assert win[1][0] == [BOS_ID, ids("Run"), EOS_ID]  # the padded position after it is never read
    assert win[1][1][0] == ids("Run")


def test_tag_keeps_input_order_and_empty_sentences():
    model = tagger()
    words = [["the", "cat"], [], ["Dogs", "bark", "on", "the", "mat"], ["Run"]]
    tags = model.tag(words, batch_size=2)
    assert [len(t) for t in tags] == [2, 0, 5, 1]
    assert tags[2] == model.tag([words[2]])[0] and tags[0] == model.tag([words[0]])[0]


@pytest.mark.parametrize("name", ["softmax", "crf", "window"])
def test_a_short_training_run_overfits_five_sentences(name):
    torch.manual_seed(0)
    if name == "window":
        model = WindowTagger(VOCABS, window=1, emsize=16, hidden_size=32, activation="tanh")
    else:
        model = Tagger(VOCABS, emsize=16, hidden_size=16, num_layers=1, char_emsize=8, char_hidden_size=8,
                       crf=name == "crf", dropout=0.0)
    data = encode_sentences(SENTS, VOCABS)
    batch = data.batch(range(len(SENTS)))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    model.train()
    for _ in range(40):
        opt.zero_grad()
        loss, n = model.loss(batch)
        (loss / n).backward()
        opt.step()
    model.eval()
    assert model.tag([s[0] for s in SENTS]) == [s[1] for s in SENTS]


def test_word_dropout_and_frozen_embeddings():
    model = tagger(word_dropout=0.5, freeze_embeddings=True)
    assert not model.encoder.embedding.weight.requires_grad
    batch = encode_sentences(SENTS, VOCABS).batch(range(5))
    model.train()
    torch.manual_seed(0)
    ids = model._word_ids(batch)
    real = batch["tokens"] != VOCABS["tokens"].pad_id
    dropped = (ids != batch["tokens"]) & real
    assert 0 < int(dropped.sum()) < int(real.sum()) and bool((ids[dropped] == 0).all())
    assert bool((ids[~real] == VOCABS["tokens"].pad_id).all())
    model.eval()
    assert torch.equal(model._word_ids(batch), batch["tokens"])


def test_pretrained_vectors_fill_the_word_embedding(tmp_path):
    path = tmp_path / "vec.txt"
    path.write_text("cat 1 2 3 4 5 6\nzebra 0 0 0 0 0 1\n")
    model = tagger()
    assert model.load_pretrained(path) == pytest.approx(1 / len(VOCABS["tokens"]))
    row = model.encoder.embedding.weight[VOCABS["tokens"].lookup("cat")]
    assert row.tolist() == [1, 2, 3, 4, 5, 6]


def test_lowercased_vocabulary_is_used_when_tagging():
    vocabs = build_tagging_vocabs(SENTS, lowercase=True)
    assert "the" in vocabs["tokens"] and "The" not in vocabs["tokens"] and "T" in vocabs["chars"]
    data = encode_tagging([["THE", "Cat"]], vocabs)
    assert data.tokens[0].tolist() == [vocabs["tokens"].lookup("the"), vocabs["tokens"].lookup("cat")]
