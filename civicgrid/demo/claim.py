"""Which demo uses a data directory: a lock file the running demo holds.

Every ``civicgrid demo`` holds a shared lock on ``demo.lock`` in its data directory while
it runs (creating, then serving); ``--reset`` needs it alone, so it refuses while another
demo serves from the same directory. The operating system drops the lock with the
process, however it ends, so a killed demo leaves nothing stale behind. The file also
says where the demo answers, for the refusal's message.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import CommandError

LOCK_NAME = "demo.lock"


class Claim:
    def __init__(self, fd: int) -> None:
        self._fd = fd

    def share(self, note: str) -> None:
        """Keep the directory, letting other demos (not a reset) use it beside this one."""
        fcntl.flock(self._fd, fcntl.LOCK_SH)
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, note.encode(), 0)


@contextlib.contextmanager
def data_dir_claimed(data_dir: Path, *, alone: bool) -> Iterator[Claim]:
    """Hold the data directory for this command; ``alone`` for a reset."""
    path = data_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if alone else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            if not alone:
                raise CommandError(
                    f"The demo in {data_dir} is being reset; start it again when that ends."
                ) from None
            holder = path.read_text(encoding="utf-8", errors="replace").strip()
            raise CommandError(
                f"A demo is running from {data_dir}"
                + (f" ({holder})" if holder else "")
                + ". Stop it (Ctrl+C in its terminal) before --reset."
            ) from None
        yield Claim(fd)
    finally:
        os.close(fd)  # releases the lock
