"""The Python API's conditional LM (lmlab.ConditionalGenerator), beside the other task models'
(tests/neural/test_task_model_api.py): the toy (label A always says "a a", B "b b") learnt; fit is
``lmlab train --kind conditional-lm`` (identical weights, steps and run record) for labels and for
feature vectors; CLI checkpoints in the API and API checkpoints in the CLI generate identical
samples at a fixed seed and give identical ``lmlab evaluate --json`` reports; one clear LmlabError
for each bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import lmlab  # noqa: E402
from lmlab.errors import (  # noqa: E402
    ConfigError,
    CorpusError,
    InputTypeError,
    KindMismatchError,
    LmlabError,
    NotFittedError,
    UnknownLabelError,
)
from lmlab.models.neural.checkpoint import read_tensors  # noqa: E402
from tests.cli_run import cli  # noqa: E402

LABELLED = [("a a", "A") if i % 2 else ("b b", "B") for i in range(40)]
DEV = [("a a", "A"), ("b b", "B")]
TEXTS = [t for t, _ in LABELLED]
VECTORS = np.array([[1.0, 0.0] if i % 2 else [0.0, 1.0] for i in range(40)])
SMALL = {"emsize": 8, "nhid": 16}
FLAGS = ["--emsize", 8, "--nhid", 16]
FIT = {"batch_size": 8, "threads": 1, "quiet": True, "lr": 0.02}
FIT_FLAGS = ["--batch_size", 8, "--threads", 1, "--quiet", "--lr", 0.02]


@pytest.fixture(scope="module")
def labelled():
    return lmlab.ConditionalGenerator(**SMALL).fit(LABELLED, DEV, epochs=12, **FIT)


@pytest.fixture(scope="module")
def featured():
    return lmlab.ConditionalGenerator(**SMALL).fit(TEXTS, features=VECTORS, epochs=12, **FIT)


def _files(tmp_path):
    (tmp_path / "train.txt").write_text("".join(f"{y} {t}\n" for t, y in LABELLED))
    (tmp_path / "valid.txt").write_text("".join(f"{y} {t}\n" for t, y in DEV))
    (tmp_path / "t.txt").write_text("".join(t + "\n" for t in TEXTS))
    (tmp_path / "f.txt").write_text("".join(" ".join(map(str, v)) + "\n" for v in VECTORS))
    return tmp_path


def test_the_toy_is_learnt(labelled, featured):
    for label, words in (("A", "a a"), ("B", "b b")):
        assert labelled.generate(label=label, n=20, seed=1) == [words] * 20
        [(best, log10p)] = labelled.generate(label=label, beam=3, scores=True)
        assert best == words and -0.5 < log10p <= 0
    mixture = labelled.generate(n=30, seed=2)  # no label: the labels' mixture, both kinds of sentence
    assert {"a a", "b b"} <= set(mixture) and sum(x in ("a a", "b b") for x in mixture) >= 27
    assert featured.generate(features=[[1, 0], [0, 1], [1, 0]], greedy=True) == ["a a", "b b", "a a"]
    assert featured.generate(features=np.array([0.0, 1.0]), n=2, seed=3) == ["b b", "b b"]
    assert len(labelled.history) == 12 and labelled.history[-1]["valid_perplexity"] < 1.2


def test_evaluate_and_perplexity_agree_and_order_the_conditions(labelled, featured):
    rep = labelled.evaluate(DEV)
    ppl = {k: v["perplexity"] for k, v in rep["perplexity"].items()}
    assert set(ppl) == {"true", "flipped", "label A", "label B", "unconditional"} and rep["tokens"] == 6
    assert ppl["true"] < 1.2 < ppl["unconditional"] < ppl["flipped"]
    texts = [t for t, _ in DEV]
    assert labelled.perplexity(texts, label="A") == pytest.approx(ppl["label A"], rel=1e-12)
    assert labelled.perplexity(texts) == pytest.approx(ppl["unconditional"], rel=1e-12)
    # the true figure by hand: each sentence given its own label
    a, b = labelled.perplexity(["a a"], label="A"), labelled.perplexity(["b b"], label="B")
    assert ppl["true"] == pytest.approx((a ** 3 * b ** 3) ** (1 / 6), rel=1e-9)
    feats = featured.evaluate(TEXTS, features=VECTORS)["perplexity"]
    assert feats["true"]["perplexity"] < 1.2 < 10 < feats["shuffled"]["perplexity"]
    assert featured.evaluate(list(zip(TEXTS, VECTORS))) == featured.evaluate(TEXTS, features=VECTORS)
    assert featured.perplexity(TEXTS, features=VECTORS) == pytest.approx(feats["true"]["perplexity"], rel=1e-12)
    assert featured.perplexity(["a a", "a a"], features=[1, 0]) == pytest.approx(
        featured.perplexity(["a a"], features=[[1, 0]]), rel=1e-9)  # one vector for all = each its own


CASES = {  # (API data, API keywords, CLI data flags of the files in _files, generation keywords, as flags)
    "label": (lambda: (LABELLED, DEV), {}, ["--train", "train.txt", "--valid", "valid.txt"],
              {"label": "A"}, ["--label", "A"]),
    "features": (lambda: (TEXTS, None), {"features": VECTORS}, ["--train", "t.txt", "--features", "f.txt"],
                 {"features": [[1, 0], [0, 1]]}, ["--features", "g.txt"]),
}


@pytest.mark.parametrize("case", CASES)
def test_fit_is_lmlab_train_and_checkpoints_generate_alike_both_ways(case, tmp_path, capsys):
    data, keywords, data_flags, condition, condition_flags = CASES[case]
    d = _files(tmp_path)
    (d / "g.txt").write_text("1 0\n0 1\n")
    code, _, err = cli(capsys, "train", "--kind", "conditional-lm", *(d / f if f.endswith(".txt") else f
                                                                      for f in data_flags),
                       *FLAGS, *FIT_FLAGS, "--epochs", 2, "--save", d / "cli")
    assert code == 0, err
    api = lmlab.ConditionalGenerator(**SMALL).fit(*data(), **keywords, epochs=2, save=d / "api", **FIT)
    for name in ("model.safetensors", "last.safetensors"):
        a, _ = read_tensors(d / "cli" / name)
        b, _ = read_tensors(d / "api" / name)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    assert (d / "cli" / "steps.jsonl").read_text() == (d / "api" / "steps.jsonl").read_text()
    cli_state, api_state = (json.loads((d / r / "trainer_state.json").read_text()) for r in ("cli", "api"))
    untimed = [[{k: v for k, v in e.items() if k not in ("items_per_s", "seconds")} for e in s.pop("history")]
               for s in (cli_state, api_state)]
    assert untimed[0] == untimed[1] and len(untimed[0]) == 2  # losses, dev perplexities, gradient norms
    assert cli_state.keys() == api_state.keys()
    assert all(cli_state[k] == api_state[k] for k in cli_state if k != "source")
    assert sorted(p.name for p in (d / "cli").iterdir()) == sorted(p.name for p in (d / "api").iterdir())
    # the CLI's checkpoint in the API and the API's in the CLI: the same samples at a fixed seed
    loaded = lmlab.ConditionalGenerator.load(d / "cli")
    knobs = ["-n", 4, "--seed", 7, "--temperature", 3, "--top_k", 5, "--top_p", 0.99, "--max_tokens", 6]
    want = loaded.generate(**condition, n=4, seed=7, temperature=3.0, top_k=5, top_p=0.99, max_tokens=6)
    assert api.generate(**condition, n=4, seed=7, temperature=3.0, top_k=5, top_p=0.99, max_tokens=6) == want
    assert len(set(want)) > 1  # at temperature 3 the samples differ: the seed is what makes them equal
    for folder in ("cli", "api"):
        code, out, err = cli(capsys, "generate", d / folder, *(d / f if f == "g.txt" else f for f in condition_flags),
                             *knobs)
        assert code == 0, err
        assert out.splitlines() == want
        code, out, err = cli(capsys, "generate", d / folder, *(d / f if f == "g.txt" else f for f in condition_flags),
                             "--beam", 2, "--scores", "--prompt", "a")
        assert code == 0, err
        assert out.splitlines() == [f"{s:.3f}\t{t}" for t, s in api.generate(**condition, beam=2, scores=True,
                                                                            prompt="a")]


def test_evaluate_equals_lmlab_evaluate_json(labelled, featured, tmp_path, capsys):
    d = _files(tmp_path)
    labelled.save(d / "lab")
    featured.save(d / "feat")
    for folder, flags, report in ((d / "lab", ["--test", d / "train.txt"], lambda: labelled.evaluate(LABELLED)),
                                  (d / "feat", ["--test", d / "t.txt", "--features", d / "f.txt"],
                                   lambda: featured.evaluate(TEXTS, features=VECTORS))):
        code, out, err = cli(capsys, "evaluate", folder, *flags, "--json")
        assert code == 0, err
        assert json.loads(out) == json.loads(json.dumps(report()))


def test_save_and_load_round_trip_to_identical_samples(labelled, tmp_path):
    labelled.save(tmp_path / "m")
    again = lmlab.ConditionalGenerator.load(tmp_path / "m")
    knobs = {"n": 5, "seed": 11, "temperature": 3.0}
    assert again.generate(label="B", **knobs) == labelled.generate(label="B", **knobs)
    assert again.evaluate(DEV) == labelled.evaluate(DEV)
    assert "loaded" in repr(again) and "trained, 12 epochs" in repr(labelled)
    with pytest.raises(ConfigError, match="already holds a model"):
        labelled.save(tmp_path / "m")
    with pytest.raises(KindMismatchError, match=r"conditional language model \(conditional-lm\)"):
        lmlab.TextClassifier.load(tmp_path / "m")


@pytest.mark.slow  # ~10 s: reading SST-2, two runs and two resumes, each scoring its dev split
def test_a_named_dataset_run_is_lmlab_trains_and_resumes_in_the_cli(data_root, tmp_path, capsys, monkeypatch):
    api = lmlab.ConditionalGenerator(emsize=8, nhid=8).fit("sst2", dry_run=True, epochs=1, save=tmp_path / "api",
                                                           batch_size=8, threads=1, quiet=True)
    code, _, err = cli(capsys, "train", "--kind", "conditional-lm", "--data", "sst2", "--emsize", 8, "--nhid", 8,
                       "--dry-run", "--epochs", 1, "--batch_size", 8, "--threads", 1, "--quiet", "--save",
                       tmp_path / "cli")
    assert code == 0, err
    a, b = (json.loads((tmp_path / r / "trainer_state.json").read_text()) for r in ("api", "cli"))
    assert a["source"] == b["source"] == api.source and a["source"]["data"] == "sst2"
    for run in ("api", "cli"):
        code, _, err = cli(capsys, "train", "--resume", "--save", tmp_path / run, "--epochs", 2, "--max_batches", 2,
                           "--quiet")
        assert code == 0, err
    x, _ = read_tensors(tmp_path / "api" / "last.safetensors")
    y, _ = read_tensors(tmp_path / "cli" / "last.safetensors")
    assert x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)
    assert api.model.labels.labels == ("0", "1") and sum(api.config["label_prior"]) == pytest.approx(1.0)
    # the report of a named split (its first 20 sentences: scoring all of them is slow) as lmlab evaluate --data's
    from lmlab.data import tasks

    split = tasks.classification_split
    monkeypatch.setattr(tasks, "classification_split", lambda name, part, fold=None: split(name, part, fold)[:20])
    code, out, err = cli(capsys, "evaluate", tmp_path / "cli", "--data", "sst2", "--split", "test", "--json")
    assert code == 0, err
    rep = lmlab.ConditionalGenerator.load(tmp_path / "cli").evaluate("sst2", split="test")
    assert json.loads(out) == json.loads(json.dumps(rep)) and rep["sentences"] == 20


def test_import_lmlab_and_naming_the_generator_do_not_import_torch():
    code = ("import sys, lmlab\nlmlab.ConditionalGenerator(nhid=8)\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n"
            "assert 'ConditionalGenerator' in lmlab.__all__\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_the_hyper_parameters_are_lmlab_trains_defaults():
    from lmlab.cli._task_train import from_args, train_options
    from lmlab.cli.main import build_parser
    from lmlab.train import conditional_run
    from lmlab.train.runs import train_config

    args = build_parser().parse_args(["train", "--kind", "conditional-lm", "--data", "sst2", "--save", "y"])
    given = getattr(args, "_given", frozenset())
    assert from_args(conditional_run.ConditionalSettings, args, given, conditional_run.DEFAULTS) == \
        lmlab.ConditionalGenerator().settings
    cli_config = train_config(conditional_run.DEFAULTS, **train_options(args, given, conditional_run.DEFAULTS))
    assert cli_config == train_config(conditional_run.DEFAULTS, progress=True)
    assert (cli_config.epochs, cli_config.optimizer, cli_config.clip, cli_config.batch_size) == (10, "adam", 1.0, 32)


G = lmlab.ConditionalGenerator


@pytest.mark.parametrize("call, error, words", [
    (lambda lab, feat: G().generate(label="A"), NotFittedError, "not trained yet; call fit"),
    (lambda lab, feat: G().evaluate(DEV), NotFittedError, "not trained yet"),
    (lambda lab, feat: G().perplexity(["a a"]), NotFittedError, "not trained yet"),
    (lambda lab, feat: lab.generate(label="C"), UnknownLabelError, "unknown label 'C'; the model's labels: A, B"),
    (lambda lab, feat: lab.perplexity(["a a"], label="C"), UnknownLabelError, "unknown label 'C'"),
    (lambda lab, feat: lab.evaluate([("a a", "C")]), UnknownLabelError,
     "no sentence has a label the model was trained with (its labels: A, B; the test labels: C)"),
    (lambda lab, feat: lab.generate(label=1), InputTypeError, "a label is a string, got int 1"),
    (lambda lab, feat: G(**SMALL).fit([("A", "a a"), ("B", "b b")] * 10, DEV), ConfigError,
     "train: example 1: the label 'a a' has spaces"),
    (lambda lab, feat: lab.generate(features=[1, 0]), ConfigError, "conditioned on labels (A, B); give label="),
    (lambda lab, feat: lab.evaluate(TEXTS, features=VECTORS), ConfigError, "conditioned on labels"),
    (lambda lab, feat: feat.generate(features=[1, 0, 0]), ConfigError, "vectors of dimension 3, but the model's are "
                                                                       "of dimension 2"),
    (lambda lab, feat: feat.perplexity(["a a"], features=[[1, 0, 0]]), ConfigError, "of dimension 3"),
    (lambda lab, feat: feat.evaluate([("a a", [1, 0, 0])]), ConfigError, "of dimension 3"),
    (lambda lab, feat: feat.perplexity(["a a"] * 3, features=[[1, 0]] * 2), ConfigError, "3 texts but 2 feature"),
    (lambda lab, feat: feat.generate(), ConfigError, "give features="),
    (lambda lab, feat: feat.generate(label="A"), ConfigError, "conditioned on feature vectors of dimension 2"),
    (lambda lab, feat: feat.evaluate("sst2"), ConfigError, "conditioned on feature vectors"),
    (lambda lab, feat: feat.generate(features=[[1, float("nan")]]), ConfigError, "vector 1: a value that is not"),
    (lambda lab, feat: lab.generate(label="A", beam=2, seed=1), ConfigError, "seed has no effect with beam"),
    (lambda lab, feat: lab.generate(label="A", greedy=True, temperature=0.5), ConfigError, "temperature has no effect"),
    (lambda lab, feat: lab.generate(label="A", n=0), ConfigError, "n must be an integer >= 1"),
    (lambda lab, feat: G(**SMALL).fit([("a a", 1)] * 30, epochs=1), InputTypeError, "example 1: a condition is a "
                                                                                      "label (a string)"),
    (lambda lab, feat: G(**SMALL).fit([("a a", "A"), ("b b", [1.0])] * 10), InputTypeError,
     "example 2: a label (a string) as example 1's, got list [1.0]"),
    (lambda lab, feat: G(**SMALL).fit([("a a", [1.0]), ("b b", "B")] * 10), InputTypeError,
     "example 2: a feature vector (a sequence of numbers) as example 1's, got str 'B'"),
    (lambda lab, feat: G(**SMALL).fit([("a a", [1, 0]), ("b b", [1.0])] * 10), ConfigError,
     "example 2: a vector of dimension 1, but example 1's is of dimension 2"),
    (lambda lab, feat: G(**SMALL).fit(LABELLED, list(zip(TEXTS, VECTORS))), ConfigError,
     "dev: the training data's conditions are labels, these are feature vectors"),
    (lambda lab, feat: G(**SMALL).fit(TEXTS, [("a a", [1, 0, 0])], features=VECTORS), ConfigError, "dimension 3"),
    (lambda lab, feat: G(**SMALL).fit(TEXTS, features=VECTORS[:3]), ConfigError, "40 texts but 3 feature vectors"),
    (lambda lab, feat: G(**SMALL).fit(LABELLED, features=VECTORS), InputTypeError, "not (text, condition) pairs"),
    (lambda lab, feat: G(**SMALL).fit(LABELLED[:5]), ConfigError, "too few to hold out"),
    (lambda lab, feat: G(**SMALL).fit(TEXTS[:1], features=VECTORS[:1]), ConfigError, "too few to hold one out"),
    (lambda lab, feat: G(**SMALL).fit([]), CorpusError, "no examples"),
    (lambda lab, feat: G(**SMALL).fit("mr"), ConfigError, "mr has no fixed split"),
    (lambda lab, feat: G(**SMALL).fit("sst9"), ConfigError, "unknown labelled dataset 'sst9'; known: sst2, sst5"),
    (lambda lab, feat: G(**SMALL).fit("sst2", features=VECTORS), ConfigError, "features="),
    (lambda lab, feat: G(**SMALL).fit(LABELLED, DEV, epochs=0), ConfigError, "epochs must be >= 1"),
    (lambda lab, feat: G(unidirectional=True), ConfigError, "unknown hyper-parameter unidirectional"),
    (lambda lab, feat: G(model="window"), ConfigError, "model must be one of"),
    (lambda lab, feat: G(condition_size=0), ConfigError, "condition_size must be an integer >= 1"),
])
def test_bad_input_is_one_lmlab_error(labelled, featured, call, error, words):
    with pytest.raises(error) as info:
        call(labelled, featured)
    assert isinstance(info.value, LmlabError) and words in str(info.value) and "\n" not in str(info.value)
