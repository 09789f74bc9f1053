"""``lmlab train --kind tag``, ``lmlab predict`` and ``lmlab evaluate`` end to end: a tagger trained
by the generic trainer from column files, its checkpoint (kind tag, vocab.json, vocab.chars.json,
labels.tags.json), its predictions on stdin, its scores, resume, and the kind checks."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from lmlab.models.neural.checkpoint import load_checkpoint, read_tensors  # noqa: E402
from tests.cli_run import assert_resume_repeats_the_run, cli, cli_error, state

TAGS = {"the": "DET", "a": "DET", "cat": "NOUN", "dog": "NOUN", "mat": "NOUN", "sat": "VERB", "saw": "VERB",
        "ran": "VERB", "on": "ADP", "big": "ADJ"}
SENTS = ["the cat sat on the mat", "a dog saw the cat", "the big dog ran", "a cat sat", "the dog saw a big mat"]
CHUNKS = {"DET": "B-NP", "ADJ": "I-NP", "NOUN": "I-NP", "VERB": "B-VP", "ADP": "B-PP"}


def column_file(path, sents, chunks=False):
    rows = []
    for s in sents:
        for w in s.split():
            tag = TAGS[w]
            rows.append(f"{w}\tX\t{CHUNKS[tag] if chunks else tag}")
        rows.append("")
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def files(tmp_path):
    return column_file(tmp_path / "train.tsv", SENTS * 6), column_file(tmp_path / "valid.tsv", SENTS[::-1])


TINY = ["--emsize", "8", "--nhid", "8", "--nlayers", "1", "--char_emsize", "4", "--char_hidden", "4",
        "--lr", "0.05", "--batch_size", "4", "--threads", "1", "--quiet"]


def train(capsys, files, save, *extra):
    train_file, valid_file = files
    tiny = TINY
    if "window" in extra:  # a window tagger has no recurrent layers nor characters: those options are refused
        rnn = ("--nlayers", "--char_emsize", "--char_hidden")
        tiny = [x for i, x in enumerate(TINY) if not set(rnn) & set(TINY[max(i - 1, 0):i + 1])]
    code, out, err = cli(capsys, "train", "--kind", "tag", "--train", train_file, "--valid", valid_file,
                         "--save", save, *tiny, *extra)
    assert code == 0, err
    return out


def test_train_predict_and_evaluate_a_tagger(tmp_path, files, capsys, monkeypatch):
    run = tmp_path / "tagger"
    out = train(capsys, files, run, "--epochs", "4")
    assert "best dev accuracy" in out and "(token accuracy)" in out
    config = json.loads((run / "config.json").read_text())
    assert config["kind"] == "tag" and config["architecture"] == "rnn" and config["hidden_size"] == 8
    names = {p.name for p in run.iterdir()}
    assert {"vocab.json", "vocab.chars.json", "labels.tags.json", "model.safetensors", "steps.jsonl"} <= names
    _, meta = read_tensors(run / "model.safetensors")
    assert set(meta) == {"vocab_fingerprint", "vocab_fingerprint.chars", "labels_fingerprint.tags"}
    st = state(run)
    assert [h["epoch"] for h in st["history"]] == [1, 2, 3, 4] and st["best"] == max(
        h["valid_accuracy"] for h in st["history"])
    # the saved model is the best epoch's: lmlab evaluate on the dev file gives the dev figure
    code, out, err = cli(capsys, "evaluate", run, "--test", files[1], "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["accuracy"] == pytest.approx(st["best"], abs=1e-12) and rep["n"] == sum(len(s.split()) for s in SENTS)
    assert set(rep["per_class"]) >= {"DET", "NOUN", "VERB"} and rep["n_unseen"] == 0
    code, out, _ = cli(capsys, "evaluate", run, "--test", files[1])
    assert code == 0 and out.startswith("accuracy ") and "precision" in out
    # predict: word/TAG per token, one line per input line, an empty line kept
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"the cat sat\n\na big dog ran\n")))
    code, out, err = cli(capsys, "predict", run)
    assert code == 0, err
    lines = out.split("\n")
    assert len(lines) == 4 and lines[1] == "" and lines[3] == ""
    assert [t.rsplit("/", 1)[0] for t in lines[0].split()] == ["the", "cat", "sat"]
    assert all(t.rsplit("/", 1)[1] in TAGS.values() for t in lines[0].split() + lines[2].split())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"the cat sat\n\n")))
    code, out, _ = cli(capsys, "predict", run, "--format", "json")
    rows = [json.loads(x) for x in out.splitlines()]
    assert rows[0]["words"] == ["the", "cat", "sat"] and len(rows[0]["tags"]) == 3 and rows[1] == {"words": [], "tags": []}
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"the cat\n")))
    code, out, _ = cli(capsys, "predict", run, "--format", "conll")
    assert out.count("\n") == 3 and out.endswith("\n\n") and out.split("\n")[0].startswith("the\t")


def test_tagger_and_lm_checkpoints_are_not_confused(tmp_path, files, capsys):
    run = tmp_path / "tagger"
    train(capsys, files, run, "--epochs", "1")
    text = tmp_path / "t.txt"
    text.write_text("\n".join(SENTS) + "\n")
    err = cli_error(capsys, "perplexity", run, "--text", text)
    assert f"{run}: the checkpoint is a tagger (tag), not a language model (lm)" in err
    code, _, err = cli(capsys, "train", "--train", text, "--save", tmp_path / "lm", "--emsize", "4", "--nhid", "4",
                       "--bptt", "3", "--batch_size", "2", "--epochs", "1", "--quiet", "--threads", "1")
    assert code == 0, err
    err = cli_error(capsys, "predict", tmp_path / "lm", "--text", text)
    assert "the checkpoint is a language model (lm), not a tagger (tag)" in err
    err = cli_error(capsys, "evaluate", tmp_path / "lm", "--test", files[1])
    assert "not a tagger (tag)" in err


def test_resume_equals_uninterrupted(tmp_path, files, capsys):
    train(capsys, files, tmp_path / "full", "--epochs", "3", "--dropout", "0.3", "--word_dropout", "0.1")
    train(capsys, files, tmp_path / "part", "--epochs", "1", "--dropout", "0.3", "--word_dropout", "0.1")
    assert_resume_repeats_the_run(capsys, tmp_path / "full", tmp_path / "part", 3)
    assert [h["valid_accuracy"] for h in state(tmp_path / "full")["history"]] == \
        [h["valid_accuracy"] for h in state(tmp_path / "part")["history"]]
    # the run's own kind may be repeated (the first command line again); another kind names both
    err = cli_error(capsys, "train", "--resume", "--save", tmp_path / "part", "--kind", "classify", "--epochs", "4")
    assert f"{tmp_path / 'part'}: the checkpoint is a tagger (tag), not a classifier (classify); --resume " \
           "continues it as its own kind, tag" in err
    code, _, err = cli(capsys, "train", "--resume", "--save", tmp_path / "part", "--kind", "tag", "--epochs", "4",
                       "--quiet")
    assert code == 0 and len(state(tmp_path / "part")["history"]) == 4, err


@pytest.mark.parametrize("extra", [["--crf"], ["--model", "window", "--context", "1"], ["--model", "gru",
                                   "--unidirectional", "--char_hidden", "0"]], ids=["crf", "window", "gru-uni"])
def test_other_taggers_train(tmp_path, files, capsys, extra):
    run = tmp_path / "r"
    train(capsys, files, run, "--epochs", "1", *extra)
    config = json.loads((run / "config.json").read_text())
    assert config["kind"] == "tag"
    names = {p.name for p in run.iterdir()}
    assert ("vocab.chars.json" in names) == (config.get("char_hidden_size", 0) > 0)
    if "--crf" in extra:
        assert config["crf"] is True
    if "window" in extra:
        assert config["architecture"] == "window" and config["window"] == 1


def test_chunk_tags_use_span_f1_as_the_dev_metric(tmp_path, capsys):
    files = column_file(tmp_path / "tr.tsv", SENTS * 6, chunks=True), column_file(tmp_path / "va.tsv", SENTS, True)
    run = tmp_path / "chunks"
    out = train(capsys, files, run, "--epochs", "2", "--scheme", "iob2")
    assert "best dev span_f1" in out and "conlleval span F1, IOB2" in out
    st = state(run)
    assert "valid_span_f1" in st["history"][0] and st["task"] == {"scheme": "iob2"}
    code, out, _ = cli(capsys, "evaluate", run, "--test", files[1], "--scheme", "iob2", "--json")
    assert code == 0 and json.loads(out)["span_f1"] == pytest.approx(st["best"], abs=1e-9)


def test_a_test_file_is_scored_in_the_scheme_the_model_was_trained_with(tmp_path, capsys):
    """Span F1 was the dev metric of a --scheme run: lmlab evaluate --test (and SequenceTagger.evaluate
    on in-memory pairs) report it without --scheme being repeated; --scheme given still wins."""
    from lmlab import SequenceTagger

    files = column_file(tmp_path / "tr.tsv", SENTS * 6, chunks=True), column_file(tmp_path / "va.tsv", SENTS, True)
    run = tmp_path / "chunks"
    train(capsys, files, run, "--epochs", "2", "--scheme", "iob2")
    code, out, _ = cli(capsys, "evaluate", run, "--test", files[1], "--json")
    rep = json.loads(out)
    assert code == 0 and rep["scheme"] == "iob2" and rep["span_f1"] == pytest.approx(state(run)["best"], abs=1e-9)
    code, out, _ = cli(capsys, "evaluate", run, "--test", files[1])
    assert code == 0 and "spans (IOB2, conlleval)" in out
    code, out, _ = cli(capsys, "evaluate", run, "--test", files[1], "--scheme", "iob1", "--json")
    assert code == 0 and json.loads(out)["scheme"] == "iob1"
    code, out, _ = cli(capsys, "evaluate", run, "--test", files[1], "--scheme", "none", "--json")
    assert code == 0 and "span_f1" not in json.loads(out) and json.loads(out)["accuracy"] == rep["accuracy"]
    pairs = [(s.split(), [CHUNKS[TAGS[w]] for w in s.split()]) for s in SENTS]
    api = SequenceTagger.load(run).evaluate(pairs)
    assert api["scheme"] == "iob2" and api["span_f1"] == pytest.approx(rep["span_f1"], abs=1e-9)
    plain = tmp_path / "plain"  # a run without a scheme: token figures only, as before
    train(capsys, (column_file(tmp_path / "p.tsv", SENTS * 6), column_file(tmp_path / "pv.tsv", SENTS)), plain,
          "--epochs", "1")
    code, out, _ = cli(capsys, "evaluate", plain, "--test", tmp_path / "pv.tsv", "--json")
    assert code == 0 and "span_f1" not in json.loads(out)


def test_tagger_data_errors(tmp_path, files, capsys):
    err = cli_error(capsys, "train", "--kind", "tag", "--save", tmp_path / "r")
    assert "give --data NAME" in err
    err = cli_error(capsys, "train", "--kind", "tag", "--data", "ptb", "--save", tmp_path / "r")
    assert "unknown tagging dataset 'ptb'" in err
    bad = tmp_path / "bad.tsv"
    bad.write_text("the\tDET\ncat\tX\tNOUN\n")
    err = cli_error(capsys, "train", "--kind", "tag", "--train", bad, "--valid", bad, "--save", tmp_path / "r")
    assert f"{bad}: line 2" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_ud_english_ewt_end_to_end(tmp_path, capsys):
    run = tmp_path / "upos"
    code, out, err = cli(capsys, "train", "--kind", "tag", "--data", "ud-english-ewt", "--labels", "upos",
                         "--dry-run", "--save", run, *TINY)
    assert code == 0, err
    code, out, err = cli(capsys, "evaluate", run, "--data", "ud-english-ewt", "--split", "test", "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["n"] > 20000 and 0 <= rep["accuracy"] <= 1


def test_a_test_tag_training_never_saw_is_counted_not_a_crash(tmp_path, files, capsys):
    run = tmp_path / "tagger"
    train(capsys, files, run, "--epochs", "1")
    test = tmp_path / "test.tsv"
    test.write_text("the\tX\tDET\ncat\tX\tNOVEL\n\na\tX\tDET\ndog\tX\tNOVEL\nran\tX\tVERB\n")
    code, out, err = cli(capsys, "evaluate", run, "--test", test, "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["unseen"] == {"NOVEL": 2} and rep["n_unseen"] == 2 and rep["n"] == 5
    assert rep["accuracy"] <= 3 / 5  # each unseen tag is an error


def test_predict_on_an_empty_input_prints_nothing_and_empty_lines_keep_alignment(tmp_path, files, capsys, monkeypatch):
    run = tmp_path / "tagger"
    train(capsys, files, run, "--dry-run")
    for fmt in ("text", "conll", "json"):
        code, out, err = cli(capsys, "predict", run, "--format", fmt, stdin="", monkeypatch=monkeypatch)
        assert (code, out) == (0, ""), err
    # an empty line among sentences: text and JSON keep one line per input line; CoNLL cannot write an
    # empty sentence (a blank line only ends one): the line has no block and is counted on stderr
    stdin = "the cat\n\na dog\n"
    code, out, err = cli(capsys, "predict", run, "--format", "conll", stdin=stdin, monkeypatch=monkeypatch)
    blocks = out.split("\n\n")
    assert code == 0 and "\n\n\n" not in out and [len(b.split()) for b in blocks[:2]] == [4, 4] and blocks[2] == ""
    assert "1 empty input line has no CoNLL block" in err
    for fmt in ("text", "json"):
        code, out, err = cli(capsys, "predict", run, "--format", fmt, stdin=stdin, monkeypatch=monkeypatch)
        assert code == 0 and len(out.splitlines()) == 3 and out.splitlines()[1] in ("", '{"words": [], "tags": []}')


def test_gold_tags_of_another_tag_set_are_an_error_naming_both(tmp_path, files, capsys):
    """Test tags none of which the model was trained on are another tag set (an XPOS tagger scored
    against UPOS): one line naming both, not 0% accuracy with every tag "unseen"."""
    run = tmp_path / "tagger"
    train(capsys, files, run, "--epochs", "1")
    other = tmp_path / "other.tsv"
    other.write_text("the\tX\tDT\ncat\tX\tNN\n")
    err = cli_error(capsys, "evaluate", run, "--test", other)
    assert f"{other}: none of its 2 tags is one the model" in err and "gold: DT, NN" in err and "DET" in err
    # the same as dev data: refused before training (every epoch would score 0%), nothing written
    err = cli_error(capsys, "train", "--kind", "tag", "--train", files[0], "--valid", other, "--save", tmp_path / "r2",
                    *TINY)
    assert "the dev data (--valid, or the sentences held out): none of its 2 tags" in err
    assert not (tmp_path / "r2").exists()


def test_resume_reads_the_data_options_given_and_records_them(tmp_path, files, capsys):
    """The same rule as the LM's: --train/--valid given with --resume replace the recorded files."""
    run = tmp_path / "r"
    train(capsys, files, run, "--epochs", "1")
    new_train = column_file(tmp_path / "u.tsv", SENTS[:2] * 4)
    new_valid = column_file(tmp_path / "uv.tsv", SENTS[2:])
    code, _, err = cli(capsys, "train", "--resume", "--save", run, "--epochs", "2", "--train", new_train,
                       "--valid", new_valid, "--quiet")
    assert code == 0, err
    src = state(run)["source"]
    assert (src["train"], src["valid"]) == (str(new_train), str(new_valid))
    new_valid.write_text("")  # now read again: an empty file is refused, so it is read
    err = cli_error(capsys, "train", "--resume", "--save", run, "--epochs", "3", "--valid", new_valid)
    assert str(new_valid) in err and "no sentences" in err
    code, _, err = cli(capsys, "train", "--resume", "--save", run, "--epochs", "2", "--valid", files[1], "--quiet")
    assert code == 0 and "nothing to train" in err


def test_errors_name_the_file_or_the_dataset_and_split(tmp_path, files, capsys, monkeypatch):
    from lmlab.data import tasks
    from lmlab.data.columns import TaggedSentence

    run = tmp_path / "r"
    train(capsys, files, run, "--epochs", "1")
    blank = tmp_path / "blank.col"
    blank.write_text("\n\n  \n")
    err = cli_error(capsys, "evaluate", run, "--test", blank)
    assert f"{blank}: no sentences" in err
    err = cli_error(capsys, "train", "--kind", "tag", "--train", blank, "--valid", files[1], "--save", tmp_path / "n")
    assert f"{blank}: no sentences" in err
    monkeypatch.setattr(tasks, "ud_english_ewt", lambda split, labels: [
        TaggedSentence(("a", "dog"), ("B-NP", "I-NP"), 3), TaggedSentence(("the", "cat"), ("B-NP", "NOUN"), 7)])
    err = cli_error(capsys, "evaluate", run, "--data", "ud-english-ewt", "--scheme", "iob2")
    assert "--data ud-english-ewt (split test, labels upos): the sentence at line 7, word 2: chunk tag 'NOUN'" in err


def test_every_printed_figure_says_its_unit(tmp_path, capsys):
    """Token accuracy and span F1 side by side: both percentages, marked %, in evaluate's text, the
    training log and its closing line; --json keeps the numbers and says which unit each has."""
    import re

    chunks = (column_file(tmp_path / "c.tsv", SENTS * 6, chunks=True), column_file(tmp_path / "cv.tsv", SENTS, chunks=True))
    run = tmp_path / "r"
    code, out, err = cli(capsys, "train", "--kind", "tag", "--train", chunks[0], "--valid", chunks[1], "--save", run,
                         *[x for x in TINY if x != "--quiet"], "--scheme", "iob2", "--epochs", "1")
    assert code == 0, err
    assert re.search(r"best dev span_f1 \d+\.\d\d% \(conlleval span F1, IOB2\)", out), out
    assert re.search(r"valid span_f1 +\d+\.\d\d% ", err), err
    code, out, _ = cli(capsys, "evaluate", run, "--test", chunks[1], "--scheme", "iob2")
    assert code == 0
    assert re.search(r"^accuracy \d+\.\d\d% on \d+ tokens \(majority class \d+\.\d\d%\); macro F1 \d+\.\d\d%$", out, re.M), out
    assert re.search(r"precision \d+\.\d\d%  recall \d+\.\d\d%  F1 \d+\.\d\d%", out), out
    code, out, _ = cli(capsys, "evaluate", run, "--test", chunks[1], "--scheme", "iob2", "--json")
    rep = json.loads(out)
    assert 0 <= rep["accuracy"] <= 1 and rep["units"]["tokens"].startswith("fraction")
    assert rep["units"]["spans"].startswith("percent") and 0 <= rep["span_f1"] <= 100
    printed = float(re.search(r"accuracy (\d+\.\d\d)%", cli(capsys, "evaluate", run, "--test", chunks[1])[1]).group(1))
    assert printed == pytest.approx(100 * rep["accuracy"], abs=0.006)


def test_a_conllu_file_defaults_to_form_and_upos_and_evaluate_follows_the_trained_column(tmp_path, capsys):
    """A .conllu training file without --word_column/--label_column reads FORM and UPOS (not ID
    and MISC); a run trained on its XPOS column is evaluated against XPOS by --test (the recorded
    columns) and by --data ud-english-ewt (its labels default to xpos), not against UPOS."""
    rows = [("The", "DET", "DT"), ("cat", "NOUN", "NN"), ("sleeps", "VERB", "VBZ")]
    text = "".join("".join(f"{i}\t{w}\t{w.lower()}\t{u}\t{x}\t_\t0\troot\t_\t_\n" for i, (w, u, x) in
                           enumerate(rows, start=1)) + "\n" for _ in range(20))
    train_file, dev_file = tmp_path / "t.conllu", tmp_path / "d.conllu"
    train_file.write_text(text)
    dev_file.write_text(text)
    run = tmp_path / "upos"
    code, _, err = cli(capsys, "train", "--kind", "tag", "--train", train_file, "--valid", dev_file, "--save", run,
                       "--dry-run", *TINY)
    assert code == 0, err
    assert set(load_checkpoint(run)[0].tags) == {"DET", "NOUN", "VERB"}
    xpos = tmp_path / "xpos"
    code, _, err = cli(capsys, "train", "--kind", "tag", "--train", train_file, "--valid", dev_file, "--save", xpos,
                       "--label_column", "5", "--dry-run", *TINY)
    assert code == 0, err
    code, out, err = cli(capsys, "evaluate", xpos, "--test", dev_file, "--json")
    assert code == 0, err
    assert set(json.loads(out)["per_class"]) <= {"DT", "NN", "VBZ"}
    from lmlab.cli.evaluate import _trained_labels

    assert _trained_labels(str(xpos)) == "xpos" and _trained_labels(str(run)) == "upos"


def stated_defaults(capsys, kind: str) -> dict[str, str]:
    """What ``lmlab train --help`` says each option defaults to for ``kind``."""
    import re

    code, out, _ = cli(capsys, "train", "--help")
    assert code == 0
    stated = {}
    for option, help_ in re.findall(r"\n  --(\w+)([^\n]*(?:\n {24}[^\n]*)*)", out):
        said = re.search(r"\(default: (--kind [^)]*)\)", re.sub(r"-\s+", "-", " ".join(help_.split())))
        if said:
            for part in said.group(1).removeprefix("--kind ").split("; "):
                kinds, value = part.rsplit(": ", 1)
                if kind in [k.strip() for k in kinds.split(",")]:
                    stated[option] = value
    return stated


def test_train_help_states_the_defaults_a_tag_run_uses(tmp_path, files, capsys):
    stated = stated_defaults(capsys, "tag")
    assert {"lr", "optimizer", "clip", "batch_size", "epochs", "emsize", "dropout", "nhid"} <= set(stated)
    assert stated["lr"] == "0.001" and stated_defaults(capsys, "lm")["lr"] == "20.0"
    assert stated_defaults(capsys, "conditional-lm")["nhid"] == "512"
    train_file, valid_file = files
    code, _, err = cli(capsys, "train", "--kind", "tag", "--train", train_file, "--valid", valid_file,
                       "--save", tmp_path / "r", "--char_hidden", "0", "--dry-run", "--threads", "1", "--quiet")
    assert code == 0, err
    used = {**state(tmp_path / "r")["train_config"], **json.loads((tmp_path / "r" / "config.json").read_text())}
    used["nhid"] = used["hidden_size"]
    for option in ("lr", "optimizer", "clip", "batch_size", "epochs", "emsize", "dropout", "nhid"):
        assert str(used[option]) == stated[option], option
