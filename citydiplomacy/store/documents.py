"""Documents of the office's record: the signed text of an agreement, minutes of a meeting, stored in the database.

A document is kept in the ``document`` table (its bytes in ``content``, a ``LargeBinary``: BLOB on SQLite, BYTEA on
PostgreSQL), so that it is written in the same transaction as the rest of a change, backed up with the registry
and never out of step with it.  Before it is written (:func:`add_document`):

* its size is checked against :data:`~citydiplomacy.settings.DOCUMENT_MAX_BYTES` (and an empty file refused);
* its type is recognised from its bytes (:func:`sniff`: the PDF, PNG and JPEG signatures, the package manifest of
  DOCX and ODT files, UTF-8 text without control characters), never from what the uploader claims, and must be one
  of :data:`~citydiplomacy.settings.DOCUMENT_MEDIA_TYPES`, with a file name ending as that type says;
* its original name is made safe (:func:`safe_file_name`: no directories, no control or direction characters);
* its SHA-256 is computed: the same file attached to the same record twice is refused, naming the first copy.

Refusals are :class:`DocumentRefused` (422; :class:`DocumentTooLarge` 413) naming the field, with an i18n key and
its parameters so that pages can say it in the user's language; nothing is written.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from citydiplomacy import settings
from citydiplomacy.core.errors import BadInput, CityDipError, Conflict, NotFound
from citydiplomacy.store import inputs
from citydiplomacy.store.schema import Activity, Document, Relation

__all__ = [
    "DocumentDamaged",
    "DocumentRefused",
    "DocumentTooLarge",
    "DuplicateDocument",
    "TYPE_NAMES",
    "add_document",
    "content_disposition",
    "document_dict",
    "documents_of",
    "load_document",
    "safe_file_name",
    "sniff",
]

#: How a media type is named to people.
TYPE_NAMES: dict[str, str] = {
    "application/pdf": "PDF",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX (Word)",
    "application/vnd.oasis.opendocument.text": "ODT (OpenDocument text)",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "text/plain": "plain text",
}
_ODT = b"application/vnd.oasis.opendocument.text"
#: Characters kept although Unicode calls them "format" characters: the zero-width (non-)joiners of Persian.
_KEPT_FORMAT = {"\u200c", "\u200d"}
_TEXT_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class DocumentRefused(BadInput):
    """A file that cannot be attached: wrong type, too large, empty, without a name (422; the field is named).

    ``key`` and ``params`` say the same in :mod:`citydiplomacy.present.i18n`'s words (``MESSAGES[key]`` formatted
    with ``params``).
    """

    def __init__(self, message: str, key: str, field: str = "file", **params: Any):
        super().__init__(message)
        self.key = key
        self.field = field
        self.params = params


class DocumentTooLarge(DocumentRefused):
    """A file larger than :data:`~citydiplomacy.settings.DOCUMENT_MAX_BYTES` (413)."""

    http_status = 413


class DuplicateDocument(Conflict):
    """The same file (SHA-256) is already attached to the record; ``existing`` is its document id."""

    def __init__(self, message: str, existing: int):
        super().__init__(message)
        self.existing = existing
        self.key = "document_duplicate"
        self.params = {"id": existing}


class DocumentDamaged(CityDipError):
    """A stored document whose bytes no longer match its checksum (500: the database was altered)."""

    http_status = 500


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def safe_file_name(name: str | None) -> str:
    """The last part of ``name`` (no directory of either kind of slash), NFC-normalised, without control or
    direction characters (the Persian zero-width joiners kept), without leading dots, at most 255 characters (the
    ending kept).

    Raises
    ------
    DocumentRefused
        Nothing is left of the name.
    """
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(
        ch for ch in text if ch in _KEPT_FORMAT or unicodedata.category(ch)[0] not in ("C", "Z") or ch == " "
    )
    text = " ".join(text.split()).lstrip(". ").rstrip(" ")
    if not text:
        raise DocumentRefused("file: the file has no name; give it one with its ending (.pdf, .docx, ...)",
                              "document_no_name")  # fmt: skip
    if len(text) > 255:
        stem, dot, ending = text.rpartition(".")
        ending = f".{ending}" if dot and len(ending) <= 10 else ""
        text = (stem if ending else text)[: 255 - len(ending)] + ending
    return text


def sniff(content: bytes) -> str | None:
    """The media type ``content`` is, by its bytes; None: none of the allowed ones.

    PDF, PNG and JPEG by their signatures; a ZIP package is ODT when its first entry ``mimetype`` says so, DOCX
    when it has ``[Content_Types].xml`` and ``word/document.xml``; text when it is UTF-8 without NUL or other
    control characters (tab, newlines, form feed allowed).
    """
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as package:
                names = set(package.namelist())
                small = "mimetype" in names and package.getinfo("mimetype").file_size < 200
                if small and package.read("mimetype").strip() == _ODT:
                    return "application/vnd.oasis.opendocument.text"
                if {"[Content_Types].xml", "word/document.xml"} <= names:
                    return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        except (zipfile.BadZipFile, KeyError, RuntimeError, NotImplementedError, ValueError):
            return None
        return None
    body = content.removeprefix(b"\xef\xbb\xbf")
    if _TEXT_CONTROL.search(body):
        return None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain"


def check_file(file_name: str | None, content: bytes) -> tuple[str, str]:
    """The safe name and the recognised media type of a file, or :class:`DocumentRefused` saying why not."""
    name = safe_file_name(file_name)
    limit = settings.DOCUMENT_MAX_BYTES
    if not content:
        raise DocumentRefused(f"file: {name} is empty", "document_empty", name=name)
    if len(content) > limit:
        raise DocumentTooLarge(
            f"file: {name} is {_megabytes(len(content))}, larger than the limit of {_megabytes(limit)}",
            "document_too_large", name=name, size=_megabytes(len(content)), limit=_megabytes(limit),
        )  # fmt: skip
    allowed = settings.DOCUMENT_MEDIA_TYPES
    media = sniff(content)
    kinds = ", ".join(TYPE_NAMES.get(m, m) for m in allowed)
    if media is None or media not in allowed:
        raise DocumentRefused(
            f"file: {name} is not one of the allowed types ({kinds}) by its content", "document_bad_type",
            name=name, kinds=kinds,
        )  # fmt: skip
    endings = allowed[media]
    if not name.lower().endswith(endings):
        raise DocumentRefused(
            f"file: {name} is a {TYPE_NAMES[media]} by its content, but its name does not end in "
            f"{' or '.join(endings)}; rename it or attach the right file",
            "document_wrong_ending", name=name, kind=TYPE_NAMES[media], endings=" / ".join(endings), media=media,
        )  # fmt: skip
    return name, media


def add_document(session: Session, body: inputs.DocumentIn, file_name: str | None, content: bytes,
                 actor: str) -> Document:  # fmt: skip
    """Attach a file to an agreement or an activity (flushed; audited without its bytes).

    Raises
    ------
    FieldProblem
        ``relation_id`` or ``activity_id`` names no record.
    DocumentRefused
        The file is empty, too large (:class:`DocumentTooLarge`), of a type not allowed, or its name does not fit.
    DuplicateDocument
        The same file (SHA-256) is already attached to the record.
    """
    from citydiplomacy.store.records import FieldProblem, source_id_for

    for field, model, record_id in (("relation_id", Relation, body.relation_id),
                                    ("activity_id", Activity, body.activity_id)):  # fmt: skip
        if record_id is not None and session.get(model, record_id) is None:
            raise FieldProblem(field, f"{field}: no {model.__tablename__} with id {record_id}")
    name, media = check_file(file_name, content)
    digest = hashlib.sha256(content).hexdigest()
    owner = Document.relation_id == body.relation_id if body.relation_id else Document.activity_id == body.activity_id
    what = f"agreement {body.relation_id}" if body.relation_id else f"activity {body.activity_id}"
    existing = session.scalar(select(Document.id).where(owner, Document.sha256 == digest))
    if existing is not None:
        raise DuplicateDocument(
            f"file: {name} is already attached to {what} as document {existing} (same SHA-256 {digest[:12]}…)",
            existing,
        )
    row = Document(
        relation_id=body.relation_id, activity_id=body.activity_id, kind=body.kind, title=body.title,
        file_name=name, media_type=media, size_bytes=len(content), sha256=digest, content=content,
        source_id=source_id_for(session, body.source), source_locator=body.source_locator, entered_by=actor,
    )  # fmt: skip
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # the same file attached at the same moment by someone else: the caller rolls back
        raise DuplicateDocument(f"file: {name} is already attached to {what} (same SHA-256)", 0) from None
    return row


def documents_of(session: Session, relation_id: int | None = None, activity_id: int | None = None) -> list[Document]:
    """The documents of an agreement or an activity, in the order attached (their bytes not loaded)."""
    query = select(Document)
    if relation_id is not None:
        query = query.where(Document.relation_id == relation_id)
    if activity_id is not None:
        query = query.where(Document.activity_id == activity_id)
    return list(session.scalars(query.order_by(Document.id)))


def document_dict(d: Document) -> dict[str, Any]:
    """A document's description, JSON-ready (not its bytes)."""
    return {
        "id": d.id, "relation_id": d.relation_id, "activity_id": d.activity_id, "kind": d.kind, "title": d.title,
        "file_name": d.file_name, "media_type": d.media_type, "type_name": TYPE_NAMES.get(d.media_type, d.media_type),
        "size_bytes": d.size_bytes, "sha256": d.sha256, "entered_by": d.entered_by,
        "entered_at": d.entered_at.isoformat() if d.entered_at else None,
    }  # fmt: skip


def load_document(session: Session, document_id: int) -> tuple[Document, bytes]:
    """A document and its bytes, checked against the stored checksum.

    Raises
    ------
    NotFound
        No document ``document_id``.
    DocumentDamaged
        The bytes no longer match the checksum.
    """
    row = session.get(Document, document_id)
    if row is None:
        raise NotFound(f"no document {document_id}")
    content = bytes(row.content)
    if hashlib.sha256(content).hexdigest() != row.sha256:
        raise DocumentDamaged(f"document {document_id}: its stored bytes do not match its SHA-256 checksum")
    return row, content


def content_disposition(file_name: str) -> str:
    """A ``Content-Disposition: attachment`` header value for ``file_name``: an ASCII fallback and the UTF-8 name
    (RFC 6266 / RFC 5987), so that a Persian name arrives as it was."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in file_name) or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"
