"""The rendered pages one server process keeps: least recently used first out."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

#: A stored page larger than this is not kept (a long lesson is a few tens of kB).
MAX_PAGE_BYTES = 512 * 1024


@dataclass(slots=True)
class StoredPage:
    """One rendered page and what it is valid for.

    ``stamp`` is the pair of generations (the person's, the site's) it was rendered under;
    ``expires`` a :func:`time.monotonic` instant; ``replay`` rewrites the time-relative parts of
    the body when it is served again (a quiz's seconds left).
    """

    stamp: tuple
    body: bytes
    content_type: str
    expires: float
    replay: Callable[[str], str] | None = None


class PageStore:
    """A thread-safe map of pages, keyed by person, session and address, bounded by a number of
    pages and by the bytes of their bodies."""

    def __init__(self, capacity: int, max_bytes: int = 64 << 20):
        self.capacity = max(1, capacity)
        self.max_bytes = max(MAX_PAGE_BYTES, max_bytes)
        self._pages: OrderedDict[Hashable, StoredPage] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0
        self.hits = self.misses = 0

    def get(self, key: Hashable, stamp: tuple) -> StoredPage | None:
        """The page stored under ``key`` if it was rendered under ``stamp`` and has not expired."""
        with self._lock:
            page = self._pages.get(key)
            if page is not None and (page.stamp != stamp or page.expires <= time.monotonic()):
                self._drop(key)
                page = None
            if page is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def put(self, key: Hashable, page: StoredPage) -> None:
        """Keep ``page`` (pages too large to keep are dropped), pushing out the oldest."""
        if len(page.body) > MAX_PAGE_BYTES:
            return
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = page
            self.bytes += len(page.body)
            while len(self._pages) > self.capacity or self.bytes > self.max_bytes:
                self._drop(next(iter(self._pages)))  # the least recently used

    def _drop(self, key: Hashable) -> None:
        self.bytes -= len(self._pages.pop(key).body)

    def clear(self) -> None:
        """Forget every page."""
        with self._lock:
            self._pages.clear()
            self.bytes = 0

    def __len__(self) -> int:
        return len(self._pages)
