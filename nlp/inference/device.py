"""Pick the torch device for inference and size the CPU thread pool."""

from __future__ import annotations

import functools
import os

import torch

_SETTINGS = ("auto", "cpu", "cuda")


def device_resolve(setting: str = "auto") -> torch.device:
    """Turn a device setting ("auto", "cpu", "cuda") into a torch device.

    The caller reads the setting (e.g. `settings.NLP_DEVICE`) so this module stays Django-free.
    """
    choice = setting.strip().lower()
    if choice not in _SETTINGS:
        raise ValueError(f"Unknown device setting {setting!r}; expected one of {_SETTINGS}.")
    if choice == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        # An explicit index, so callers and results report "cuda:0" rather than "cuda".
        return torch.device("cuda", torch.cuda.current_device())
    if choice == "cuda":
        raise RuntimeError(
            "Device 'cuda' was requested (NLP_DEVICE) but CUDA is not available to torch; "
            "set it to 'cpu' or 'auto', or install a CUDA build of torch."
        )
    return torch.device("cpu")


@functools.cache
def cpu_threads_configure() -> None:
    """Give torch's intra-op pool one thread per usable CPU; runs once per process."""
    torch.set_num_threads(max(1, os.cpu_count() or 1))
