"""Inspecting a large upload beside its storage, on a second thread.

An upload's chunk is inspected, hashed, encrypted and written. Hashing (``hashlib``) and
writing (``os.write``) let go of the interpreter's lock while they work; the inspection, the
parser and the encryption hold it. One thread doing everything leaves the machine's other
core idle: ``StreamingInspection`` hands the inspection of a large content to a thread of its
own, which works while the upload's thread hashes and writes. Whenever one thread waits for
the lock, the other does useful work with it, so nothing is spent waiting for nothing.

What stays the same as a plain ``Inspector``:

- the same verdict and the same rejection for the same bytes: the inspector is the one used
  inline, fed the same chunks in the same order, and finished in the caller's thread;
- small contents (up to ``INLINE_BYTES``) are inspected inline, chunk by chunk: a type
  refused by its first bytes (HTML renamed ``.pdf``, an archive) is refused by the ``feed``
  that brought them;
- the size limit is refused by the ``feed`` that crosses it: that ``feed`` waits for the
  inspection of everything before, whose earliest finding comes first, as inline;
- memory stays bounded: at most ``QUEUED_CHUNKS`` chunks wait for the inspection thread; the
  upload's thread waits when they are there.

What changes: a finding in a large content's body is raised by a later ``feed`` (within
``QUEUED_CHUNKS`` chunks) or by ``finish``. Nothing is committed before ``finish``, so the
content is dropped all the same, only a few chunks later.

The inspection thread speaks the language of the upload's thread (the rejection messages are
translated there), holds no reference to its owner (an owner dropped without ``close`` still
ends it), and is a daemon: it never keeps the process alive."""

from __future__ import annotations

import queue
import threading
import weakref
from dataclasses import dataclass

from django.utils import translation

from dcc.documents.inspection.inspector import Inspector
from dcc.documents.inspection.verdicts import Kind, Verdict

# Contents up to this size are inspected inline: a second thread is not worth starting.
INLINE_BYTES = 1024 * 1024
# Chunks waiting for the inspection thread, at most (with 256 KiB chunks: 2 MiB).
QUEUED_CHUNKS = 8


@dataclass
class _Shared:
    """What both threads see: the first failure of the inspection thread."""

    failure: BaseException | None = None
    stopped: bool = False


def _inspect(
    chunks: queue.Queue[bytes | None], inspector: Inspector, shared: _Shared, language: str | None
) -> None:
    with translation.override(language):
        while True:
            chunk = chunks.get()
            try:
                if chunk is None:
                    return
                if shared.failure is None and not shared.stopped:
                    inspector.feed(chunk)
            except BaseException as error:  # noqa: BLE001 - handed over to the upload's thread
                shared.failure = error
            finally:
                chunks.task_done()


def _stop(chunks: queue.Queue[bytes | None], shared: _Shared) -> None:
    shared.stopped = True
    chunks.put(None)


class StreamingInspection:
    """An ``Inspector`` that inspects a large content on a thread of its own."""

    def __init__(
        self,
        *,
        declared: Kind | None = None,
        max_size: int | None = None,
        inline_bytes: int | None = None,
    ) -> None:
        self.max_size = max_size
        self._inspector = Inspector(declared=declared, max_size=max_size)
        # Read from the module at each use: tests lower it.
        self._inline_bytes = INLINE_BYTES if inline_bytes is None else inline_bytes
        self._size = 0
        self._shared = _Shared()
        self._chunks: queue.Queue[bytes | None] | None = None
        self._thread: threading.Thread | None = None
        self._stopper: weakref.finalize[[queue.Queue[bytes | None], _Shared], object] | None = None

    @property
    def size(self) -> int:
        """Bytes received so far."""
        return self._size

    @property
    def threaded(self) -> bool:
        """Whether the inspection went to a thread of its own."""
        return self._thread is not None

    def feed(self, chunk: bytes) -> None:
        failure = self._shared.failure
        if failure is not None:
            raise failure
        if self._shared.stopped:
            raise ValueError("the inspection is closed")
        self._size += len(chunk)
        chunks = self._chunks
        if chunks is None:
            if self._size <= self._inline_bytes:
                self._inspector.feed(chunk)
                return
            chunks = self._start()
        chunks.put(chunk)
        if self.max_size is not None and self._size > self.max_size:
            self._drain()
            raise AssertionError("the inspector let a content over its size limit through")

    def finish(self) -> Verdict:
        if self._chunks is not None:
            self._drain()
            self.close()
        return self._inspector.finish()

    def close(self) -> None:
        """Stop the inspection thread (an abort: what is still queued is not inspected)."""
        if self._stopper is not None:
            self._stopper()
        if self._thread is not None:
            self._thread.join()

    def _start(self) -> queue.Queue[bytes | None]:
        chunks: queue.Queue[bytes | None] = queue.Queue(QUEUED_CHUNKS)
        self._chunks = chunks
        self._thread = threading.Thread(
            target=_inspect,
            args=(chunks, self._inspector, self._shared, translation.get_language()),
            name="dcc-inspection",
            daemon=True,
        )
        self._thread.start()
        self._stopper = weakref.finalize(self, _stop, chunks, self._shared)
        return chunks

    def _drain(self) -> None:
        """Wait until every chunk fed is inspected; raise the inspection's failure."""
        assert self._chunks is not None  # noqa: S101 - only once the thread started
        self._chunks.join()
        failure = self._shared.failure
        if failure is not None:
            raise failure
