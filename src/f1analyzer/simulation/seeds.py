"""Seeds of batch tasks: derived from what a task *is*, never from where it runs.

A season's backtest or preview is many independent pieces of work (one per race). Run serially,
on a process pool or on a Ray cluster, every piece must see the same random numbers, or the three
would disagree. So each piece is named by a stable key (``"backtest/2023/5"``) and its seed is a
hash of that key and the run's base seed: the same on any worker, in any order, after any retry,
and different between races (a fixed seed for every race would give every race the same lap noise).
"""

from __future__ import annotations

import hashlib

#: derived seeds stay within the requests' seed range (0 .. 2**31 - 1)
SEED_BITS = 31


def task_seed(key: str, base_seed: int = 0) -> int:
    """The seed of the task named ``key`` in a run with ``base_seed``.

    Example:
        >>> task_seed("backtest/2023/5", 0) == task_seed("backtest/2023/5", 0)
        True
    """
    digest = hashlib.sha256(f"{int(base_seed)}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - SEED_BITS)


__all__ = ["task_seed", "SEED_BITS"]
