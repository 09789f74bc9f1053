"""``lmlab train --kind conditional-lm``, ``lmlab generate --label/--features``, ``lmlab evaluate``
and ``lmlab encode`` end to end on toys: label A always says "a a" and label B "b b" (after
training, samples follow the label); a feature-conditioned run; the checkpoint round-trips to the
same samples at a fixed seed; resume = uninterrupted; an attention-free encoder-decoder's vectors
round-trip through the feature format into a conditional LM; bad inputs exit 2 with one line."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lmlab.data.features import read_features
from lmlab.models.neural.checkpoint import load_checkpoint
from lmlab.tensors.parallel import source_batches
from tests.cli_run import assert_resume_repeats_the_run, cli, cli_error, state

TINY = ["--emsize", "8", "--nhid", "16", "--lr", "0.02", "--batch_size", "8", "--threads", "1", "--quiet"]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    d = tmp_path_factory.mktemp("clm")
    (d / "train.txt").write_text("".join("A a a\n" if i % 2 else "B b b\n" for i in range(40)))
    (d / "valid.txt").write_text("A a a\nB b b\n")
    (d / "t.txt").write_text("".join("a a\n" if i % 2 else "b b\n" for i in range(40)))
    (d / "f.txt").write_text("".join("1.0 0.0\n" if i % 2 else "0.0 1.0\n" for i in range(40)))
    return d


def _trained(toy, name: str, *data) -> object:
    from lmlab.cli.main import main

    args = ["train", "--kind", "conditional-lm", *data, "--save", toy / name, "--epochs", "12", *TINY]
    assert main([str(a) for a in args]) == 0
    return toy / name


@pytest.fixture(scope="module")
def labelled(toy):
    return _trained(toy, "lab", "--train", toy / "train.txt", "--valid", toy / "valid.txt")


@pytest.fixture(scope="module")
def featured(toy):
    return _trained(toy, "feat", "--train", toy / "t.txt", "--features", toy / "f.txt")


def test_label_conditioning_changes_what_is_generated(labelled, capsys):
    for label, words in (("A", "a a"), ("B", "b b")):
        code, out, err = cli(capsys, "generate", labelled, "--label", label, "-n", "20", "--seed", "1")
        assert code == 0, err
        assert out.splitlines() == [words] * 20
        code, out, _ = cli(capsys, "generate", labelled, "--label", label, "--beam", "3", "--scores")
        assert out.split("\t")[1].strip() == words and float(out.split("\t")[0]) > -0.5
    # without --label: the labels' mixture, both kinds of sentence
    _, out, _ = cli(capsys, "generate", labelled, "-n", "30", "--seed", "2")
    samples = out.splitlines()
    assert {"a a", "b b"} <= set(samples) and sum(x in ("a a", "b b") for x in samples) >= 27
    _, vocabs, config = load_checkpoint(labelled, kind="conditional-lm")
    assert config["kind"] == "conditional-lm" and config["label_prior"] == [0.5, 0.5]
    assert list(vocabs) == ["tokens", "labels"] and vocabs["labels"].labels == ("A", "B")


def test_the_checkpoint_round_trips_to_identical_samples_at_a_fixed_seed(labelled, capsys):
    from lmlab.generate.decode import generate
    from lmlab.models.neural.conditioned import ConditionedLM

    model, _, _ = load_checkpoint(labelled, kind="conditional-lm")
    lm = ConditionedLM(model, label="A")
    api = [" ".join(generate(lm, seed=7 + i, temperature=3.0).tokens) for i in range(6)]
    _, out, _ = cli(capsys, "generate", labelled, "--label", "A", "-n", "6", "--seed", "7", "--temperature", "3")
    _, again, _ = cli(capsys, "generate", labelled, "--label", "A", "-n", "6", "--seed", "7", "--temperature", "3")
    assert out.splitlines() == api and again == out
    assert len(set(api)) > 1  # at temperature 3 the samples differ: the seed is what makes them equal


def test_evaluate_reports_true_flipped_and_unconditional_perplexity(labelled, toy, capsys):
    import json

    code, out, err = cli(capsys, "evaluate", labelled, "--test", toy / "valid.txt", "--json")
    assert code == 0, err
    rep = json.loads(out)
    ppl = {k: v["perplexity"] for k, v in rep["perplexity"].items()}
    assert set(ppl) == {"true", "flipped", "label A", "label B", "unconditional"}
    assert rep["tokens"] == 6 and ppl["true"] < 1.2 < ppl["unconditional"] < ppl["flipped"]
    # unconditional = log-sum-exp over the labels with the prior: above the true figure by at most 2^(1/3) per token
    assert ppl["unconditional"] <= ppl["true"] * 2 ** (2 / 6) + 1e-9
    _, text, _ = cli(capsys, "evaluate", labelled, "--test", toy / "valid.txt")
    assert "perplexity true" in text and "perplexity flipped" in text and "training prior" in text


def test_a_test_label_training_never_saw_is_counted_and_left_out_not_a_crash(labelled, toy, tmp_path, capsys):
    """Sentences labelled C (unseen) are left out of every perplexity, counted and named; the rest
    score exactly as the file without them.  A file with no known label at all is one error line."""
    import json

    (tmp_path / "mixed.txt").write_text("C a b\nA a a\nC c\nB b b\n")
    code, out, err = cli(capsys, "evaluate", labelled, "--test", tmp_path / "mixed.txt", "--json")
    assert code == 0, err
    rep = json.loads(out)
    _, clean, _ = cli(capsys, "evaluate", labelled, "--test", toy / "valid.txt", "--json")
    assert rep["unseen"] == {"C": 2} and rep["n_unseen"] == 2 and rep["perplexity"] == json.loads(clean)["perplexity"]
    assert json.loads(clean)["n_unseen"] == 0
    _, text, _ = cli(capsys, "evaluate", labelled, "--test", tmp_path / "mixed.txt")
    assert "2 sentences left out: their labels were never seen in training: C (2)" in text
    (tmp_path / "none.txt").write_text("C a b\nD c\n")
    err = cli_error(capsys, "evaluate", labelled, "--test", tmp_path / "none.txt")
    assert "no sentence has a label the model was trained with (its labels: A, B; the test labels: C, D)" in err


def test_a_feature_conditioned_run_generates_one_sample_per_feature_line(featured, toy, capsys):
    (toy / "g.txt").write_text("1 0\n0 1\n1 0\n")
    code, out, err = cli(capsys, "generate", featured, "--features", toy / "g.txt", "--seed", "1")
    assert code == 0, err
    assert out.splitlines() == ["a a", "b b", "a a"]
    _, out, _ = cli(capsys, "generate", featured, "--features", toy / "g.txt", "-n", "2", "--temperature", "0.05", "--seed", "1")
    assert out.splitlines() == ["a a", "a a", "b b", "b b", "a a", "a a"]
    import json

    _, out, _ = cli(capsys, "evaluate", featured, "--test", toy / "t.txt", "--features", toy / "f.txt", "--json")
    ppl = {k: v["perplexity"] for k, v in json.loads(out)["perplexity"].items()}
    assert ppl["true"] < 1.2 and ppl["shuffled"] > 10


def test_resume_equals_uninterrupted(toy, tmp_path, capsys):
    common = ["train", "--kind", "conditional-lm", "--train", toy / "t.txt", "--features", toy / "f.txt", *TINY]
    assert cli(capsys, *common, "--save", tmp_path / "full", "--epochs", "3")[0] == 0
    assert cli(capsys, *common, "--save", tmp_path / "part", "--epochs", "1")[0] == 0
    assert_resume_repeats_the_run(capsys, tmp_path / "full", tmp_path / "part", 3)


@pytest.mark.parametrize("features,message", [
    ("1 0\n0 1 2\n", "line 2: expected a vector of dimension 2, found 3 values"),
    ("1 0\n0 one\n", "line 2: expected 2 floats, found 'one', not a number"),
    ("1 0\n0 1\n", "has 40 lines but {f} has 2 feature vectors"),
])
def test_a_bad_feature_file_exits_2_naming_file_and_line(toy, tmp_path, capsys, features, message):
    f = tmp_path / "bad.txt"
    f.write_text(features * (20 if "lines" not in message else 1))
    err = cli_error(capsys, "train", "--kind", "conditional-lm", "--train", toy / "t.txt", "--features", f,
                    "--save", tmp_path / "r", *TINY)
    assert str(f) in err and message.format(f=f) in err
    assert not (tmp_path / "r").exists()


def test_valid_features_of_another_dimension_are_refused(toy, tmp_path, capsys):
    (tmp_path / "vf.txt").write_text("1 0 0\n" * 2)
    (tmp_path / "v.txt").write_text("a a\nb b\n")
    err = cli_error(capsys, "train", "--kind", "conditional-lm", "--train", toy / "t.txt", "--features", toy / "f.txt",
                    "--valid", tmp_path / "v.txt", "--valid_features", tmp_path / "vf.txt", "--save", tmp_path / "r",
                    *TINY)
    assert "vf.txt: line 1: expected a vector of dimension 2, found 3 values" in err
    err = cli_error(capsys, "train", "--kind", "conditional-lm", "--train", toy / "t.txt", "--features", toy / "f.txt",
                    "--valid", tmp_path / "v.txt", "--save", tmp_path / "r", *TINY)
    assert "--valid_features" in err


def test_generate_and_evaluate_refuse_conditions_that_do_not_fit(labelled, featured, toy, capsys):
    err = cli_error(capsys, "generate", labelled, "--label", "C")
    assert "--label C" in err and "its labels: A, B" in err
    assert "give --label" in cli_error(capsys, "generate", labelled, "--features", toy / "f.txt")
    assert "give --features FILE" in cli_error(capsys, "generate", featured)
    assert "conditioned on feature vectors" in cli_error(capsys, "generate", featured, "--label", "A")
    (toy / "g3.txt").write_text("1 0 0\n")
    assert "g3.txt: line 1: expected a vector of dimension 2, found 3" in cli_error(
        capsys, "generate", featured, "--features", toy / "g3.txt")
    assert "give --test FILE --features FILE" in cli_error(capsys, "evaluate", featured, "--test", toy / "t.txt")
    assert "--beam" in cli_error(capsys, "evaluate", labelled, "--test", toy / "valid.txt", "--beam", "2")


def test_a_checkpoint_of_another_kind_is_refused_naming_both(labelled, toy, tmp_path, capsys):
    for command in (["translate", labelled, "--text", toy / "t.txt"], ["predict", labelled, "--text", toy / "t.txt"],
                    ["encode", labelled, "--text", toy / "t.txt", "--output", tmp_path / "x"],
                    ["perplexity", labelled, "--text", toy / "t.txt"]):
        err = cli_error(capsys, *command)
        assert "the checkpoint is a conditional language model (conditional-lm), not" in err, err
    # and the other way: a classifier given to generate (a conditional LM's command too)
    clf = tmp_path / "clf"
    assert cli(capsys, "train", "--kind", "classify", "--train", toy / "train.txt", "--valid", toy / "valid.txt",
               "--save", clf, "--dry-run", *TINY)[0] == 0
    err = cli_error(capsys, "generate", clf, "--label", "A")
    assert "--label: " in err and "is not a conditional LM" in err
    err = cli_error(capsys, "generate", clf)
    assert "the checkpoint is a classifier (classify), not a language model (lm)" in err


def test_generate_beam_for_any_lm_and_its_knobs(toy, tmp_path, capsys):
    from lmlab.models.ngram.model import NgramLM

    NgramLM(2, "witten_bell").fit(["a b c", "a b", "a c"] * 3).to_arpa(tmp_path / "m.arpa")
    _, greedy, _ = cli(capsys, "generate", tmp_path / "m.arpa", "--greedy")
    _, beam1, _ = cli(capsys, "generate", tmp_path / "m.arpa", "--beam", "1")
    assert beam1 == greedy and beam1.strip()
    for extra in (["--greedy"], ["--seed", "1"], ["-n", "2"], ["--temperature", "0.5"], ["--no-stop"]):
        assert "not with --beam" in cli_error(capsys, "generate", tmp_path / "m.arpa", "--beam", "2", *extra) or \
            "without --beam" in cli_error(capsys, "generate", tmp_path / "m.arpa", "--beam", "2", *extra)
    assert "is not a conditional LM" in cli_error(capsys, "generate", tmp_path / "m.arpa", "--label", "A")


@pytest.fixture(scope="module")
def noatt(tmp_path_factory):
    """A tiny attention-free encoder-decoder (copy the letters, upper-cased)."""
    from lmlab.cli.main import main

    d = tmp_path_factory.mktemp("noatt")
    rng = np.random.default_rng(0)
    src = [" ".join(rng.choice(list("abcd"), rng.integers(1, 4))) for _ in range(60)]
    (d / "s.txt").write_text("".join(s + "\n" for s in src))
    (d / "t.txt").write_text("".join(s.upper() + "\n" for s in src))
    args = ["train", "--kind", "seq2seq", "--attention", "none", "--train_source", d / "s.txt", "--train_target",
            d / "t.txt", "--valid_source", d / "s.txt", "--valid_target", d / "t.txt", "--save", d / "m",
            "--epochs", "1", "--emsize", "8", "--nhid", "8", "--threads", "1", "--quiet"]
    assert main([str(a) for a in args]) == 0
    return d


def test_encode_writes_the_context_vectors_that_round_trip_into_a_conditional_lm(noatt, capsys, tmp_path):
    code, out, err = cli(capsys, "encode", noatt / "m", "--text", noatt / "s.txt", "--output", tmp_path / "v.txt")
    assert code == 0 and out == "", err
    vectors = read_features(tmp_path / "v.txt")
    model, _, _ = load_checkpoint(noatt / "m", kind="seq2seq")
    lines = (noatt / "s.txt").read_text().splitlines()
    want = np.zeros_like(vectors)
    for b in source_batches(lines, model.source, batch_size=7):
        want[b.index] = model.context_vectors(b).numpy()
    assert vectors.shape == (60, 16) and np.array_equal(vectors.astype(np.float32), want.astype(np.float32))
    # the vectors train a conditional LM of the targets, which generates from them
    assert cli(capsys, "train", "--kind", "conditional-lm", "--train", noatt / "t.txt", "--features", tmp_path / "v.txt",
               "--save", tmp_path / "clm", "--epochs", "1", *TINY)[0] == 0
    code, out, err = cli(capsys, "generate", tmp_path / "clm", "--features", tmp_path / "v.txt", "--greedy")
    assert code == 0 and len(out.splitlines()) == 60, err
    _, config = load_checkpoint(tmp_path / "clm")[1:]
    assert config["feature_size"] == 16 and config["condition"] == "features"


def test_encode_refuses_attention_and_empty_lines(noatt, capsys, tmp_path):
    (tmp_path / "e.txt").write_text("a b\n\nc\n")
    err = cli_error(capsys, "encode", noatt / "m", "--text", tmp_path / "e.txt", "--output", tmp_path / "v.txt")
    assert "e.txt: line 2: an empty source sentence" in err and not (tmp_path / "v.txt").exists()
    from lmlab.cli.main import main

    att = tmp_path / "att"
    assert main([str(a) for a in ["train", "--kind", "seq2seq", "--train_source", noatt / "s.txt", "--train_target",
                                  noatt / "t.txt", "--valid_source", noatt / "s.txt", "--valid_target", noatt / "t.txt",
                                  "--save", att, "--dry-run", "--emsize", "4", "--nhid", "4", "--quiet",
                                  "--threads", "1"]]) == 0
    err = cli_error(capsys, "encode", att, "--text", noatt / "s.txt", "--output", tmp_path / "v.txt")
    assert "attention bahdanau" in err and "--attention none" in err


def test_options_that_do_not_fit_a_conditional_lm_run_are_refused(toy, tmp_path, capsys):
    run = ["train", "--kind", "conditional-lm", "--save", tmp_path / "r", *TINY]
    assert "--data mr has no fixed split" in cli_error(capsys, *run, "--data", "mr")
    assert "give --data NAME" in cli_error(capsys, *run)
    err = cli_error(capsys, *run, "--train", toy / "train.txt", "--valid", toy / "valid.txt", "--valid_features",
                    toy / "f.txt")
    assert "--valid_features" in err and "--features FILE" in err
    assert "not window" in cli_error(capsys, *run, "--train", toy / "train.txt", "--model", "window")
    assert "applies only with --train FILE" in cli_error(capsys, *run, "--data", "sst2", "--features", toy / "f.txt")
    assert "--unidirectional: no effect" in cli_error(capsys, *run, "--train", toy / "train.txt", "--unidirectional")
    assert "--freeze: no effect" in cli_error(capsys, *run, "--train", toy / "train.txt", "--pretrained",
                                              toy / "f.txt", "--freeze")
    assert not (tmp_path / "r").exists()


def test_a_named_dataset_trains_and_evaluates(tmp_path, capsys):
    """SST-2 (two batches): the label set is the dataset's, the prior its training labels' frequencies."""
    code, _, err = cli(capsys, "train", "--kind", "conditional-lm", "--data", "sst2", "--save", tmp_path / "s",
                       "--dry-run", *TINY)
    assert code == 0, err
    _, vocabs, config = load_checkpoint(tmp_path / "s", kind="conditional-lm")
    assert vocabs["labels"].labels == ("0", "1") and sum(config["label_prior"]) == pytest.approx(1.0)
    assert 0.4 < config["label_prior"][1] < 0.6


def test_generate_from_an_ngram_model_does_not_import_torch(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from lmlab.models.ngram.model import NgramLM

    NgramLM(2, "witten_bell").fit(["a b c", "a b"] * 3).to_arpa(tmp_path / "m.arpa")
    code = ("import sys; from lmlab.cli.main import main; "
            f"assert main(['generate', {str(tmp_path / 'm.arpa')!r}, '--beam', '2']) == 0; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                         env={"PYTHONPATH": str(Path(__file__).resolve().parents[2]), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "False"


def test_resume_takes_a_new_text_with_its_features_and_refuses_what_does_not_fit(toy, tmp_path, capsys):
    """A feature-conditioned run resumed with new data reads the new text with its feature file
    (both recorded); a text without its features, a named dataset, and features for a
    label-conditioned run are refused in one line."""
    save = tmp_path / "f"
    code, _, err = cli(capsys, "train", "--kind", "conditional-lm", "--train", toy / "t.txt", "--features",
                       toy / "f.txt", "--save", save, "--epochs", "1", *TINY)
    assert code == 0, err
    (tmp_path / "t2.txt").write_text("a a\nb b\n" * 10)
    (tmp_path / "f2.txt").write_text("1 0\n0 1\n" * 10)
    code, _, err = cli(capsys, "train", "--resume", "--save", save, "--epochs", "2", "--train", tmp_path / "t2.txt",
                       "--features", tmp_path / "f2.txt")
    assert code == 0, err
    src = state(save)["source"]
    assert src["train"] == str(tmp_path / "t2.txt") and src["features"] == str(tmp_path / "f2.txt")
    assert state(save)["epoch"] == 2
    err = cli_error(capsys, "train", "--resume", "--save", save, "--epochs", "3", "--train", tmp_path / "t2.txt")
    assert "give --train and --features together" in err
    err = cli_error(capsys, "train", "--resume", "--save", save, "--epochs", "3", "--data", "sst2")
    assert "conditioned on feature vectors" in err
    lab = tmp_path / "l"
    code, _, err = cli(capsys, "train", "--kind", "conditional-lm", "--train", toy / "train.txt", "--save", lab,
                       "--epochs", "1", *TINY)
    assert code == 0, err
    err = cli_error(capsys, "train", "--resume", "--save", lab, "--epochs", "2", "--train", toy / "t.txt",
                    "--features", toy / "f.txt")
    assert "conditioned on labels" in err
