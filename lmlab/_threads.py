"""Thread pools for inference: numpy's own BLAS works single-threaded.

Stepping a recurrent model token by token (generation, completion, a beam search, a server's
requests) multiplies small matrices.  OpenBLAS spreads even those over all cores, and when the
cores are busy (a server's concurrent requests, a training job beside it) its spinning threads
make one product 30x slower than on one thread (measured: 7.9 ms against 0.22 ms for a
(16, 256) x (256, 1024) product on 2 busy cores).  The inference commands therefore limit the
BLAS library bundled with numpy to one thread with threadpoolctl; torch's thread pools (set by
``torch.set_num_threads``) are not touched.
"""

from __future__ import annotations

import os


def limit_numpy_blas_threads(threads: int = 1) -> bool:
    """Limit the BLAS library inside numpy's wheel to ``threads``; False if there is none to limit
    (threadpoolctl missing, or numpy linked against a system BLAS that other code may share)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return False
    import numpy

    site = os.path.dirname(os.path.dirname(os.path.abspath(numpy.__file__)))
    ctl = ThreadpoolController()
    ours = [lib.filepath for lib in ctl.lib_controllers
            if lib.user_api == "blas" and os.path.relpath(lib.filepath, site).startswith("numpy")]
    if not ours:
        return False
    ctl.select(filepath=ours).limit(limits=threads)
    return True
