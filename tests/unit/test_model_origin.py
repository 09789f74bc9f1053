"""A model read from a file says how it was made only as far as the file records it (issue 13,
item 7): an ARPA file without lmlab's header is of ``unknown`` smoothing, not modified Kneser-Ney,
and that label survives conversion, pruning and the server."""

from __future__ import annotations

import json

import pytest

from lmlab.cli.main import main
from lmlab.errors import ConfigError
from lmlab.models.loading import load
from lmlab.models.ngram.model import NgramLM

TRAIN = ["the cat sat", "a dog sat on the mat", "the mat", "the dog sat on a log"] * 2


def _header(path) -> dict:
    meta: dict = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("# lmlab: "):
                break
            meta.update(json.loads(line[len("# lmlab: ") :]))
    return meta


@pytest.fixture()
def foreign(tmp_path):
    """An ARPA file from another toolkit (lmlab's written, then its '# lmlab:' lines removed)."""
    NgramLM(3, "witten_bell").fit(TRAIN).to_arpa(tmp_path / "wb.arpa")
    text = (tmp_path / "wb.arpa").read_text(encoding="utf-8")
    path = tmp_path / "foreign.arpa"
    path.write_text("".join(x for x in text.splitlines(keepends=True) if not x.startswith("# lmlab:")),
                    encoding="utf-8")
    return path


def test_arpa_without_header_is_unknown(foreign, kenlm_ref):
    for path in (foreign, kenlm_ref / "toy.o3.arpa"):
        lm = load(path)
        assert lm.smoothing == "unknown" and lm.interpolate is None
        assert "smoothing='unknown'" in repr(lm)


def test_header_label_is_kept(tmp_path):
    NgramLM(3, "witten_bell", interpolate=False).fit(TRAIN).to_arpa(tmp_path / "wb.arpa")
    lm = load(tmp_path / "wb.arpa")
    assert (lm.smoothing, lm.interpolate) == ("witten_bell", False)
    # a method this version does not know is reported as the header records it
    text = (tmp_path / "wb.arpa").read_text(encoding="utf-8").replace('"witten_bell"', '"future_method"')
    (tmp_path / "future.arpa").write_text(text, encoding="utf-8")
    assert load(tmp_path / "future.arpa").smoothing == "future_method"


def test_unknown_survives_convert_and_prune(foreign, tmp_path, capsys):
    lmbin, back, pruned = tmp_path / "f.lmbin", tmp_path / "back.arpa", tmp_path / "pruned.arpa"
    assert main(["convert", str(foreign), str(lmbin), "--quiet"]) == 0
    assert load(lmbin).smoothing == "unknown"
    assert main(["convert", str(lmbin), str(back), "--quiet"]) == 0
    assert _header(back)["smoothing"] == "unknown" and _header(back)["interpolate"] is None
    assert main(["prune", str(foreign), "--threshold", "1e-3", "--arpa", str(pruned), "--quiet"]) == 0
    assert _header(pruned)["smoothing"] == "unknown"
    assert load(pruned).smoothing == "unknown"


def test_pruned_model_keeps_its_labels(tmp_path):
    lm = NgramLM(3, "witten_bell", interpolate=False).fit(TRAIN)
    p = lm.prune_entropy(1e-3)
    assert (p.smoothing, p.interpolate) == ("witten_bell", False)


def test_a_model_of_unknown_smoothing_is_not_refitted(foreign):
    with pytest.raises(ConfigError, match="smoothing is 'unknown'.*cannot be re-estimated"):
        load(foreign).fit(TRAIN)


def test_server_info_shows_the_smoothing(foreign):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from lmlab.server.app import create_app

    info = TestClient(create_app(load(foreign), name="f")).get("/info").json()
    assert info["smoothing"] == "unknown"
