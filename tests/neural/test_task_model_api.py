"""The Python API's task models (lmlab.SequenceTagger, TextClassifier, Translator): toy tasks learnt
to 100% on their training data, the same run as ``lmlab train`` (identical weights and steps),
save/load round trips, CLI checkpoints in the API and API checkpoints in the CLI with identical
predictions and reports, and one clear LmlabError for each bad input."""

from __future__ import annotations

import json
import random
import subprocess
import sys

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
)
from lmlab.models.neural.checkpoint import read_tensors  # noqa: E402
from tests.cli_run import cli  # noqa: E402

RNG = random.Random(7)
WORDS = "the cat dog sat ran on a mat big".split()
# tags = word identity (each word its own tag)
TAGGED = [(s, [w.upper() for w in s]) for s in
          ([RNG.choice(WORDS) for _ in range(RNG.randint(2, 6))] for _ in range(40))]
# label = presence of the word "good"
FILLER = "the film was plot acting very quite long".split()
LABELLED = []
for i in range(40):
    s = [RNG.choice(FILLER) for _ in range(RNG.randint(2, 5))]
    if i % 2 == 0:
        s.insert(RNG.randint(0, len(s)), "good")
    LABELLED.append((" ".join(s), "pos" if i % 2 == 0 else "neg"))
# target = source (copy), 4 tokens: BLEU is defined (4-grams) and 100 when learnt
PAIRS = [(s, s) for s in (" ".join(RNG.choice("a b c d e".split()) for _ in range(4)) for _ in range(40))]

TAG = {"emsize": 16, "nhid": 16, "nlayers": 1, "char_hidden": 0, "dropout": 0.0}
CLS = {"emsize": 16, "nhid": 16, "nlayers": 1, "dropout": 0.0}
S2S = {"emsize": 16, "nhid": 24, "dropout": 0.0}
FIT = {"batch_size": 8, "threads": 1, "quiet": True}


@pytest.fixture(scope="module")
def tagger():
    return lmlab.SequenceTagger(**TAG).fit(TAGGED, TAGGED, epochs=8, lr=0.05, **FIT)


@pytest.fixture(scope="module")
def classifier():
    return lmlab.TextClassifier(**CLS).fit(LABELLED, LABELLED, epochs=10, lr=0.02, **FIT)


@pytest.fixture(scope="module")
def translator():
    return lmlab.Translator(**S2S).fit(PAIRS, PAIRS, epochs=12, lr=0.03, **FIT)


def test_the_tagger_learns_word_identity(tagger):
    assert tagger.predict([w for w, _ in TAGGED]) == [t for _, t in TAGGED]
    assert tagger.predict(["the cat sat", [], ["a", "dog"]]) == [["THE", "CAT", "SAT"], [], ["A", "DOG"]]
    rep = tagger.evaluate(TAGGED)
    assert rep["accuracy"] == 1.0 and rep["per_class"]["CAT"]["f1"] == 1.0
    assert len(tagger.history) == 8 and tagger.history[-1]["valid_accuracy"] == 1.0


def test_the_classifier_learns_the_presence_of_a_word(classifier):
    assert classifier.predict([t for t, _ in LABELLED]) == [y for _, y in LABELLED]
    assert classifier.predict(["good film", "", "long plot".split()]) == ["pos", None, "neg"]
    rep = classifier.evaluate(LABELLED)
    assert rep["accuracy"] == 1.0 and rep["macro_f1"] == 1.0


def test_the_translator_learns_to_copy(translator):
    sources = [s for s, _ in PAIRS]
    assert translator.predict(sources) == sources
    assert translator.predict(sources, beam=3) == sources  # beam search agrees with greedy decoding here
    assert translator.predict([s.split() for s in sources[:2]] + [""]) == sources[:2] + [""]
    rep = translator.evaluate(PAIRS, beam=2)
    assert rep["tokenized"]["score"] == pytest.approx(100.0) and "tok:none" in rep["tokenized"]["signature"]
    assert rep["beam"] == 2 and rep["sentences"] == len(PAIRS)


@pytest.mark.parametrize("name", ["tagger", "classifier", "translator"])
def test_save_and_load_round_trip_to_identical_predictions(name, request, tmp_path):
    api = request.getfixturevalue(name)
    inputs = {"tagger": [w for w, _ in TAGGED], "classifier": [t for t, _ in LABELLED],
              "translator": [s for s, _ in PAIRS]}[name]
    api.save(tmp_path / "m")
    again = type(api).load(tmp_path / "m")
    assert again.predict(inputs) == api.predict(inputs)
    a, _ = read_tensors(tmp_path / "m" / "model.safetensors")
    assert all(torch.equal(a[k], v) for k, v in api.model.state_dict().items())
    with pytest.raises(ConfigError, match="already holds a model"):
        api.save(tmp_path / "m")
    api.save(tmp_path / "m", overwrite=True)
    assert type(api).load(tmp_path / "m").predict(inputs) == api.predict(inputs)


# -- the same run as lmlab train, both ways --------------------------------------------------
def _tag_files(tmp_path):
    f = tmp_path / "tags.tsv"
    f.write_text("".join("".join(f"{w}\t{t}\n" for w, t in zip(ws, ts)) + "\n" for ws, ts in TAGGED))
    return ["--train", f, "--valid", f], f


def _cls_files(tmp_path):
    f = tmp_path / "labelled.txt"
    f.write_text("".join(f"{y} {t}\n" for t, y in LABELLED))
    return ["--train", f, "--valid", f], f


def _s2s_files(tmp_path):
    src, tgt = tmp_path / "s.txt", tmp_path / "t.txt"
    src.write_text("".join(s + "\n" for s, _ in PAIRS))
    tgt.write_text("".join(t + "\n" for _, t in PAIRS))
    return ["--train_source", src, "--train_target", tgt, "--valid_source", src, "--valid_target", tgt], (src, tgt)


KINDS = {  # kind: (API class, model options as flags, API keywords, data files, in-memory data)
    "tag": (lmlab.SequenceTagger, ["--emsize", 16, "--nhid", 16, "--nlayers", 1, "--char_hidden", 0, "--dropout", 0],
            TAG, _tag_files, TAGGED),
    "classify": (lmlab.TextClassifier, ["--emsize", 16, "--nhid", 16, "--nlayers", 1, "--dropout", 0], CLS,
                 _cls_files, LABELLED),
    "seq2seq": (lmlab.Translator, ["--emsize", 16, "--nhid", 24, "--dropout", 0], S2S, _s2s_files, PAIRS),
}


# other models of a kind: (kind, model options as flags, API keywords)
VARIANTS = {"tag-window": ("tag", ["--model", "window", "--context", 1, "--emsize", 8, "--nhid", 8],
                           {"model": "window", "context": 1, "emsize": 8, "nhid": 8}),
            "tag-chars-crf": ("tag", ["--emsize", 8, "--nhid", 8, "--nlayers", 1, "--char_emsize", 4, "--char_hidden", 4,
                                      "--crf", "--lowercase", "--model", "gru"],
                              {"emsize": 8, "nhid": 8, "nlayers": 1, "char_emsize": 4, "char_hidden": 4, "crf": True,
                               "lowercase": True, "model": "gru"}),
            "classify-last-uni": ("classify", ["--pooling", "last", "--unidirectional", "--emsize", 8, "--nhid", 8],
                                  {"pooling": "last", "unidirectional": True, "emsize": 8, "nhid": 8}),
            "seq2seq-luong": ("seq2seq", ["--attention", "general", "--input_feed", "--model", "lstm", "--emsize", 8,
                                          "--nhid", 8, "--decoder_hidden", 12],
                              {"attention": "general", "input_feed": True, "model": "lstm", "emsize": 8, "nhid": 8,
                               "decoder_hidden": 12})}


@pytest.mark.parametrize("case", [*KINDS, *VARIANTS])
def test_fit_is_lmlab_train_and_checkpoints_cross_over(case, tmp_path, capsys):
    """API fit(save=...) and lmlab train on the same data and options: identical weights, steps
    and run record; the CLI's checkpoint in the API and the API's in the CLI predict alike."""
    kind = VARIANTS[case][0] if case in VARIANTS else case
    cls, flags, keywords, files, data = KINDS[kind]
    if case in VARIANTS:
        flags, keywords = VARIANTS[case][1:]
    data_flags, _ = files(tmp_path)
    code, _, err = cli(capsys, "train", "--kind", kind, *data_flags, *flags, "--epochs", 2, "--batch_size", 8,
                       "--threads", 1, "--quiet", "--save", tmp_path / "cli")
    assert code == 0, err
    api = cls(**keywords).fit(data, data, epochs=2, save=tmp_path / "api", **FIT)
    for name in ("model.safetensors", "last.safetensors"):
        a, _ = read_tensors(tmp_path / "cli" / name)
        b, _ = read_tensors(tmp_path / "api" / name)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    assert (tmp_path / "cli" / "steps.jsonl").read_text() == (tmp_path / "api" / "steps.jsonl").read_text()
    cli_state = json.loads((tmp_path / "cli" / "trainer_state.json").read_text())
    api_state = json.loads((tmp_path / "api" / "trainer_state.json").read_text())
    assert {k: v for k, v in cli_state.items() if k != "source"} == \
        {k: v for k, v in api_state.items() if k != "source"} | {"history": cli_state["history"]}
    assert sorted(p.name for p in (tmp_path / "cli").iterdir()) == sorted(p.name for p in (tmp_path / "api").iterdir())
    loaded = cls.load(tmp_path / "cli")
    inputs = [" ".join(x[0]) if kind == "tag" else x[0] for x in data]
    assert loaded.predict(inputs) == api.predict(inputs)


def _cli_lines(capsys, monkeypatch, command, folder, lines):
    code, out, err = cli(capsys, command, folder, stdin="".join(x + "\n" for x in lines), monkeypatch=monkeypatch)
    assert code == 0, err
    return out.splitlines()


def test_the_cli_predicts_what_the_api_does_with_its_checkpoints(tagger, classifier, translator, tmp_path, capsys,
                                                                  monkeypatch):
    for api in (tagger, classifier, translator):
        api.save(tmp_path / api.kind)
    words = ["the cat sat on a mat", "big dog", ""]
    assert _cli_lines(capsys, monkeypatch, "predict", tmp_path / "tag", words) == \
        [" ".join(f"{w}/{t}" for w, t in zip(s.split(), tags)) for s, tags in zip(words, tagger.predict(words))]
    texts = ["good film", "the plot was long", ""]
    assert _cli_lines(capsys, monkeypatch, "predict", tmp_path / "classify", texts) == \
        [label or "" for label in classifier.predict(texts)]
    sources = [s for s, _ in PAIRS[:5]] + [""]
    assert _cli_lines(capsys, monkeypatch, "translate", tmp_path / "seq2seq", sources) == translator.predict(sources)


def test_evaluate_equals_lmlab_evaluate_json(tagger, classifier, translator, tmp_path, capsys):
    _, tag_file = _tag_files(tmp_path)
    _, cls_file = _cls_files(tmp_path)
    _, (src, tgt) = _s2s_files(tmp_path)
    chunks = [(ws, ["B-NP" if t in ("THE", "A") else "I-NP" if t in ("CAT", "DOG", "MAT", "BIG") else "B-VP"
                    for t in ts]) for ws, ts in TAGGED]
    chunker = lmlab.SequenceTagger(**TAG).fit(chunks, chunks, scheme="iob2", epochs=2, lr=0.05, **FIT)
    assert "valid_span_f1" in chunker.history[0]  # chunk tags: span F1 is the dev metric
    chunker.save(tmp_path / "chunker")
    chunk_file = tmp_path / "chunks.tsv"
    chunk_file.write_text("".join("".join(f"{w}\t{t}\n" for w, t in zip(ws, ts)) + "\n" for ws, ts in chunks))
    for api in (tagger, classifier, translator):
        api.save(tmp_path / api.kind)
    cases = [(tagger, ["--test", tag_file], lambda: tagger.evaluate(TAGGED)),
             (chunker, ["--test", chunk_file, "--scheme", "iob2"], lambda: chunker.evaluate(chunks, scheme="iob2")),
             (classifier, ["--test", cls_file], lambda: classifier.evaluate(LABELLED)),
             (translator, ["--source_file", src, "--reference_file", tgt, "--beam", 2],
              lambda: translator.evaluate(PAIRS, beam=2))]
    for api, flags, report in cases:
        folder = tmp_path / ("chunker" if api is chunker else api.kind)
        code, out, err = cli(capsys, "evaluate", folder, *flags, "--json")
        assert code == 0, err
        assert json.loads(out) == json.loads(json.dumps(report()))
    rep = chunker.evaluate(chunks, scheme="iob2")
    assert rep["scheme"] == "iob2" and set(rep["chunks"]["per_type"]) <= {"NP", "VP"}


# -- the hyper-parameters and training options are lmlab train's -----------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_the_defaults_are_lmlab_trains(kind):
    from lmlab.cli._task_train import from_args, train_options
    from lmlab.cli.main import build_parser
    from lmlab.train import classify_run, seq2seq_run, tag_run
    from lmlab.train.runs import train_config

    module = {"tag": tag_run, "classify": classify_run, "seq2seq": seq2seq_run}[kind]
    args = build_parser().parse_args(["train", "--kind", kind, "--data", "x", "--save", "y"])
    given = getattr(args, "_given", frozenset())
    cls = KINDS[kind][0]
    assert from_args(cls.settings_class, args, given, module.DEFAULTS) == cls().settings
    cli_config = train_config(module.DEFAULTS, **train_options(args, given, module.DEFAULTS))
    assert cli_config == train_config(module.DEFAULTS, progress=True)
    assert cli_config.epochs == 10 and cli_config.optimizer == "adam"


def test_import_lmlab_and_naming_a_task_model_do_not_import_torch():
    code = ("import sys, lmlab\nt = lmlab.SequenceTagger(nhid=8); lmlab.TextClassifier(); lmlab.Translator()\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n"
            "assert {'SequenceTagger', 'TextClassifier', 'Translator'} <= set(lmlab.__all__)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


# -- bad input: one LmlabError with one clear message ----------------------------------------
@pytest.mark.parametrize("call, error, words", [
    (lambda: lmlab.SequenceTagger(**TAG).fit([(["a", "b"], ["X"])], epochs=1), CorpusError, "2 words but 1 tags"),
    (lambda: lmlab.SequenceTagger(**TAG).fit([], epochs=1), CorpusError, "no examples"),
    (lambda: lmlab.SequenceTagger(**TAG).fit("the cat", epochs=1), ConfigError, "unknown tagging dataset"),
    (lambda: lmlab.SequenceTagger(**TAG).fit(TAGGED, epochs=1), ConfigError, "no dev data: give dev="),
    (lambda: lmlab.SequenceTagger(**TAG).fit(TAGGED, TAGGED, labels="upos"), ConfigError, "labels="),
    (lambda: lmlab.SequenceTagger(**TAG).fit([("a b", "B-NP X")] * 3, scheme="iob2"), ConfigError, "sentence 1, word 2"),
    (lambda: lmlab.SequenceTagger(**TAG).fit(["the cat"], epochs=1), InputTypeError, "item 1"),
    (lambda: lmlab.SequenceTagger(nhid=0), ConfigError, "nhid must be an integer >= 1"),
    (lambda: lmlab.SequenceTagger(model="window", crf=True), ConfigError, "crf=True has no effect"),
    (lambda: lmlab.SequenceTagger(hidden=3), ConfigError, "unknown hyper-parameter hidden"),
    (lambda: lmlab.SequenceTagger().predict(["a b"]), NotFittedError, "not trained yet"),
    (lambda: lmlab.TextClassifier().evaluate(LABELLED), NotFittedError, "not trained yet"),
    (lambda: lmlab.Translator().save("x"), NotFittedError, "not trained yet"),
    (lambda: lmlab.TextClassifier(**CLS).fit([("good film", 1)] * 30), InputTypeError, "a label is a string"),
    (lambda: lmlab.TextClassifier(**CLS).fit([(label, text) for text, label in LABELLED]), ConfigError,
     "has spaces, but a label is one token"),  # (label, text) pairs: the texts would become the labels
    (lambda: lmlab.TextClassifier(**CLS).fit([("good film", " ")] * 30), ConfigError, "example 1: an empty label"),
    (lambda: lmlab.TextClassifier(**CLS).fit("mr"), ConfigError, "give fold=K"),
    (lambda: lmlab.TextClassifier(pooling="sum"), ConfigError, "pooling must be one of last, max, mean"),
    (lambda: lmlab.TextClassifier(**CLS).fit(LABELLED[:5]), ConfigError, "too few to hold out"),
    (lambda: lmlab.Translator(**S2S).fit([("", "a")] + PAIRS, PAIRS), CorpusError, "train: pair 1: an empty source"),
    (lambda: lmlab.Translator(**S2S).fit(PAIRS + [("a", " ")], PAIRS), CorpusError,
     f"train: pair {len(PAIRS) + 1}: an empty target sentence in training data"),
    (lambda: lmlab.Translator(**S2S).fit(PAIRS, PAIRS, source="de"), ConfigError, "multi30k's languages"),
    (lambda: lmlab.Translator(**S2S).fit(PAIRS, PAIRS, epochs=0), ConfigError, "epochs must be >= 1"),
    (lambda: lmlab.Translator(**S2S).fit(PAIRS, PAIRS, speed=2), ConfigError, "unknown training options: speed"),
    (lambda: lmlab.Translator(**S2S).fit(PAIRS, PAIRS, dev_metric="chrf"), ConfigError, "dev_metric"),
])
def test_bad_input_is_one_lmlab_error(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, LmlabError) and words in str(info.value) and "\n" not in str(info.value)


def test_a_checkpoint_of_another_kind_names_both(tagger, translator, tmp_path):
    tagger.save(tmp_path / "t")
    with pytest.raises(KindMismatchError, match=r"tagger \(tag\).*encoder-decoder \(seq2seq\)"):
        lmlab.Translator.load(tmp_path / "t")
    with pytest.raises(InputTypeError):
        translator.predict("a b c d")  # one string, not a list of sentences
    with pytest.raises(ConfigError, match="beam must be"):
        translator.predict(["a b"], beam=0)
    for call in (lambda: translator.predict(["a b"], alpha=0.6), lambda: translator.evaluate(PAIRS, alpha=0.6)):
        with pytest.raises(ConfigError, match="alpha 0.6 has no effect with beam=1"):  # as the CLI refuses it
            call()
    assert translator.predict(["a b"], beam=2, alpha=0.6)
    with pytest.raises(ConfigError, match="a loaded model is not trained again"):
        lmlab.SequenceTagger.load(tmp_path / "t").fit(TAGGED, TAGGED)


# -- named datasets: the same run and record as lmlab train --data, resumable by the CLI --------
NAMED = {  # (kind, dataset, API keywords, the same as flags)
    "sst2": ("classify", "sst2", {}, []),
    "mr": ("classify", "mr", {"fold": 3}, ["--fold", 3]),
    "conll2000": ("tag", "conll2000", {}, []),
    "ud-english-ewt": ("tag", "ud-english-ewt", {"labels": "xpos"}, ["--labels", "xpos"]),
    "multi30k": ("seq2seq", "multi30k", {"source": "de", "target": "en"}, ["--source", "de", "--target", "en"]),
}
SLOW_NAMED = ("mr", "conll2000", "ud-english-ewt", "multi30k")  # a few seconds each: reading and encoding the data


@pytest.mark.parametrize("name", [n if n not in SLOW_NAMED else pytest.param(n, marks=pytest.mark.slow)
                                  for n in NAMED])
def test_a_named_dataset_run_is_lmlab_trains_and_resumes_in_the_cli(name, data_root, tmp_path, capsys):
    kind, data, keywords, flags = NAMED[name]
    cls = KINDS[kind][0]
    small = {"emsize": 8, "nhid": 8, "nlayers": 1}
    api = cls(**small).fit(data, dry_run=True, epochs=1, save=tmp_path / "api", **keywords, **FIT)
    code, _, err = cli(capsys, "train", "--kind", kind, "--data", data, *flags, "--emsize", 8, "--nhid", 8,
                       "--nlayers", 1, "--dry-run", "--epochs", 1, "--batch_size", 8, "--threads", 1, "--quiet",
                       "--save", tmp_path / "cli")
    assert code == 0, err
    a, b = (json.loads((tmp_path / r / "trainer_state.json").read_text()) for r in ("api", "cli"))
    assert a["source"] == b["source"] and a["source"]["data"] == data
    for run in ("api", "cli"):  # the API's run goes on in the CLI as the CLI's own does
        code, _, err = cli(capsys, "train", "--resume", "--save", tmp_path / run, "--epochs", 2, "--max_batches", 2,
                           "--quiet")
        assert code == 0, err
    x, _ = read_tensors(tmp_path / "api" / "last.safetensors")
    y, _ = read_tensors(tmp_path / "cli" / "last.safetensors")
    assert x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)
    # the report of the named test split, with the defaults the run recorded (labels, mr's fold, languages)
    code, out, err = cli(capsys, "evaluate", tmp_path / "cli", "--data", data, "--json")
    assert code == 0, err
    assert json.loads(out) == json.loads(json.dumps(cls.load(tmp_path / "cli").evaluate(data)))
    assert api.source == a["source"]


@pytest.mark.parametrize("cls", [lmlab.SequenceTagger, lmlab.TextClassifier])
def test_pretrained_vectors_are_loaded_and_freeze_keeps_them(cls, tmp_path, capsys):
    vectors = tmp_path / "vec.txt"
    known = {"good": [0.5] * 8, "the": [-0.5] * 8, "cat": [0.25, -0.25] * 4}
    vectors.write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in known.items()))
    data = TAGGED if cls is lmlab.SequenceTagger else LABELLED
    small = {"emsize": 8, "nhid": 8, "nlayers": 1}
    api = cls(**small, pretrained=str(vectors), freeze=True).fit(data, data, epochs=1, batch_size=8, threads=1)
    assert "pretrained vectors cover" in capsys.readouterr().err
    embedding = api.model.encoder.embedding
    for word, vec in known.items():
        if word in api.model.tokens:
            assert embedding.weight[api.model.tokens.lookup(word)].tolist() == pytest.approx(vec)
    with pytest.raises(ConfigError, match="8-dimensional vectors but"):
        cls(emsize=4, nhid=8, nlayers=1, pretrained=str(vectors)).fit(data, data, epochs=1, quiet=True)
