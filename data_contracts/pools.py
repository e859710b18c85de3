"""Closing a `multiprocessing` pool whose processes may have died.

Not a table: it lives here because both layers that run process pools, `mining` (batches of reports) and `dataset`
(header readers), import only this package. A pool process killed from outside (the out-of-memory killer, say) can
die holding one of the pool's locks, and `Pool.terminate()` then waits for that lock forever.
"""
from __future__ import annotations

import sys
import threading
from contextlib import contextmanager

STOP_WAIT_S = 5.0  # how long closing a pool may wait for its processes before it frees what dead ones hold


def stop_pool(pool) -> None:
    """pool.terminate(). It takes the task queue's read lock and the result queue's write lock, and would wait
    forever for one that a dead process holds (a process of CPython's Pool holds the first while it waits for its next
    task, the second while it sends a result): when it has not ended after STOP_WAIT_S, the pool's processes are
    killed, and those locks, then held by none, freed."""
    def terminate():
        try:
            pool.terminate()
        except (EOFError, OSError, ValueError) as exc:  # a queue a killed process left half read
            print(f"radmine: closing the worker processes: {exc!r}", file=sys.stderr)

    stopping = threading.Thread(target=terminate, daemon=True)
    stopping.start()
    stopping.join(STOP_WAIT_S)
    if not stopping.is_alive():
        return
    workers = list(getattr(pool, "_pool", ()))
    for p in workers:
        p.kill()
    for p in workers:
        p.join(5)
    for lock in (getattr(getattr(pool, "_inqueue", None), "_rlock", None),
                 getattr(getattr(pool, "_outqueue", None), "_wlock", None)):
        if lock is not None:
            lock.acquire(False)  # taken now, or held by a killed process: either way free after the release
            lock.release()
    stopping.join(STOP_WAIT_S)


@contextmanager
def stopping(pool):
    """`with stopping(pool):` stops the pool with `stop_pool` on the way out, as `with pool:` would with terminate()."""
    try:
        yield pool
    finally:
        stop_pool(pool)
