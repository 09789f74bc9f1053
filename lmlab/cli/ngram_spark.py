"""``lmlab ngram --engine spark``: the n-gram job on Apache Spark (:mod:`lmlab.spark.ngram`).

Imported only for ``--engine spark``: the rest of ``lmlab ngram`` never imports pyspark.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time

from ..errors import ConfigError, LmlabError


def run_spark(args, fallback, discount, progress) -> int:
    from ..spark.ngram import NgramJob, SMOOTHERS

    if args.smoothing not in SMOOTHERS:
        raise ConfigError(f"--engine spark estimates {', '.join(SMOOTHERS)}; not --smoothing {args.smoothing} "
                          "(the native engine estimates it)")
    if args.interpolate and args.smoothing == "stupid_backoff":
        raise ConfigError("stupid_backoff has no interpolated form")
    job = NgramJob(args.order, args.smoothing, interpolate_unigrams=bool(args.interpolate_unigrams), discount=discount,
                   discount_fallback=fallback, prune=args.prune, min_count=args.min_count, max_size=args.max_vocab)
    if args.smoothing == "stupid_backoff" and args.binary is None:
        raise ConfigError("stupid_backoff cannot be written as ARPA (every backoff step costs alpha, also from "
                          "contexts not in the file): give --binary FILE.lmbin")
    from ..spark.session import get_session, require_pyspark, started

    require_pyspark()
    conf = dict(args.spark_conf or [])
    staging = tempfile.mkdtemp(prefix="lmlab-spark-", dir=_temp_root(args.temp_prefix))
    try:
        path = _input_path(args, staging)
        t0 = time.perf_counter()
        spark = get_session(args.master, args.partitions, args.temp_prefix, conf)
        progress(f"Spark {spark.version} started ({args.master}, {spark.sparkContext.defaultParallelism} cores) in "
                 f"{time.perf_counter() - t0:.1f} s")
        try:
            _run(spark, path, job, args, staging, progress)
        finally:
            if started(spark):
                spark.stop()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return 0


def _temp_root(prefix: str | None) -> str | None:
    if prefix is None:
        return None
    os.makedirs(prefix, exist_ok=True)
    return prefix


def _input_path(args, staging: str) -> str:
    """The corpus as a path Spark reads: ``--text`` itself, or stdin / ``--data`` copied into ``staging``."""
    if args.text is not None and args.text not in ("", "-") and args.data is None:
        if "://" not in args.text:
            if not os.path.exists(args.text):
                raise ConfigError(f"{args.text}: no such file")
            if os.path.isdir(args.text):
                raise ConfigError(f"{args.text} is a directory; give the training text file")
            return os.path.abspath(args.text)
        return args.text
    from ._common import input_lines

    lines = input_lines(args.text, args.data, "train")
    path = os.path.join(staging, "train.txt")
    with open(path, "w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line + "\n")
    return path


def _run(spark, path: str, job, args, staging: str, progress) -> None:
    from ..spark.ngram import estimate, job_stats, release

    t0 = time.perf_counter()
    try:
        model = estimate(spark, path, job, args.partitions)
        progress(f"estimated {job.smoothing} order {job.order} on Spark: n-grams per order {model.sizes}")
        if model.discounts is not None:
            from .ngram import _discount_text

            for m, d in enumerate(model.discounts, start=1):
                progress(f"discounts order {m}: {_discount_text(d)}")
        if args.binary is not None:
            model.write_binary(args.binary)
            progress(f"wrote {args.binary}")
        if args.arpa is not None and args.arpa != "-":
            model.write_arpa(args.arpa, parts_dir=staging if "://" not in args.arpa else None)
            progress(f"wrote {args.arpa}")
        if args.arpa == "-" or (args.arpa is None and args.binary is None):
            out = os.path.join(staging, "stdout.arpa")
            model.write_arpa(out, parts_dir=staging)
            with open(out, "rb") as fh:
                shutil.copyfileobj(fh, sys.stdout.buffer)
            sys.stdout.buffer.flush()
            progress("wrote ARPA to stdout")
        stats = job_stats(spark, model.stats["group"])
        progress(f"Spark: {stats['jobs']} jobs, {stats['stages']} stages, {time.perf_counter() - t0:.1f} s")
        release(model)
    except LmlabError:
        raise
    except Exception as exc:
        if not _is_spark_error(exc):
            raise
        from ..spark.session import first_line

        raise LmlabError(f"the Spark job failed: {first_line(exc)}") from None


def _is_spark_error(exc: BaseException) -> bool:
    mod = type(exc).__module__ or ""
    return mod.startswith(("pyspark", "py4j"))
