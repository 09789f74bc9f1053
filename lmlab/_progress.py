"""Progress bars on stderr (tqdm): a total, so that every bar shows a percentage and an ETA.

Only when stderr is a terminal (a log file gets the per-epoch lines, not bar redraws), and only
where tqdm is installed (it comes with the neural extra).
"""

from __future__ import annotations

import sys


def progress_bar(enabled: bool, desc: str, total: int | None, unit: str = "it"):
    """A tqdm bar over ``total`` ``unit``s, or None when disabled, not on a terminal or no tqdm."""
    if not enabled or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(desc=desc, total=total, unit=unit, unit_scale=unit == "tok", file=sys.stderr, leave=False,
                dynamic_ncols=True)


# -- stages of a long run (``lmlab ngram -S``): one bar at a time, set up once by the command --------
_stages: dict = {"on": False, "bar": None}


class stage_bars:  # noqa: N801 - used as a context manager, like a function
    """``with stage_bars(enabled):`` the :func:`stage` and :func:`advance` calls made inside (by the
    library, wherever the work is) draw one bar per stage on a terminal; elsewhere they do nothing."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __enter__(self):
        _stages["on"] = self.enabled
        return self

    def __exit__(self, *exc) -> None:
        _close()
        _stages["on"] = False


def stage(desc: str, total: int | None, unit: str = "n-grams") -> None:
    """Start a stage of ``total`` ``unit``s (closing the one before), inside :class:`stage_bars`."""
    if _stages["on"]:
        _close()
        _stages["bar"] = progress_bar(True, desc, total=total, unit=unit)


def advance(n: int) -> None:
    """``n`` more units of the current stage are done."""
    bar = _stages["bar"]
    if bar is not None:
        bar.update(n)


def _close() -> None:
    bar, _stages["bar"] = _stages["bar"], None
    if bar is not None:
        bar.close()
