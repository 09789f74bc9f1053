"""The Spark n-gram job gives the single-machine model: the same n-grams, every log10 probability
and backoff to 1e-6, whatever the number of partitions (and the same file, byte for byte)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from lmlab._io import read_lines
from lmlab.models.ngram.arpa import read_arpa
from lmlab.models.ngram.model import NgramLM
from lmlab.models.ngram.model_files import save_arpa

TOL = 1e-6


def assert_same_tables(ta, va, tb, vb, tol=TOL):
    assert va.tokens == vb.tokens  # the vocabulary, in the same order
    assert ta.order == tb.order and ta.sizes() == tb.sizes()
    for m in range(ta.order):
        assert np.array_equal(ta.keys[m], tb.keys[m]), f"the {m + 1}-grams differ"
        np.testing.assert_allclose(tb.logprob10[m], ta.logprob10[m], rtol=0, atol=tol)
        np.testing.assert_allclose(tb.backoff10[m], ta.backoff10[m], rtol=0, atol=tol)
    assert ta.constant_backoff10 == tb.constant_backoff10 or abs(ta.constant_backoff10 - tb.constant_backoff10) < tol


def assert_same_arpa(ref, out):
    ta, va, _ = read_arpa(ref)
    tb, vb, meta = read_arpa(out)
    assert meta["engine"] == "spark"
    assert_same_tables(ta, va, tb, vb)


@pytest.fixture(scope="module")
def references(ptb5k, tmp_path_factory):
    """Single-machine ARPA files of orders 3 and 5 (made before any timed part)."""
    folder = tmp_path_factory.mktemp("ref")
    lines = read_lines(ptb5k)
    out = {}
    for order in (3, 5):
        out[order] = folder / f"o{order}.arpa"
        save_arpa(NgramLM(order).fit(lines), out[order])
    return out


# slow for now: 128 s here (a second core busy), over the 90 s for the default suite, which it
# would push near its 10-minute limit; the other smoothers, pruning and the CLI below stay in it
@pytest.mark.slow
def test_spark_matches_single_machine_orders_3_5_partitions_1_2_4(spark, ptb5k, references, tmp_path):
    from lmlab.spark.ngram import NgramJob, estimate, job_stats, release

    t0 = time.perf_counter()
    report = []
    for order in (3, 5):
        files = []
        for parts in (1, 2, 4):
            t = time.perf_counter()
            model = estimate(spark, str(ptb5k), NgramJob(order), parts)
            out = tmp_path / f"o{order}.p{parts}.arpa"
            model.write_arpa(str(out))
            stats = job_stats(spark, model.stats["group"])
            release(model)
            report.append(f"order {order} x {parts} partitions: {time.perf_counter() - t:.1f} s, {stats['jobs']} jobs, "
                          f"{stats['stages']} stages")
            assert_same_arpa(references[order], out)
            files.append(out.read_bytes())
        assert files[0] == files[1] == files[2]  # the file does not depend on the partitioning
    print("\n" + "\n".join(report) + f"\nall six: {time.perf_counter() - t0:.1f} s")


def test_spark_prune_and_stupid_backoff(spark, ptb5k, tmp_path):
    from lmlab.spark.ngram import NgramJob, estimate, release

    lines = read_lines(ptb5k)[:2000]
    small = tmp_path / "ptb2k.txt"
    small.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ref = tmp_path / "ref.arpa"
    save_arpa(NgramLM(4, prune=[0, 1, 2]).fit(lines), ref)
    model = estimate(spark, str(small), NgramJob(4, prune=[0, 1, 2]), 2)
    model.write_arpa(str(tmp_path / "pruned.arpa"))
    release(model)
    assert_same_arpa(ref, tmp_path / "pruned.arpa")
    unpruned = NgramLM(4).fit(lines).tables.sizes()
    assert read_arpa(ref)[0].sizes()[1:] < unpruned[1:]  # pruning did drop n-grams

    lm = NgramLM(3, "stupid_backoff").fit(lines)
    model = estimate(spark, str(small), NgramJob(3, "stupid_backoff"), 2)
    sb = model.to_lm()
    release(model)
    assert_same_tables(lm.tables, lm.vocab, sb.tables, sb.vocab)
    assert sb.tables.constant_backoff10 == pytest.approx(np.log10(0.4))
    with pytest.raises(Exception, match="cannot be written as ARPA"):
        model.write_arpa(str(tmp_path / "sb.arpa"))


@pytest.mark.parametrize("smoothing,extra", [("kneser_ney", {}), ("absolute_discounting", {}),
                                             ("modified_kneser_ney", {"interpolate_unigrams": False, "min_count": 2})])
def test_spark_other_smoothers(spark, ptb5k, tmp_path, smoothing, extra):
    from lmlab.spark.ngram import NgramJob, estimate, release

    lines = read_lines(ptb5k)[:1000]
    small = tmp_path / "ptb1k.txt"
    small.write_text("\n".join(lines) + "\n", encoding="utf-8")
    kw = {"interpolate_unigrams": extra.get("interpolate_unigrams", True), "min_count": extra.get("min_count", 1)}
    lm = NgramLM(3, smoothing, **kw).fit(lines)
    model = estimate(spark, str(small), NgramJob(3, smoothing, **kw), 2)
    got = model.to_lm()
    release(model)
    assert_same_tables(lm.tables, lm.vocab, got.tables, got.vocab)
    np.testing.assert_allclose(np.array(model.discounts), np.array(lm.discounts), rtol=1e-12)


@pytest.mark.slow
def test_spark_full_ptb_order_5(spark, data_root, tmp_path):
    from lmlab.spark.ngram import NgramJob, estimate, release

    train = data_root / "ptb" / "ptb.train.txt"
    ref = tmp_path / "ref.arpa"
    save_arpa(NgramLM(5).fit(read_lines(train)), ref)
    model = estimate(spark, str(train), NgramJob(5), 4)
    model.write_arpa(str(tmp_path / "spark.arpa"))
    release(model)
    assert_same_arpa(ref, tmp_path / "spark.arpa")
