"""``resolve_device(name)``: a device name checked against this PyTorch build and machine.

``torch.device("cuda")`` on a CPU-only build succeeds, and the first tensor moved there fails
with an ``AssertionError`` deep inside PyTorch; a user's ``--device`` gets a one-line
:class:`ConfigError` instead.
"""

from __future__ import annotations

import torch

from ...errors import ConfigError


def resolve_device(name: str | torch.device) -> torch.device:
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError, ValueError):
        raise ConfigError(f"device {name!r} is not a device name (cpu, cuda, cuda:N, mps)") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            build = "a CPU-only PyTorch build" if torch.version.cuda is None else "no CUDA GPU visible"
            raise ConfigError(f"device {name!r}: CUDA is not available here ({build}); use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"device {name!r}: there are {torch.cuda.device_count()} CUDA devices")
    elif device.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ConfigError(f"device {name!r}: MPS is not available here; use --device cpu")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"device {name!r}: lmlab runs on cpu, cuda or mps")
    return device
