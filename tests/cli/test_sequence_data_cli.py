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
