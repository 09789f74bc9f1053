"""The conditional LM (one-to-many) through the API: a padded batch equals each sentence alone,
batched scoring equals stepping, beam 1 equals greedy, the labels' mixture is the brute-force
marginal, feature files are checked line by line, and batches hold what the model reads."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lmlab.data.features import parse_features, read_aligned, read_features, write_features
from lmlab.errors import ConfigError, CorpusError, DataFormatError, UnknownLabelError
from lmlab.generate.beam import lm_beam_search
from lmlab.generate.decode import generate
from lmlab.models.neural.conditional import ConditionalLM
from lmlab.models.neural.conditioned import ConditionedLM, label_marginal, token_logprobs
from lmlab.models.posterior_mixture import PosteriorMixture
from lmlab.tensors.conditional import conditional_batches
from lmlab.text.labels import LabelSet
from lmlab.text.vocab import Vocab

TEXTS = ["a b c", "c", "b b a c a", "", "a c b b"]
VOCAB = Vocab.build([t.split() for t in TEXTS])
LABELS = LabelSet.build(["neg", "pos", "neu"])


def model(condition: str, cell: str = "lstm", layers: int = 2, seed: int = 0) -> ConditionalLM:
    torch.manual_seed(seed)
    kw = {"feature_size": 3} if condition == "features" else {}
    m = ConditionalLM(VOCAB, LABELS if condition == "label" else None, emsize=6, hidden_size=5, num_layers=layers,
                      cell=cell, condition_size=4, **kw)
    for p in m.parameters():  # large weights: distributions far from uniform, so a leak would show
        torch.nn.init.uniform_(p, -1.0, 1.0)
    return m.eval()


def conditions(condition: str, n: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, len(LABELS), n) if condition == "label" else rng.normal(size=(n, 3))


def loss_of(m, batch):
    loss, n = m.loss(batch)
    return float(loss.detach()), n


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_sigmoid"])
@pytest.mark.parametrize("condition", ["label", "features"])
def test_a_padded_batch_gives_the_same_loss_and_scores_as_each_sentence_alone(condition, cell):
    m = model(condition, cell)
    cond = conditions(condition, len(TEXTS))
    (batch,) = conditional_batches(TEXTS, cond, VOCAB, batch_size=len(TEXTS))
    assert batch["target_input"].shape[1] == 6  # padded to the longest: "b b a c a" and <s>
    loss, n = loss_of(m, batch)
    assert n == sum(len(t.split()) + 1 for t in TEXTS) == batch.n_items
    alone = [loss_of(m, conditional_batches([t], cond[i : i + 1], VOCAB)[0]) for i, t in enumerate(TEXTS)]
    assert n == sum(k for _, k in alone)
    assert float(loss) == pytest.approx(sum(float(x) for x, _ in alone), rel=1e-5)
    got = dict(zip(batch.index, m.predict(batch), strict=True))
    for i, t in enumerate(TEXTS):
        (one,) = m.predict(conditional_batches([t], cond[i : i + 1], VOCAB)[0])
        np.testing.assert_allclose(got[i], one, rtol=1e-5, atol=1e-6)
        assert len(one) == len(t.split()) + 1
    # the loss is the summed negative log-likelihood that predict reports
    assert float(loss) == pytest.approx(-sum(float(np.sum(v)) for v in got.values()), rel=1e-5)


@pytest.mark.parametrize("condition", ["label", "features"])
def test_batched_scoring_equals_stepping_and_rows_sum_to_one(condition):
    m = model(condition)
    lm = ConditionedLM(m, label="pos") if condition == "label" else ConditionedLM(m, features=[0.5, -1.0, 2.0])
    enc = [lm.encode(t) for t in TEXTS]
    batched = lm.corpus_token_logprobs(enc)
    for e, b in zip(enc, batched, strict=True):
        np.testing.assert_allclose(b, lm.token_logprobs(e), rtol=1e-5, atol=1e-6)
    lp = lm.next_logprobs([lm.begin_state()])[0]
    assert lp[VOCAB.bos_id] == -np.inf and np.exp(lp).sum() == pytest.approx(1.0)


def test_the_condition_changes_the_distribution_and_an_unknown_label_is_named():
    m = model("label")
    a, b = (ConditionedLM(m, label=x).next_logprobs([ConditionedLM(m, label=x).begin_state()])[0]
            for x in ("neg", "pos"))
    keep = np.isfinite(a)
    assert np.abs(a[keep] - b[keep]).max() > 1e-3
    with pytest.raises(UnknownLabelError, match="unknown label 'meh'; the model's labels: neg, neu, pos"):
        ConditionedLM(m, label="meh")


@pytest.mark.parametrize("condition", ["label", "features"])
def test_beam_1_equals_greedy(condition):
    m = model(condition, layers=1)
    lms = ([ConditionedLM(m, label=x) for x in LABELS.labels] if condition == "label"
           else [ConditionedLM(m, features=v) for v in conditions("features", 4)])
    for lm in lms:
        g = generate(lm, greedy=True, max_tokens=12, banned=())
        h = lm_beam_search(lm, beam=1, max_len=12, banned=())[0]
        assert [lm.vocab[t] for t in h.tokens] == g.tokens
        assert h.finished == g.stopped
        assert h.logprob == pytest.approx(sum(g.logprobs), abs=1e-9)


def test_samples_are_seeded():
    lm = ConditionedLM(model("label"), label="neu")
    assert [generate(lm, seed=s).tokens for s in range(5)] == [generate(lm, seed=s).tokens for s in range(5)]
    assert len({tuple(generate(lm, seed=s).tokens) for s in range(20)}) > 1


def test_the_unconditional_model_is_the_brute_force_marginal_over_labels():
    m = ConditionalLM(VOCAB, LABELS, emsize=6, hidden_size=5, label_prior=[0.2, 0.5, 0.3])
    assert m.label_prior.tolist() == pytest.approx([0.2, 0.5, 0.3])
    mix = label_marginal(m)
    parts = [ConditionedLM(m, label=x) for x in LABELS.labels]
    enc = [mix.encode(t) for t in TEXTS]
    batched = mix.corpus_token_logprobs(enc)
    for e, b in zip(enc, batched, strict=True):
        brute = math.log(sum(p * math.exp(float(np.sum(c.token_logprobs(e)))) for p, c in zip([0.2, 0.5, 0.3], parts, strict=True)))
        assert float(np.sum(b)) == pytest.approx(brute, abs=1e-5)
        np.testing.assert_allclose(b, mix.token_logprobs(e), atol=1e-5)  # stepping the posterior
    state = mix.advance(mix.begin_state(), VOCAB.lookup("a"))
    assert np.exp(mix.next_logprobs([state])[0]).sum() == pytest.approx(1.0)
    assert math.exp(_logsumexp(state[1])) == pytest.approx(1.0)  # the posterior over the labels
    with pytest.raises(UnknownLabelError):
        label_marginal(model("features"))


def _logsumexp(x):
    x = np.asarray(x)
    return float(x.max() + np.log(np.exp(x - x.max()).sum()))


def test_a_posterior_mixture_of_one_model_is_that_model():
    lm = ConditionedLM(model("label"), label="neg")
    mix = PosteriorMixture([lm], [1.0])
    e = lm.encode("a b c")
    np.testing.assert_allclose(mix.corpus_token_logprobs([e])[0], lm.corpus_token_logprobs([e])[0], atol=1e-9)


def test_token_logprobs_take_a_condition_per_sentence():
    m = model("label")
    enc = [VOCAB.encode(t.split()) for t in TEXTS]
    ids = np.array([0, 1, 2, 1, 0])
    per = token_logprobs(m, enc, ids)
    for e, i, got in zip(enc, ids, per, strict=True):
        np.testing.assert_allclose(got, ConditionedLM(m, label=LABELS[int(i)]).token_logprobs(e), atol=1e-5)


@pytest.mark.parametrize("condition", ["label", "features"])
def test_a_checkpoint_round_trips_to_identical_samples(condition, tmp_path):
    from lmlab.models.neural.checkpoint import load_checkpoint, save_checkpoint

    m = model(condition)
    save_checkpoint(tmp_path / "m", m, m.vocabs)
    again, vocabs, config = load_checkpoint(tmp_path / "m", kind="conditional-lm")
    assert config["condition"] == condition and set(vocabs) == set(m.vocabs)
    given = {"label": "neu"} if condition == "label" else {"features": [1.0, 2.0, 3.0]}
    lm, lm2 = ConditionedLM(m, **given), ConditionedLM(again, **given)
    for seed in range(5):
        a, b = generate(lm, seed=seed, temperature=2.0), generate(lm2, seed=seed, temperature=2.0)
        assert a.tokens == b.tokens and a.logprobs == pytest.approx(b.logprobs, abs=1e-9)


def test_a_config_with_unknown_or_conflicting_settings_is_refused():
    m = model("features")
    with pytest.raises(ConfigError, match="unknown conditional LM settings: nope"):
        ConditionalLM.from_config({**m.config_dict(), "nope": 1}, m.vocabs)
    with pytest.raises(ConfigError, match="labels or on feature vectors"):
        ConditionalLM(VOCAB, LABELS, feature_size=3)


# -- feature files -----------------------------------------------------------------------------
def test_feature_files_round_trip_exactly(tmp_path):
    v = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    write_features(tmp_path / "f.txt", v)
    got = read_features(tmp_path / "f.txt")
    assert got.dtype == np.float64 and np.array_equal(got.astype(np.float32), v)
    assert (tmp_path / "f.txt").read_text().count("\n") == 4


@pytest.mark.parametrize("lines,dim,message", [
    (["1 2 3", "4 5", "6 7 8"], None, "f.txt: line 2: expected a vector of dimension 3, found 2 values"),
    (["1 2 3", "4 5 6 7"], None, "f.txt: line 2: expected a vector of dimension 3, found 4 values"),
    (["1 2", "3 x"], None, "f.txt: line 2: expected 2 floats, found 'x', not a number"),
    (["1 2", "3 nan"], None, "f.txt: line 2: expected 2 finite floats, found 'nan'"),
    (["", "1 2"], None, "f.txt: line 1: a feature vector"),
    (["1 2", ""], None, "f.txt: line 2: expected a vector of dimension 2, found 0 values"),
    (["1 2 3"], 2, "f.txt: line 1: expected a vector of dimension 2, found 3 values"),
])
def test_a_bad_feature_line_is_named_with_its_number_and_the_dimensions(lines, dim, message):
    with pytest.raises(DataFormatError) as e:
        parse_features(lines, "f.txt", dim)
    assert message in str(e.value)


def test_text_and_features_must_have_the_same_number_of_lines(tmp_path):
    (tmp_path / "t.txt").write_text("a b\nc\nd\n")
    (tmp_path / "f.txt").write_text("1 2\n3 4\n")
    with pytest.raises(CorpusError, match=r"t.txt has 3 lines but .*f.txt has 2 feature vectors"):
        read_aligned(tmp_path / "t.txt", tmp_path / "f.txt")
    (tmp_path / "e.txt").write_text("")
    with pytest.raises(CorpusError, match="empty"):
        read_features(tmp_path / "e.txt")
