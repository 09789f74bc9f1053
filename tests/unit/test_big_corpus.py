"""benchmarks/big_corpus.py: the sampled corpus is the same whether made at once or resumed after
chunks were lost, and is reused from its cache; the ARPA comparison against lmplz finds a
changed value and a missing n-gram."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lmlab.models.ngram.model import NgramLM
from lmlab.models.ngram.model_files import save_arpa

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))
import big_corpus  # noqa: E402


@pytest.fixture()
def tiny_model(tmp_path, monkeypatch, ptb):
    arpa = tmp_path / "tiny.arpa"
    save_arpa(NgramLM(3).fit(ptb["train"][:300]), arpa)
    monkeypatch.setattr(big_corpus, "ensure_model", lambda cache, data: (arpa, big_corpus.sha256(arpa)))
    return arpa


def test_corpus_is_the_same_made_at_once_or_resumed_and_is_reused(tmp_path, tiny_model, monkeypatch):
    make = lambda cache: big_corpus.ensure_corpus(2000, seed=3, cache=cache, data=tmp_path,  # noqa: E731
                                                  chunk_sentences=7)
    path, rec = make(tmp_path / "a")
    text = path.read_text()
    assert rec["tokens"] >= 2000 and rec["chunks"] > 3 and rec["sha256"] == big_corpus.sha256(path)
    assert rec["tokens"] == sum(len(line.split()) + 1 for line in text.splitlines())  # words + </s> per line
    assert rec["lines"] == 7 * rec["chunks"] == len(text.splitlines()) and "<unk>" not in text.split()
    # lose a chunk and the corpus: the run resumes, samples only that chunk, and gives the same text
    chunks = tmp_path / "a" / f"chunks-s3-v{big_corpus.SAMPLER}"
    (chunks / "chunk-00002.json").unlink()
    path.unlink()
    sampled = []
    sample = big_corpus.sample_chunk
    monkeypatch.setattr(big_corpus, "sample_chunk", lambda spec: sampled.append(spec["chunk"]) or sample(spec))
    again, rec2 = make(tmp_path / "a")
    assert sampled == [2] and again.read_text() == text and rec2["sha256"] == rec["sha256"]
    # another seed gives another text; the cached corpus is reused without sampling
    other, _ = big_corpus.ensure_corpus(2000, seed=4, cache=tmp_path / "a", data=tmp_path, chunk_sentences=7)
    assert other.read_text() != text
    sampled.clear()
    assert make(tmp_path / "a")[0].read_text() == text and sampled == []


def test_chunks_and_corpora_of_another_sampler_are_never_mixed_in(tmp_path, tiny_model, monkeypatch):
    import json

    make = lambda: big_corpus.ensure_corpus(600, seed=3, cache=tmp_path, data=tmp_path,  # noqa: E731
                                            chunk_sentences=7)
    path, rec = make()
    assert rec["sampler"] == big_corpus.SAMPLER and path.name == f"corpus-600-s3-v{big_corpus.SAMPLER}.txt"
    text = path.read_text()
    # a chunk recorded by another sampler (same seed, other text) is sampled again, not used
    chunk = tmp_path / f"chunks-s3-v{big_corpus.SAMPLER}" / "chunk-00001.json"
    old = dict(json.loads(chunk.read_text()), sampler=big_corpus.SAMPLER - 1)
    chunk.write_text(json.dumps(old))
    (chunk.with_suffix(".txt")).write_text("an old sampler's text\n")
    path.unlink()
    sampled = []
    sample = big_corpus.sample_chunk
    monkeypatch.setattr(big_corpus, "sample_chunk", lambda spec: sampled.append(spec["chunk"]) or sample(spec))
    again, _ = make()
    assert sampled == [1] and again.read_text() == text
    # a corpus recorded by another sampler is not reused
    record = path.with_suffix(".json")
    record.write_text(json.dumps(dict(json.loads(record.read_text()), sampler=big_corpus.SAMPLER - 1)))
    sampled.clear()
    assert make()[1]["sampler"] == big_corpus.SAMPLER and again.read_text() == text and sampled == []


def test_compare_arpa_finds_a_changed_value_and_a_missing_ngram(tmp_path, ptb):
    arpa = tmp_path / "a.arpa"
    save_arpa(NgramLM(3).fit(ptb["train"][:200]), arpa)
    text = arpa.read_text()
    lines = text.split("\n")
    shuffled = tmp_path / "b.arpa"  # another order of the lines of each section (as lmplz writes them)
    start = lines.index("\\2-grams:") + 1
    end = lines.index("", start)
    shuffled.write_text("\n".join(lines[:start] + lines[start:end][::-1] + lines[end:]))
    same = big_corpus.compare_arpa(arpa, shuffled, tmp_path)
    assert same["same_ngrams"] and same["within_tolerance"] and same["compared"] == sum(big_corpus.arpa_counts(arpa))
    prob, rest = lines[start].split("\t", 1)
    changed = tmp_path / "c.arpa"
    changed.write_text("\n".join(lines[:start] + [f"{float(prob) + 1e-4:.6f}\t{rest}"] + lines[start + 1:]))
    c = big_corpus.compare_arpa(arpa, changed, tmp_path)
    assert c["same_ngrams"] and not c["within_tolerance"] and c["max_abs_diff_logprob10"] == pytest.approx(1e-4, abs=2e-6)
    missing = tmp_path / "d.arpa"
    missing.write_text("\n".join(lines[:start] + lines[start + 1:]))
    assert not big_corpus.compare_arpa(arpa, missing, tmp_path)["same_ngrams"]
