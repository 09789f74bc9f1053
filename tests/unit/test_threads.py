"""Inference commands run numpy's bundled BLAS on one thread and leave other thread pools alone."""

from __future__ import annotations

import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")


def test_numpy_blas_limited_to_one_thread_and_torch_untouched():
    pytest.importorskip("torch")  # its OpenMP pool must keep its size
    from lmlab._threads import limit_numpy_blas_threads

    ctl = threadpoolctl.ThreadpoolController()
    before = {lib.filepath: lib.num_threads for lib in ctl.lib_controllers}
    try:
        assert limit_numpy_blas_threads(1)
        after = {i["filepath"]: (i["num_threads"], i["user_api"]) for i in threadpoolctl.threadpool_info()}
        numpy_libs = [p for p in after if "numpy" in p]
        assert numpy_libs and all(after[p][0] == 1 for p in numpy_libs)
        assert all(after[p][0] == n for p, n in before.items() if "numpy" not in p)
    finally:
        for path, n in before.items():
            threadpoolctl.ThreadpoolController().select(filepath=[path]).limit(limits=n)


def test_cli_inference_commands_limit_blas(tmp_path, capsys):
    from lmlab.cli.main import INFERENCE, main
    from lmlab.models.ngram.model import NgramLM

    assert {"complete", "generate", "serve", "score"} <= INFERENCE and "train" not in INFERENCE
    ctl = threadpoolctl.ThreadpoolController()
    before = {lib.filepath: lib.num_threads for lib in ctl.lib_controllers}
    numpy_libs = [p for p in before if "numpy" in p]
    try:
        ctl.select(filepath=numpy_libs).limit(limits=2)  # as a fresh process starts on 2 cores
        if not all(i["num_threads"] == 2 for i in threadpoolctl.threadpool_info() if "numpy" in i["filepath"]):
            pytest.skip("numpy's BLAS cannot run 2 threads here")
        NgramLM(2, "witten_bell").fit(["a b c", "a c"]).to_arpa(tmp_path / "m.arpa")
        assert main(["complete", str(tmp_path / "m.arpa"), "a", "-k", "1"]) == 0
        info = {i["filepath"]: i["num_threads"] for i in threadpoolctl.threadpool_info()}
        assert all(n == 1 for p, n in info.items() if "numpy" in p)
    finally:
        for path, n in before.items():
            threadpoolctl.ThreadpoolController().select(filepath=[path]).limit(limits=n)
