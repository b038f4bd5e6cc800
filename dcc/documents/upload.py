"""Receiving an upload: the multipart file streams straight into ``PendingContent``.

Django's default handlers keep small files in memory and write larger ones, in clear, to a
temporary file; this handler instead inspects, hashes, encrypts and stores each chunk as it
arrives, so memory stays bounded whatever the size and no clear byte touches a disk. A refused
content (type, size, active content) is dropped at once and the rest of that file skipped; the
other form fields are still read, so the form comes back with its values and a precise
error. A body that ends before its file does (the connection closed, or timed out upstream) is
dropped as well, and reported as an interrupted upload.

A process's first upload also settles what writes interrupted by an earlier crash left in the
store (``scrub.recover_once``)."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopFutureHandlers
from django.http import HttpRequest

from dcc.documents.content import PendingContent
from dcc.documents.inspection import Kind, RejectedContent
from dcc.documents.scrub import recover_once

FILE_FIELD = "file"
CHUNK_SIZE = 256 * 1024

# What the browser says the file is (from its extension): a claim the content must match.
DECLARED_KINDS = {
    "application/pdf": Kind.PDF,
    "image/jpeg": Kind.JPEG,
    "image/pjpeg": Kind.JPEG,
    "image/png": Kind.PNG,
    "text/plain": Kind.TEXT,
    "text/xml": Kind.CDA,
    "application/xml": Kind.CDA,
    "application/hl7-cda+xml": Kind.CDA,
}


class StreamedUpload(UploadedFile):
    """What ``request.FILES['file']`` holds: the pending (uncommitted) content."""

    def __init__(self, pending: PendingContent, name: str, size: int, content_type: str) -> None:
        super().__init__(file=None, name=name, content_type=content_type, size=size)
        self.pending = pending

    def close(self) -> None:  # nothing to close: the content is in the store, uncommitted
        return None


class DocumentUploadHandler(FileUploadHandler):
    chunk_size = CHUNK_SIZE

    def __init__(self, request: HttpRequest | None = None, *, max_size: int | None = None) -> None:
        super().__init__(request)
        self.max_size = max_size
        self.pending: PendingContent | None = None
        self.rejection: RejectedContent | None = None
        self.rejected_size = 0
        self.extra_file = False
        self.interrupted = False
        self._seen_file = False

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        if field_name != FILE_FIELD or self._seen_file:
            # One document per upload: any other file part is skipped (and reported).
            self.extra_file = True
            raise SkipFile
        self._seen_file = True
        content_type = (self.content_type or "").split(";")[0].strip().lower()
        recover_once()
        self.pending = PendingContent(
            file_name=file_name or "",
            declared=DECLARED_KINDS.get(content_type),
            max_size=self.max_size,
        )
        raise StopFutureHandlers

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        pending = self.pending
        if pending is None:
            return None
        try:
            pending.feed(raw_data)
        except RejectedContent as rejection:
            self._reject(rejection, pending)
            raise SkipFile from None
        return None

    def file_complete(self, file_size: int) -> UploadedFile | None:
        pending = self.pending
        if pending is None:
            return None
        try:
            pending.finish()
        except RejectedContent as rejection:
            self._reject(rejection, pending)
            return None
        return StreamedUpload(pending, self.file_name or "", file_size, self.content_type or "")

    def upload_interrupted(self) -> None:
        """The body ended inside the file: what arrived is dropped, never committed."""
        self.interrupted = True
        self.abort()

    def _reject(self, rejection: RejectedContent, pending: PendingContent) -> None:
        self.rejection = rejection
        self.rejected_size = pending.size
        pending.abort()
        self.pending = None

    def abort(self) -> None:
        """Drop whatever was received (an error, a refused form, a broken connection)."""
        if self.pending is not None:
            self.pending.abort()
            self.pending = None
