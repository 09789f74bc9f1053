"""N-gram estimation as one PySpark job: the same model as the single-machine estimator.

Every step is a DataFrame built-in (SQL expressions and higher-order functions run in the JVM; no
Python UDF or lambda runs on the data):

1. **Lines** are read by Spark (any path it reads: local, ``hdfs://``, ``s3a://``), each given a
   line key in file order (``monotonically_increasing_id`` is increasing in file order), then
   hash-partitioned by it into ``partitions`` parts.  Words are split as ``str.split`` splits.
2. **Vocabulary**: one aggregation gives each word's count, first position (line key, position)
   and the number of lines; the driver collects it and builds the vocabulary as the single-machine
   path does (:meth:`lmlab.text.vocab.Vocab.from_counts`: first-appearance order, ``--min_count``,
   ``--max_vocab``), so word ids never depend on the partitioning.
3. **Counting** (map-reduce): each line, encoded through a broadcast join with the vocabulary
   (the partitioning by line key survives it: no shuffle), emits every n-gram of orders 1..N as an
   array of word ids (with its text), and one aggregation counts them all.
4. **Adjusted counts**: the continuation count of an n-gram is the number of distinct n-grams of
   the next order whose suffix it is (one aggregation and a join that reuses the counts'
   partitioning); n-grams starting with ``<s>`` and the highest order keep raw counts.
5. **Counts-of-counts** t1..t4 and the number of n-grams (and of those kept by ``--prune``) of
   every order: one aggregation, collected; the discounts come from
   :func:`lmlab.models.ngram.smoothing.kneser_ney.order_discounts`, the single-machine code's.
6. **Interpolation**: per context, the sums of adjusted counts and of discounts give ``u`` of each
   n-gram and ``gamma`` of each context (count pruning moves a dropped n-gram's ``u`` into its
   context's ``gamma``, KenLM's rule); then order by order from the unigrams up, each n-gram joins
   the lower order's probability of its suffix, ``p = u + gamma * p_lower`` (the single-machine
   recursion, the same operations); the backoff weight of an n-gram is its ``gamma`` as a context.
7. **Output**: the ARPA lines are sorted by (order, word ids) -- the single-machine file's order --
   written as part files by Spark and concatenated in part order after the header; or, for lmlab's
   binary format (and stupid backoff, which ARPA cannot express), the tables are collected.

Numbers are computed in double precision as the single-machine path computes them and written as
float32 values (ARPA's precision), so the two files agree to float32 rounding.
"""

from __future__ import annotations

import math
import os
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError, CorpusError, LmlabError
from ..text.specials import BOS_ID, EOS_ID, SPECIALS, UNK, UNK_ID

SMOOTHERS = ("modified_kneser_ney", "kneser_ney", "absolute_discounting", "stupid_backoff")
KN_FAMILY = ("modified_kneser_ney", "kneser_ney", "absolute_discounting")
LOG10_ZERO = -99.0
# What str.split() splits on (Java's \s alone is ASCII only): Unicode white space and \x1c-\x1f.
SPLIT_RE = r"[\s\x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]+"


@dataclass
class NgramJob:
    """What to estimate (the CLI's options; the meanings of :class:`lmlab.models.ngram.model.NgramLM`'s)."""

    order: int
    smoothing: str = "modified_kneser_ney"
    interpolate_unigrams: bool = True
    discount: float | Sequence[float] | None = None
    discount_fallback: Sequence[float] | None = None
    prune: Sequence[int] | None = None
    alpha: float = 0.4
    min_count: int = 1
    max_size: int | None = None

    def __post_init__(self):
        if self.smoothing not in SMOOTHERS:
            raise ConfigError(f"--engine spark estimates {', '.join(SMOOTHERS)}; not {self.smoothing} "
                              "(use the single-machine engine for it)")
        if self.prune is not None:
            if self.smoothing == "stupid_backoff":
                raise ConfigError("count pruning is not defined for stupid_backoff")
            from ..models.ngram.prune import check_thresholds

            self.prune = check_thresholds(self.prune, self.order)


@dataclass
class SparkModel:
    """The estimated model: its vocabulary and sizes on the driver, its rows in Spark."""

    job: NgramJob
    vocab: object
    sizes: list[int]
    discounts: list[np.ndarray] | None
    rows: object  # DataFrame (n, g, t, lp, bo)
    spark: object
    stats: dict = field(default_factory=dict)

    @property
    def normalized(self) -> bool:
        return self.job.smoothing != "stupid_backoff"

    def meta(self) -> dict:
        from .._version import __version__

        meta = {"lmlab_version": __version__, "order": self.job.order, "smoothing": self.job.smoothing,
                "interpolate": self.normalized, "normalized": self.normalized, "engine": "spark"}
        if self.job.smoothing in ("modified_kneser_ney", "kneser_ney") and not self.job.interpolate_unigrams:
            meta["interpolate_unigrams"] = False
        if self.discounts is not None:
            meta["discounts"] = [[round(float(x), 9) for x in d[1:]] for d in self.discounts]
        return meta

    # -- ARPA ------------------------------------------------------------------------------
    def write_arpa(self, path: str, parts_dir: str | None = None) -> None:
        """Sort the lines, write them as part files and concatenate them after the header (a
        local ``path``: atomically, compressed by suffix; a URI, ``hdfs://`` or ``file://``: through
        Hadoop's file system, the parts next to it)."""
        if not self.normalized:
            raise LmlabError(f"{self.job.smoothing} cannot be written as ARPA: it penalises every backoff step, also "
                             "from contexts that are not in the file, which ARPA's backoff cannot express (write "
                             "lmlab's binary format: --binary FILE.lmbin)")
        from ..models.ngram.arpa_text import META_PREFIX
        import json

        head = [META_PREFIX + json.dumps(self.meta(), sort_keys=True, ensure_ascii=False),
                META_PREFIX + json.dumps({"tokenizer": self.vocab.tokenizer.to_dict()}, sort_keys=True),
                "\\data\\", *(f"ngram {m}={n}" for m, n in enumerate(self.sizes, start=1))]
        head_bytes = ("\n".join(head) + "\n").encode("utf-8")
        tail = b"\n\\end\\\n"
        lines = self._arpa_lines()
        if _is_uri(path):
            _write_hadoop(self.spark, lines, path, head_bytes, tail)
            return
        from .._io import atomic_write

        folder = tempfile.mkdtemp(prefix="lmlab-spark-parts-", dir=parts_dir or os.path.dirname(os.path.abspath(path)))
        try:
            lines.write.mode("overwrite").text(_file_uri(folder))
            parts = sorted(f for f in os.listdir(folder) if f.startswith("part-"))
            with atomic_write(path) as out:
                out.write(head_bytes)
                for name in parts:
                    with open(os.path.join(folder, name), "rb") as fh:
                        while chunk := fh.read(1 << 20):
                            out.write(chunk)
                out.write(tail)
        finally:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)

    def _arpa_lines(self):
        from pyspark.sql import functions as F

        N = self.job.order
        fmt = lambda c: F.regexp_replace(F.format_string("%.9f", c.cast("float").cast("double")),  # noqa: E731
                                         r"\.?0+$", "")
        body = self.rows.select(
            "n", "g", F.concat_ws("\t", fmt(F.col("lp")), F.col("t"),
                                  F.when(F.col("n") < N, fmt(F.col("bo")))).alias("line"))
        heads = self.spark.createDataFrame([(m, [], f"\n\\{m}-grams:") for m in range(1, N + 1)],
                                           "n int, g array<int>, line string")
        return body.unionByName(heads).orderBy("n", "g").select("line")

    # -- tables (binary format, tests) ---------------------------------------------------------
    def tables(self):
        """The model's :class:`~lmlab.models.ngram.tables.BackoffTables` (collected on the driver)."""
        from ..models.ngram.tables import BackoffTables

        N, V = self.job.order, len(self.vocab)
        by_order: dict[int, list] = {m: [] for m in range(1, N + 1)}
        for r in self.rows.select("n", "g", "lp", "bo").toLocalIterator():
            by_order[r[0]].append((r[1], r[2], r[3]))
        keys, logp, back = [], [], []
        for m in range(1, N + 1):
            rows = by_order.pop(m)
            g = np.array([r[0] for r in rows], dtype=np.int64).reshape(len(rows), m)
            lp = np.array([r[1] for r in rows], dtype=np.float64)
            bo = np.array([0.0 if r[2] is None else r[2] for r in rows], dtype=np.float64)
            if m == 1:
                k = g[:, 0]
                if len(k) != V or set(k.tolist()) != set(range(V)):
                    raise LmlabError(f"the Spark job gave {len(k)} unigrams for a vocabulary of {V}")
            else:
                cur = g[:, 0]
                for j in range(1, m - 1):
                    cur = np.searchsorted(keys[j], cur * V + g[:, j])
                k = cur * V + g[:, m - 1]
            order = np.argsort(k, kind="stable")
            keys.append(k[order])
            logp.append(lp[order].astype(np.float32))
            back.append(bo[order].astype(np.float32) if m < N else np.empty(0, np.float32))
        constant = math.log10(self.job.alpha) if self.job.smoothing == "stupid_backoff" else None
        return BackoffTables(N, V, keys, logp, back, constant_backoff10=constant)

    def to_lm(self):
        """An :class:`~lmlab.models.ngram.model.NgramLM` of the collected tables."""
        from ..models.ngram.model import NgramLM

        lm = NgramLM.from_tables(self.tables(), self.vocab, smoothing=self.job.smoothing,
                                 interpolate_unigrams=self.job.interpolate_unigrams)
        lm.interpolate, lm.normalized, lm.discounts = self.normalized, self.normalized, self.discounts
        return lm

    def write_binary(self, path: str) -> None:
        from ..models.ngram.model_files import save_binary

        save_binary(self.to_lm(), path)


def _is_uri(path: str) -> bool:
    return "://" in str(path) or str(path).startswith("file:")


def _file_uri(path: str) -> str:
    from pathlib import Path

    return Path(path).absolute().as_uri()


def _write_hadoop(spark, lines, path: str, head: bytes, tail: bytes) -> None:
    """Parts next to ``path`` on its file system, concatenated in part order into ``path`` (written
    under a temporary name, then renamed over it)."""
    if path.endswith((".gz", ".bz2", ".xz")):
        raise ConfigError(f"{path}: compressed output is written only to local paths")
    jvm = spark._jvm  # noqa: SLF001
    conf = spark._jsc.hadoopConfiguration()  # noqa: SLF001
    Path = jvm.org.apache.hadoop.fs.Path
    target = Path(path)
    fs = target.getFileSystem(conf)
    token = uuid.uuid4().hex[:12]
    parts, tmp = Path(f"{path}.parts-{token}"), Path(f"{path}.tmp-{token}")
    try:
        lines.write.text(parts.toString())
        names = sorted((s.getPath().getName(), s.getPath()) for s in fs.listStatus(parts))
        out = fs.create(tmp, True)
        try:
            out.write(bytearray(head))
            for name, p in names:
                if name.startswith("part-"):
                    src = fs.open(p)
                    jvm.org.apache.hadoop.io.IOUtils.copyBytes(src, out, conf, False)
                    src.close()
            out.write(bytearray(tail))
        finally:
            out.close()
        if fs.exists(target):
            fs.delete(target, False)
        if not fs.rename(tmp, target):
            raise LmlabError(f"{path}: could not rename the written file into place")
    finally:
        fs.delete(parts, True)
        if fs.exists(tmp):
            fs.delete(tmp, False)


# ---------------------------------------------------------------------------------------------
# the job
# ---------------------------------------------------------------------------------------------
def estimate(spark, path: str, job: NgramJob, partitions: int | None = None) -> SparkModel:
    """Estimate ``job`` from the text at ``path`` (one sentence per line) with ``spark``."""
    from pyspark.sql import functions as F

    from ..text.vocab import Vocab

    sc = spark.sparkContext
    group = f"lmlab-ngram-{uuid.uuid4().hex[:8]}"
    sc.setJobGroup(group, f"lmlab ngram -o {job.order} {job.smoothing}")
    P = partitions or sc.defaultParallelism
    spark.conf.set("spark.sql.shuffle.partitions", str(P))
    N = job.order
    E = F.expr

    # 1. lines, keyed in file order, partitioned by that key
    lines = spark.read.option("lineSep", "\n").text(path)
    lines = lines.select(F.monotonically_increasing_id().alias("lid"), F.col("value"))
    lines = lines.select("lid", F.when(F.col("lid") == 0, F.regexp_replace("value", "^\ufeff", ""))
                         .otherwise(F.col("value")).alias("value"))
    lines = lines.repartition(P, "lid")
    toks = lines.select("lid", F.split("value", SPLIT_RE).alias("w0")).select("lid", E("filter(w0, x -> x != '')")
                                                                              .alias("w"))
    pos = toks.select("lid", F.posexplode_outer("w").alias("pos", "word"))

    # 2. vocabulary (collected)
    wc = pos.groupBy("word").agg(F.count(F.lit(1)).alias("c"), F.min(F.struct("lid", "pos")).alias("first"),
                                 F.sum(F.when(F.col("pos").isNull() | (F.col("pos") == 0), 1).otherwise(0))
                                 .alias("starts")).collect()
    n_lines = sum(int(r["starts"]) for r in wc)
    if n_lines == 0:
        raise CorpusError(f"{path}: the input is empty (no lines)")
    words = sorted((r for r in wc if r["word"] is not None), key=lambda r: (r["first"]["lid"], r["first"]["pos"]))
    if not words and N > 1:
        raise CorpusError("the training corpus has no words (only empty lines)")
    vocab = Vocab.from_counts({r["word"]: int(r["c"]) for r in words}, min_count=job.min_count, max_size=job.max_size)
    V = len(vocab)
    vdf = spark.createDataFrame([(t, i) for i, t in enumerate(vocab.tokens) if i not in (BOS_ID, EOS_ID)],
                                "word string, id int")

    # 3. counting: encoded lines (the join keeps the partitioning by line: no shuffle), n-grams of every order
    enc = pos.join(F.broadcast(vdf), "word", "left").select(
        "lid", "pos", F.coalesce("id", F.lit(UNK_ID)).alias("id"),
        F.when(F.col("id").isNull(), F.lit(UNK)).otherwise(F.col("word")).alias("tw"))
    sent = enc.groupBy("lid").agg(F.sort_array(F.collect_list(F.struct("pos", "id", "tw"))).alias("x0"))
    sent = sent.select(E("filter(x0, e -> e.pos IS NOT NULL)").alias("x")).select(
        E(f"concat(array({BOS_ID}), transform(x, e -> e.id), array({EOS_ID}))").alias("s"),
        E(f"concat(array('{SPECIALS[1]}'), transform(x, e -> e.tw), array('{SPECIALS[2]}'))").alias("sw"))
    grams = sent.select(E(
        f"explode(flatten(transform(sequence(1, {N}), m -> transform("
        "slice(sequence(1, size(s)), 1, greatest(size(s) - m + 1, 0)), "
        "i -> named_struct('g', slice(s, i, m), 't', array_join(slice(sw, i, m), ' '))))))").alias("x")
    ).select("x.g", "x.t", F.lit(1).alias("wt"))
    unk = spark.createDataFrame([([UNK_ID], UNK, 0)], "g array<int>, t string, wt int")  # <unk>: a unigram always
    counts = grams.unionByName(unk).groupBy("g").agg(F.sum("wt").cast("long").alias("c"), F.first("t").alias("t"))
    counts = counts.withColumn("n", F.size("g"))

    # 4. adjusted counts
    is_bos = E(f"g = array({BOS_ID})")
    continuation = job.smoothing in ("modified_kneser_ney", "kneser_ney")
    if continuation:
        left = counts.where(F.col("n") >= 2).select(E("slice(g, 2, n - 1)").alias("g")).groupBy("g").agg(
            F.count(F.lit(1)).cast("long").alias("cont"))
        counts = counts.join(left, "g", "left")
        a = (F.when(is_bos, 0).when((F.col("n") == N) | (F.col("g")[0] == BOS_ID), F.col("c"))
             .otherwise(F.coalesce("cont", F.lit(0))))
    else:
        a = F.when(is_bos, 0).otherwise(F.col("c"))
    keep = F.lit(True)
    if job.prune is not None:
        keep = (F.col("n") == 1) | (F.col("c") > F.element_at(F.array(*[F.lit(int(t)) for t in job.prune]), F.col("n")))
    A = counts.select("g", "t", "n", "c", a.cast("long").alias("a"), keep.alias("keep"))
    A = A.persist()

    # 5. sizes and counts-of-counts of every order, at once (collected)
    stats = A.groupBy("n").agg(
        F.count(F.lit(1)).alias("size"), F.sum(F.col("keep").cast("long")).alias("kept"),
        *(F.sum((F.col("a") == k).cast("long")).alias(f"t{k}") for k in (1, 2, 3, 4))).collect()
    by_n = {int(r["n"]): r for r in stats}
    sizes = [int(by_n[m]["kept"]) if m in by_n else 0 for m in range(1, N + 1)]
    discounts = None
    if job.smoothing in KN_FAMILY:
        from ..models.ngram.smoothing.kneser_ney import order_discounts

        discounts = []
        for m in range(1, N + 1):
            r = by_n.get(m)
            t = np.array([0] + ([int(r[f"t{k}"]) for k in (1, 2, 3, 4)] if r is not None else [0] * 4), np.int64)
            d = order_discounts(t, m, modified=job.smoothing == "modified_kneser_ney", discount=job.discount,
                                fallback=job.discount_fallback)
            discounts.append(np.array([0.0, *d], dtype=np.float64))

    # 6. per context sums; u, gamma; interpolation over the suffixes; backoff weights
    ctx = E("slice(g, 1, n - 1)")
    if discounts is None:  # stupid backoff: c(h w) / sum_x c(h x); every backoff step costs alpha
        D = A.select("g", "t", "n", "a", "keep", ctx.alias("ctx"))
        totals = D.groupBy("ctx").agg(F.sum("a").cast("double").alias("total"))
        rows = D.join(totals, "ctx").select(
            "n", "g", "t", F.when(is_bos | (F.col("a") == 0), F.lit(LOG10_ZERO))
            .otherwise(F.log10(F.col("a") / F.col("total"))).alias("lp"),
            F.when(F.col("n") < N, F.lit(0.0)).alias("bo"))
        return _finish(spark, sc, group, job, vocab, sizes, None, rows)

    dk = [F.element_at(F.array(*[F.lit(float(d[k])) for d in discounts]), F.col("n")) for k in (1, 2, 3)]
    dcol = F.least(F.when(F.col("a") >= 3, dk[2]).when(F.col("a") == 2, dk[1]).when(F.col("a") == 1, dk[0])
                   .otherwise(F.lit(0.0)), F.col("a").cast("double"))
    D = A.select("g", "t", "n", "a", "keep", ctx.alias("ctx"), dcol.alias("d"))
    G = D.groupBy("ctx").agg(
        F.sum("a").cast("double").alias("denom"), F.sum("d").alias("dsum"),
        F.sum(F.when(~F.col("keep"), F.col("a") - F.col("d")).otherwise(0.0)).alias("moved"),
        F.sum(F.col("keep").cast("int")).alias("kids"))
    gamma = (F.when(F.col("denom") > 0, F.col("dsum") / F.col("denom")).otherwise(0.0)
             + F.when(F.col("denom") > 0, F.col("moved") / F.col("denom")).otherwise(0.0))
    G = G.select("ctx", "denom", gamma.alias("gamma"), "kids")
    K = D.where("keep").join(G.select("ctx", "denom", F.col("gamma").alias("gctx")), "ctx").select(
        "g", "t", "n", ((F.col("a") - F.col("d")) / F.col("denom")).alias("u"), "gctx")
    K = K.join(G.select(F.col("ctx").alias("g"), F.col("gamma").alias("bg"), "kids"), "g", "left").select(
        "g", "t", "n", "u", "gctx", F.when(F.col("kids") > 0, F.col("bg")).otherwise(1.0).alias("bow"))
    # p = u + gamma(context) * p_lower(suffix), order by order from the unigrams up
    base = (F.lit(1.0 / (V - 1)) if job.interpolate_unigrams
            else F.when(F.col("g")[0] == UNK_ID, F.lit(1.0)).otherwise(F.lit(0.0)))
    level = K.where(F.col("n") == 1).select("g", (F.col("u") + F.col("gctx") * base).alias("p"))
    levels = [level]
    for m in range(2, N + 1):
        level = K.where(F.col("n") == m).select("g", "u", "gctx", E("slice(g, 2, n - 1)").alias("s")).join(
            level.select(F.col("g").alias("s"), F.col("p").alias("plow")), "s").select(
            "g", (F.col("u") + F.col("gctx") * F.col("plow")).alias("p"))
        levels.append(level)
    probs = levels[0]
    for level in levels[1:]:
        probs = probs.unionByName(level)
    out = K.join(probs, "g")
    p = F.when(is_bos, F.lit(0.0)).otherwise(F.col("p"))
    lp = F.when(p <= 0, F.lit(LOG10_ZERO)).otherwise(F.least(F.log10(p), F.lit(0.0)))
    bo = (F.when(F.col("n") >= N, F.lit(None).cast("double"))
          .when(E(f"g = array({EOS_ID})"), F.lit(0.0))
          .when(F.col("bow") <= 0, F.lit(LOG10_ZERO)).otherwise(F.log10("bow")))
    rows = out.select("n", "g", "t", lp.alias("lp"), bo.alias("bo"))
    return _finish(spark, sc, group, job, vocab, sizes, discounts, rows)


def _finish(spark, sc, group, job, vocab, sizes, discounts, rows) -> SparkModel:
    rows = rows.persist()  # the output's sort samples it and then writes it: computed once
    model = SparkModel(job, vocab, sizes, discounts, rows, spark)
    model.stats["group"] = group
    return model


def job_stats(spark, group: str) -> dict:
    """Jobs and stages Spark ran for one estimation (its job group)."""
    tracker = spark.sparkContext.statusTracker()
    jobs = list(tracker.getJobIdsForGroup(group))
    stages = set()
    for j in jobs:
        info = tracker.getJobInfo(j)
        if info is not None:
            stages.update(info.stageIds)
    return {"jobs": len(jobs), "stages": len(stages)}


def release(model: SparkModel) -> None:
    """Free the cached data of an estimation."""
    model.rows.unpersist()
    model.spark.catalog.clearCache()
