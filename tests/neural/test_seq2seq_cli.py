"""``lmlab train --kind seq2seq``, ``lmlab translate`` and ``lmlab evaluate`` (BLEU) end to end: a
tiny encoder-decoder learns to reverse and upper-case short letter sequences; its translations on
stdin (empty lines kept), beam 1 = greedy, n-best lines that ``lmlab rerank`` reads, attention
weights, BLEU equal to sacrebleu's own, resume = uninterrupted, and bad inputs."""

from __future__ import annotations

import json
import random

import pytest

torch = pytest.importorskip("torch")
sacrebleu = pytest.importorskip("sacrebleu")

from lmlab.cli.main import main
from lmlab.eval.scoring import parse_nbest
from lmlab.models.neural.checkpoint import load_checkpoint
from lmlab.tensors.parallel import source_batches
from tests.cli_run import assert_resume_repeats_the_run, cli, cli_error

LETTERS = ["a", "b", "c", "d", "e", "f"]


def reverse(s: str) -> str:
    return " ".join(reversed(s.split())).upper()


def lines(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(LETTERS) for _ in range(rng.randint(1, 5))) for _ in range(n)]


def write_pairs(folder, name, sources, targets=None):
    targets = [reverse(s) for s in sources] if targets is None else targets
    (folder / f"{name}.src").write_text("".join(s + "\n" for s in sources))
    (folder / f"{name}.tgt").write_text("".join(t + "\n" for t in targets))
    return folder / f"{name}.src", folder / f"{name}.tgt"


TINY = ["--emsize", "16", "--nhid", "32", "--lr", "0.01", "--batch_size", "16", "--threads", "1", "--quiet"]


def train_args(d, save, *extra):
    return ["train", "--kind", "seq2seq", "--train_source", d / "train.src", "--train_target", d / "train.tgt",
            "--valid_source", d / "valid.src", "--valid_target", d / "valid.tgt", "--save", save, *TINY, *extra]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("s2s")
    write_pairs(d, "train", lines(300, 0))
    write_pairs(d, "valid", lines(20, 1))
    write_pairs(d, "test", lines(25, 2))
    code = main([str(a) for a in train_args(d, d / "model", "--epochs", "8")])
    assert code == 0
    return d


def test_trained_model_translates_and_keeps_empty_lines(run, capsys, monkeypatch):
    config = json.loads((run / "model" / "config.json").read_text())
    assert config["kind"] == "seq2seq" and config["attention"] == "bahdanau" and config["cell"] == "gru"
    state = json.loads((run / "model" / "trainer_state.json").read_text())
    assert [h["valid_perplexity"] for h in state["history"]][-1] < 1.5  # it learnt the task
    src = ["a b c", "", "f e d c a", "b", ""]
    code, out, err = cli(capsys, "translate", run / "model", stdin="\n".join(src) + "\n", monkeypatch=monkeypatch)
    assert code == 0, err
    got = out.split("\n")[:-1]
    assert len(got) == len(src) and got[1] == "" and got[4] == ""
    assert sum(g == reverse(s) for g, s in zip(got, src, strict=True) if s) >= 2


def test_beam_1_is_greedy_and_nbest_lines_are_sorted_distinct_and_reranked(run, capsys, tmp_path):
    model, _, _ = load_checkpoint(run / "model")
    test = (run / "test.src").read_text().splitlines()
    code, beam1, _ = cli(capsys, "translate", run / "model", "--text", run / "test.src", "--beam", "1")
    greedy = [""] * len(test)
    for b in source_batches(test, model.source):
        for i, d in zip(b.index, model.greedy(b), strict=True):
            greedy[i] = " ".join(model.target.decode(d.tokens))
    assert code == 0 and beam1.splitlines() == greedy
    code, best4, _ = cli(capsys, "translate", run / "model", "--text", run / "test.src", "--beam", "4")
    code, nbest, err = cli(capsys, "translate", run / "model", "--text", run / "test.src", "--nbest", "4")
    assert code == 0, err
    (tmp_path / "n.best").write_text(nbest)
    groups = parse_nbest(nbest.splitlines())
    assert [g[0].group for g in groups] == [str(i) for i in range(len(test))]
    for g, top in zip(groups, best4.splitlines(), strict=True):
        assert len(g) == 4 and len({h.text for h in g}) == 4  # distinct
        assert [h.score for h in g] == sorted((h.score for h in g), reverse=True)  # best first
        assert g[0].text == top  # --nbest's first is --beam 4's translation
    (tmp_path / "lm.txt").write_text((run / "train.tgt").read_text())
    assert main(["ngram", "-o", "2", "--smoothing", "witten_bell", "--text", str(tmp_path / "lm.txt"), "--arpa", str(tmp_path / "lm.arpa"),
                 "--quiet"]) == 0
    code, out, err = cli(capsys, "rerank", tmp_path / "lm.arpa", "--nbest", tmp_path / "n.best", "--best",
                         "--score_weight", "1")
    assert code == 0, err
    assert len(out.splitlines()) == len(test)
    assert all(line.split("\t")[2].startswith(f"{i} ||| ") for i, line in enumerate(out.splitlines()))


def test_attention_rows_sum_to_one_over_the_source(run, capsys, tmp_path, monkeypatch):
    src = ["a b c", "", "f e d c a"]
    code, out, err = cli(capsys, "translate", run / "model", "--attention", tmp_path / "a.jsonl",
                         stdin="\n".join(src) + "\n", monkeypatch=monkeypatch)
    assert code == 0, err
    rows = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [0, 1, 2]
    assert rows[1] == {"id": 1, "source": [], "output": [], "weights": []}
    for r, s, t in zip(rows, src, out.split("\n"), strict=False):
        if not s:
            continue
        assert r["source"] == s.split() and r["output"][:-1] == t.split() and r["output"][-1] == "</s>"
        assert len(r["weights"]) == len(r["output"])
        for w in r["weights"]:
            assert len(w) == len(r["source"]) and min(w) >= 0 and abs(sum(w) - 1) < 1e-5


def test_evaluate_bleu_equals_sacrebleu_both_ways(run, capsys, tmp_path):
    from sacremoses import MosesDetokenizer

    test = (run / "test.src").read_text().splitlines()
    (tmp_path / "tok.tgt").write_text("".join(reverse(s) + " .\n" for s in test))  # tokenised references
    raw = [reverse(s).capitalize() + "." for s in test]  # raw ones: other case, "." attached
    (tmp_path / "raw.tgt").write_text("".join(r + "\n" for r in raw))
    code, hyp, _ = cli(capsys, "translate", run / "model", "--text", run / "test.src", "--beam", "2")
    hyps = hyp.splitlines()
    refs = (tmp_path / "tok.tgt").read_text().splitlines()
    code, out, err = cli(capsys, "evaluate", run / "model", "--source_file", run / "test.src", "--reference_file",
                         tmp_path / "tok.tgt", "--raw_reference_file", tmp_path / "raw.tgt", "--beam", "2", "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["sentences"] == len(hyps) and rep["beam"] == 2
    assert rep["tokenized"]["score"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs], tokenize="none").score,
                                                      abs=1e-9)
    detok = [MosesDetokenizer(lang="en").detokenize(h.split()) for h in hyps]
    assert rep["detokenized"]["score"] == pytest.approx(
        sacrebleu.corpus_bleu(detok, [raw], lowercase=True).score, abs=1e-9)
    assert 20 < rep["tokenized"]["score"] < 100 and 20 < rep["detokenized"]["score"] < 100
    assert "tok:none" in rep["tokenized"]["signature"] and "case:lc" in rep["detokenized"]["signature"]
    code, out, err = cli(capsys, "evaluate", run / "model", "--source_file", run / "test.src", "--reference_file",
                         tmp_path / "tok.tgt", "--raw_reference_file", tmp_path / "raw.tgt", "--beam", "2")
    assert code == 0, err
    assert out.count("signature: nrefs:1|") == 2 and "tok:none" in out and "case:lc|eff:no|tok:13a" in out
    # paired bootstrap against another system (the targets themselves: BLEU 100)
    code, out, err = cli(capsys, "evaluate", run / "model", "--source_file", run / "test.src", "--reference_file",
                         tmp_path / "tok.tgt", "--baseline", tmp_path / "tok.tgt", "--resamples", "50", "--json")
    assert code == 0, err
    boot = json.loads(out)["bootstrap"]
    assert boot["baseline"] == pytest.approx(100.0) and boot["system"] == pytest.approx(rep["tokenized"]["score"])
    assert boot["signature"].startswith("nrefs:1|bs:50|") and 0 < boot["p_value"] <= 1  # sacrebleu's form, as BLEU's


def test_resume_equals_uninterrupted(run, capsys, tmp_path):
    extra = ["--attention", "general", "--input_feed", "--model", "lstm", "--dropout", "0.2"]
    assert cli(capsys, *train_args(run, tmp_path / "full", "--epochs", "3", *extra))[0] == 0
    assert cli(capsys, *train_args(run, tmp_path / "part", "--epochs", "1", *extra))[0] == 0
    assert_resume_repeats_the_run(capsys, tmp_path / "full", tmp_path / "part", 3)


def test_bleu_dev_metric_and_an_attention_free_model(run, capsys, tmp_path):
    code, out, err = cli(capsys, *train_args(run, tmp_path / "none", "--epochs", "1", "--attention", "none",
                                             "--dev_metric", "bleu", "--unidirectional"))
    assert code == 0, err
    assert "best dev bleu" in out and "greedy dev BLEU" in out
    hist = json.loads((tmp_path / "none" / "trainer_state.json").read_text())["history"]
    assert 0 <= hist[0]["valid_bleu"] <= 100
    err = cli_error(capsys, "translate", tmp_path / "none", "--text", run / "test.src", "--attention",
                    tmp_path / "a.jsonl")
    assert "has no attention" in err and not (tmp_path / "a.jsonl").exists()


def test_bad_inputs_exit_2_with_one_line(run, capsys, tmp_path):
    write_pairs(tmp_path, "short", lines(5, 3), [reverse(s) for s in lines(4, 3)])
    err = cli_error(capsys, "train", "--kind", "seq2seq", "--train_source", tmp_path / "short.src", "--train_target",
                    tmp_path / "short.tgt", "--valid_source", run / "valid.src", "--valid_target", run / "valid.tgt",
                    "--save", tmp_path / "r", "--quiet")
    assert "has 5 lines" in err and "has 4" in err
    err = cli_error(capsys, "evaluate", run / "model", "--source_file", tmp_path / "short.src", "--reference_file",
                    tmp_path / "short.tgt")
    assert "has 5 lines" in err and "has 4" in err
    write_pairs(tmp_path, "gap", ["a b", "", "c"], ["B A", "", "C"])
    err = cli_error(capsys, *train_args(run, tmp_path / "r3")[:3], "--train_source", tmp_path / "gap.src",
                    "--train_target", tmp_path / "gap.tgt", "--save", tmp_path / "r3", "--quiet")
    assert "gap.src: line 2: an empty source sentence" in err
    write_pairs(tmp_path, "hole", ["a b", "c", "d"], ["B A", " ", "D"])
    err = cli_error(capsys, *train_args(run, tmp_path / "r5")[:3], "--train_source", tmp_path / "hole.src",
                    "--train_target", tmp_path / "hole.tgt", "--save", tmp_path / "r5", "--quiet")
    assert "hole.tgt: line 2: an empty target sentence in training data" in err and not (tmp_path / "r5").exists()
    err = cli_error(capsys, *train_args(run, tmp_path / "r4"), "--source", "de")
    assert "--data multi30k" in err
    err = cli_error(capsys, "translate", run / "model", "--text", run / "test.src", "--beam", "2", "--nbest", "3")
    assert "--nbest 3 is more than --beam 2" in err
    err = cli_error(capsys, "train", "--save", tmp_path / "lm", "--train", run / "train.src", "--attention", "dot")
    assert "applies only with --kind seq2seq" in err
    err = cli_error(capsys, "train", "--kind", "seq2seq", "--train", run / "train.src", "--save", tmp_path / "r2")
    assert "--train_source" in err
    err = cli_error(capsys, "evaluate", run / "model", "--source_file", run / "test.src", "--reference_file",
                    run / "test.tgt", "--labels", "upos")
    assert "--labels" in err
    err = cli_error(capsys, "evaluate", run / "model", "--test", run / "test.tgt")  # a file of another kind's
    assert "--test: not options of an encoder-decoder's evaluation" in err and "reads --source_file" in err
    # a checkpoint of another kind: both kinds named
    (tmp_path / "lm.txt").write_text("a b c\nb c a\n" * 5)
    assert main(["train", "--train", str(tmp_path / "lm.txt"), "--save", str(tmp_path / "lm"), "--epochs", "1",
                 "--emsize", "4", "--nhid", "4", "--nlayers", "1", "--batch_size", "2", "--bptt", "5",
                 "--quiet"]) == 0
    capsys.readouterr()
    err = cli_error(capsys, "translate", tmp_path / "lm", "--text", run / "test.src")
    assert "language model (lm)" in err and "encoder-decoder (seq2seq)" in err
    err = cli_error(capsys, "predict", run / "model", "--text", run / "test.src")
    assert "encoder-decoder (seq2seq)" in err and "tagger (tag)" in err


def test_the_cli_choices_are_the_models():
    from lmlab.cli import train_seq2seq
    from lmlab.models.neural.seq2seq import ATTENTIONS
    from lmlab.train.seq2seq_task import DEV_METRICS

    assert train_seq2seq.ATTENTIONS == ATTENTIONS and train_seq2seq.DEV_METRICS == DEV_METRICS


def test_resume_takes_new_parallel_files_and_refuses_what_does_not_fit(run, capsys, tmp_path):
    """The data options given with --resume replace the recorded ones, as for every kind: new
    training files (and dev files) are read and recorded; a run trained on files records no
    languages, so --data multi30k (whose direction --resume cannot set) is refused instead of
    training a de-en model on en-de data; --train, files of half a pair and other kinds' files too."""
    save = tmp_path / "r"
    assert main([str(a) for a in train_args(run, save, "--epochs", "1", "--max_batches", "2")]) == 0
    recorded = json.loads((save / "trainer_state.json").read_text())["source"]
    assert recorded["data"] is None and recorded["source"] is None and recorded["target"] is None
    new_src, new_tgt = write_pairs(tmp_path, "more", lines(40, 7))
    dev_src, dev_tgt = write_pairs(tmp_path, "dev", lines(10, 8))
    code, _, err = cli(capsys, "train", "--resume", "--save", save, "--epochs", "2", "--train_source", new_src,
                       "--train_target", new_tgt, "--valid_source", dev_src, "--valid_target", dev_tgt)
    assert code == 0, err
    after = json.loads((save / "trainer_state.json").read_text())
    assert after["source"]["train_source"] == str(new_src) and after["source"]["train_target"] == str(new_tgt)
    assert after["source"]["valid_source"] == str(dev_src) and after["epoch"] == 2
    for extra, message in ((["--data", "multi30k"], "whose languages it does not record"),
                           (["--train_source", new_src], "give --train_source and --train_target together"),
                           (["--train", new_src], "--train: not data options of the run"),
                           (["--features", new_src], "--features: not data options of the run")):
        err = cli_error(capsys, "train", "--resume", "--save", save, "--epochs", "3", *extra)
        assert message in err, err
    assert json.loads((save / "trainer_state.json").read_text())["epoch"] == 2  # nothing trained


def test_an_empty_input_is_an_empty_output_for_the_line_filters(run, capsys, monkeypatch, tmp_path):
    """translate and predict are line-for-line filters: no input lines, no output lines, exit 0
    (an empty shard passes through a pipeline), as for the n-best form."""
    for extra in ([], ["--nbest", "2"]):
        code, out, err = cli(capsys, "translate", run / "model", *extra, stdin="", monkeypatch=monkeypatch)
        assert (code, out) == (0, ""), err
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    code, out, err = cli(capsys, "translate", run / "model", "--text", empty)
    assert (code, out) == (0, ""), err
