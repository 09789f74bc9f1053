"""The SparkSession of the n-gram job, and the checks made before one is started.

* pyspark or Java missing: a :class:`ConfigError` saying what to install.
* ``--master spark://HOST:PORT``: the master is probed first (:func:`probe_master`), so an
  unreachable one is reported within seconds (Spark itself retries for about a minute).  A bare TCP
  connect is not enough (a proxy may accept connections on closed ports), so the probe sends one
  request frame of Spark's RPC protocol and waits for the reply every Spark RPC server sends.
* The session's settings: shuffles with as many tasks as the corpus has partitions
  (``spark.sql.shuffle.partitions``; Spark's default of 200 tasks per shuffle is most of the time
  of a small job), no adaptive re-planning (the plan, and so the result's layout, stays fixed),
  ``spark.local.dir`` from ``-T``, no web UI; ``--spark_conf`` settings override them.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import struct
import time

from ..errors import ConfigError, LmlabError

INSTALL_PYSPARK = "pip install 'lmlab[spark]' (pyspark==4.3.0)"
PROBE_TIMEOUT = 5.0  # seconds for the master's reply


def require_pyspark() -> None:
    """pyspark importable and a Java runtime to start its JVM, or a ConfigError saying what to install."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise ConfigError(f"--engine spark needs pyspark: {INSTALL_PYSPARK}, and Java 17") from None
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.access(java, os.X_OK):
        where = f"JAVA_HOME={home} has no bin/java" if home else "no 'java' on PATH"
        raise ConfigError(f"--engine spark needs a Java 17 runtime ({where}): install one (Debian: apt-get install "
                          "openjdk-17-jre-headless) or set JAVA_HOME")


def parse_master(master: str) -> tuple[str, int] | None:
    """(host, port) of a standalone master URL ``spark://HOST:PORT``; None for other masters."""
    if not master.startswith("spark://"):
        return None
    first = master[len("spark://"):].split(",")[0]  # a list of masters (ZooKeeper HA): the first
    m = re.fullmatch(r"\[?([^\[\]/]+?)\]?:(\d+)/?", first)
    if not m or not 0 < int(m.group(2)) < 65536:
        raise ConfigError(f"--master {master}: expected spark://HOST:PORT")
    return m.group(1), int(m.group(2))


def _rpc_probe_frame() -> bytes:
    """One RpcRequest frame of Spark's transport protocol (network-common's MessageEncoder):
    frame length (int64, itself included), message type (3: RpcRequest), request id (int64),
    body length (int32) and an empty body.  A Spark RPC server answers it (an RpcFailure, since the
    body is no RPC message); anything else (a proxy, another service) does not."""
    return struct.pack(">qbqi", 8 + 1 + 8 + 4, 3, 0x6C6D6C6162, 0)


def probe_master(master: str, timeout: float = PROBE_TIMEOUT) -> None:
    """A ConfigError (within about ``timeout`` seconds) if ``spark://HOST:PORT`` does not answer as a
    Spark master would; nothing for other masters (local, yarn, k8s)."""
    hp = parse_master(master)
    if hp is None:
        return
    host, port = hp
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise ConfigError(f"--master {master}: cannot connect to {host}:{port} ({exc.strerror or exc})") from None
    reply = b""
    with sock:
        try:
            sock.sendall(_rpc_probe_frame())
            while len(reply) < 9:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                sock.settimeout(left)
                chunk = sock.recv(64)
                if not chunk:
                    break
                reply += chunk
        except OSError:  # timed out, reset: no answer
            pass
    if len(reply) >= 9:
        length, kind = struct.unpack(">qb", reply[:9])
        if 9 <= length < (1 << 31) and kind in (4, 5):  # RpcResponse, RpcFailure
            return
    raise ConfigError(f"--master {master}: no Spark master answers at {host}:{port} (no Spark RPC reply within "
                      f"{timeout:g} s; is the master running, and is this its RPC port, usually 7077?)")


def session_conf(partitions: int | None, local_dir: str | None, conf: dict[str, str]) -> dict[str, str]:
    """The job's Spark settings (``conf``, the user's, last)."""
    out = {
        "spark.sql.adaptive.enabled": "false",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "false",
        # joins by hashing the smaller side of each shuffle (no sort, no broadcast job per join)
        "spark.sql.autoBroadcastJoinThreshold": "-1",
        "spark.sql.join.preferSortMergeJoin": "false",
        "spark.driver.extraJavaOptions": "-XX:+UseParallelGC",
    }
    if partitions is not None:
        out["spark.sql.shuffle.partitions"] = str(partitions)
        out["spark.default.parallelism"] = str(partitions)
    if local_dir is not None:
        out["spark.local.dir"] = local_dir
    out.update(conf)
    return out


def get_session(master: str, partitions: int | None = None, local_dir: str | None = None,
                conf: dict[str, str] | None = None, app_name: str = "lmlab-ngram"):
    """A SparkSession for the job (an active one with the same master is reused: its settings that
    can change at run time are set, the rest stay as they are).  :func:`started` tells whether this
    call started it (then the caller stops it)."""
    require_pyspark()
    probe_master(master)
    from pyspark.sql import SparkSession

    settings = session_conf(partitions, local_dir, conf or {})
    active = SparkSession.getActiveSession()
    if active is not None and active.sparkContext.master == master:
        for key in RUNTIME_KEYS:
            if key in settings:
                active.conf.set(key, settings[key])
        _STARTED.discard(id(active))
        return active
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # a JVM that does not start, a bad setting: one line
        raise LmlabError(f"Spark did not start (--master {master}): {first_line(exc)}") from None
    spark.sparkContext.setLogLevel("ERROR")
    _STARTED.add(id(spark))
    return spark


_STARTED: set[int] = set()
RUNTIME_KEYS = ("spark.sql.shuffle.partitions", "spark.sql.adaptive.enabled", "spark.sql.autoBroadcastJoinThreshold",
                "spark.sql.join.preferSortMergeJoin")


def started(spark) -> bool:
    """Whether :func:`get_session` started ``spark`` (rather than reusing an active session)."""
    return id(spark) in _STARTED


def first_line(exc: BaseException) -> str:
    """The first meaningful line of a (Java) exception's message."""
    text = str(exc).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("An error occurred while calling", "at ", "JVM stacktrace")):
            return line[:300]
    return type(exc).__name__
