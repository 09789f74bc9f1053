"""The sequence-task datasets through the CLI: listed by ``lmlab data``, usable by ``lmlab classify``."""

from __future__ import annotations

from lmlab.cli.main import main


def test_data_list_shows_the_sequence_datasets(data_root, capsys):
    assert main(["data", "list", "ud-english-ewt", "conll2000", "sst5", "mr", "multi30k"]) == 0
    out = capsys.readouterr().out
    assert "multi30k         12/12 files ok" in out and "test.de.raw" in out
    assert "conll2000        2/2 files ok" in out


def test_classify_sst5_and_mr_needs_a_fold(data_root, capsys):
    assert main(["classify", "--task", "sst5", "--order", "1", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"n": 2210' in out and all(f'"{c}": {{' in out for c in "01234")
    assert main(["classify", "--task", "mr"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "mr has no fixed split" in err


def test_classify_mr_with_a_fold_tests_on_that_fold(data_root, capsys):
    """--fold K: train on nine folds, test on fold K (1066 or 1067 texts, both labels balanced)."""
    import json

    from lmlab.data.tasks import classification_task

    assert main(["classify", "--task", "mr", "--fold", "3", "--order", "1", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    test = classification_task("mr", "test", 3)
    assert rep["n"] == len(test) and rep["train_examples"] == len(classification_task("mr", "train", 3))
    assert rep["n"] + rep["train_examples"] == 10_662
    assert main(["classify", "--task", "mr", "--fold", "10"]) == 2
    assert main(["classify", "--task", "sst2", "--fold", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "applies only with --task mr" in err
