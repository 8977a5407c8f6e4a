"""Advisory file locks (``flock``) that wait with a deadline: one writer, one token refresh.

Also the liveness test for writers that name their temporary files after their process id.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["exclusive_lock", "process_running"]


@contextmanager
def exclusive_lock(
    path: Path, timeout: float, on_timeout: Callable[[], Exception], mode: int = 0o600
) -> Iterator[None]:
    """Hold an exclusive ``flock`` on `path` (created with `mode`), waiting up to `timeout` seconds.

    ``flock`` locks belong to an open file, so this excludes other threads of this process as
    well as other processes; the lock goes with the process if it dies. Raises `on_timeout()`
    when the wait runs out.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, mode)
    try:
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise on_timeout() from None
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def process_running(pid: int) -> bool:
    """Whether process `pid` still runs (this process always does).

    A process that exists but is not ours to signal counts as running: when in doubt, its
    files are left alone.
    """
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but is not ours to signal
        return True
    return True
