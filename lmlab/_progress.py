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
