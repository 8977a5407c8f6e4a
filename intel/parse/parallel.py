"""Parsing on every core: a pool of worker processes fed batch by batch.

The pool uses the ``forkserver`` start method: workers fork from a clean server process, never
from the caller, which may hold threads (Prefect, DuckDB) whose locks a plain fork would copy.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from types import TracebackType

from intel.parse.message import parse_message, use_fast_boundaries
from intel.parse.model import ParsedMessage

__all__ = ["ParallelParser", "default_workers"]

# Below this many messages a batch is parsed in-process: shipping it costs more than it saves.
MIN_PARALLEL = 64

Item = tuple[bytes, datetime | None]


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _init_worker() -> None:
    """Set up a parse worker process (it only ever parses).

    Multipart boundaries are matched without a regex compile each (`use_fast_boundaries`).
    Everything imported before the fork (the parser, the stdlib email package) lives as long as
    the worker: freezing it spares every full garbage collection a walk over it. Parsing makes
    many short-lived objects and few cycles, so young collections can run less often too.
    """
    use_fast_boundaries()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def parse_chunk(items: list[Item], now: datetime) -> list[ParsedMessage]:
    return [parse_message(data, internal_date=internal, ingest_time=now) for data, internal in items]


class _Done(Future[list[ParsedMessage]]):
    def __init__(self, value: list[ParsedMessage]) -> None:
        super().__init__()
        self.set_result(value)


class _Joined:
    """The results of several chunk futures, in order."""

    def __init__(self, parts: list[Future[list[ParsedMessage]]]) -> None:
        self.parts = parts

    def result(self) -> list[ParsedMessage]:
        out: list[ParsedMessage] = []
        for part in self.parts:
            out.extend(part.result())
        return out


class ParallelParser:
    """Submit a batch, get a handle whose `result()` is the parsed messages in order."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers if workers and workers > 0 else default_workers()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["intel.parse.message"])
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context, initializer=_init_worker)
        return self._pool

    def submit(self, items: list[Item], now: datetime) -> _Joined:
        if self.workers <= 1 or len(items) < MIN_PARALLEL:
            return _Joined([_Done(parse_chunk(items, now))])
        pool = self._executor()
        size = -(-len(items) // self.workers)
        return _Joined([pool.submit(parse_chunk, items[i : i + size], now) for i in range(0, len(items), size)])

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ParallelParser:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
