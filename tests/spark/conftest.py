"""One SparkSession (local[2]) for every Spark test; skipped where pyspark or Java is missing."""

from __future__ import annotations

import time

import pytest

from lmlab.errors import ConfigError

MASTER = "local[2]"


@pytest.fixture(scope="session")
def spark():
    from lmlab.spark.session import get_session, require_pyspark

    try:
        require_pyspark()
    except ConfigError as exc:
        pytest.skip(str(exc))
    t0 = time.perf_counter()
    # C1 only: a test's jobs are short, and the JIT's second tier would cost more CPU than it saves
    session = get_session(MASTER, 2, conf={"spark.driver.extraJavaOptions": "-XX:+UseParallelGC -XX:TieredStopAtLevel=1"})
    print(f"\nSpark session started in {time.perf_counter() - t0:.1f} s")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def ptb5k(data_root, tmp_path_factory):
    """PTB's first 5,000 training lines, as a file (Spark reads files)."""
    path = tmp_path_factory.mktemp("spark") / "ptb5k.txt"
    with open(data_root / "ptb" / "ptb.train.txt", encoding="utf-8") as src:
        lines = [next(src) for _ in range(5000)]
    path.write_text("".join(lines), encoding="utf-8")
    return path
