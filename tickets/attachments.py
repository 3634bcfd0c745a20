"""Attachments: what may be uploaded, told by the file's content (never by its name), and how it is stored.

``filetype`` reads the magic numbers of binary formats (PDF, images, office documents). It has no
signature for plain text, so text and CSV are recognised here: valid UTF-8 (or Latin-1 without
control characters), no NUL byte, and nothing a browser would treat as markup (HTML, SVG, XML).
An upload is refused when its content is of no allowed type, when its name says another type than
its content (an image named ``.pdf``), when it is empty, too big, or would take the case past its
total. Everything is checked before anything is written.
"""

import os
import re
import unicodedata
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# Detected type -> the name endings a file of that type may have (the first is used when it has none).
ALLOWED_TYPES = {
    "application/pdf": ("pdf",),
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "image/heic": ("heic",),
    "image/tiff": ("tif", "tiff"),
    "application/msword": ("doc",),
    "application/vnd.ms-excel": ("xls",),
    "application/vnd.ms-powerpoint": ("ppt",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("pptx",),
    "application/vnd.oasis.opendocument.text": ("odt",),
    "application/vnd.oasis.opendocument.spreadsheet": ("ods",),
    "application/vnd.oasis.opendocument.presentation": ("odp",),
    "text/plain": ("txt", "log", "text"),
    "text/csv": ("csv",),
}
# OLE2 files (old Word/Excel/PowerPoint) share one signature; filetype names them by a guess. Any of
# the three endings is accepted for any of the three types.
OLE_TYPES = {"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"}
# What a browser could take for markup and run: never accepted as text, whatever the name.
MARKUP = re.compile(rb"<\s*(!doctype|html|head|body|script|svg|iframe|object|embed|\?xml|meta|style|a\s)", re.I)
TEXT_SNIFF_BYTES = 64 * 1024
NAME_MAX_LENGTH = 100


@dataclass(frozen=True)
class CheckedFile:
    upload: object
    name: str
    content_type: str
    size: int


def max_file_bytes() -> int:
    return settings.TICKETS_ATTACHMENT_MAX_BYTES


def max_total_bytes() -> int:
    return settings.TICKETS_ATTACHMENTS_MAX_TOTAL_BYTES


def sanitised_name(name: str) -> str:
    """The customer's file name, safe to show and to send in Content-Disposition: no path, no control
    or odd characters, at most NAME_MAX_LENGTH characters with the ending kept."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] not in ("C", "Z") or char == " ")
    name = re.sub(r"[^\w .()\-+,]", "_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem, dot, ending = name.rpartition(".")
    if not dot:
        stem, ending = name, ""
    ending = ending[:10]
    stem = stem[:NAME_MAX_LENGTH - len(ending) - 1] if ending else name[:NAME_MAX_LENGTH]
    name = f"{stem}.{ending}" if ending and stem else (stem or "")
    return name or "file"


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    if MARKUP.search(head):
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 3:  # a character cut at the end of the sniffed part
            text = head[:error.start].decode("utf-8", errors="strict")
        else:
            try:
                text = head.decode("cp1252")
            except UnicodeDecodeError:
                return False
    controls = sum(1 for char in text if unicodedata.category(char) == "Cc" and char not in "\r\n\t\f")
    return controls == 0


def detected_type(head: bytes, name: str) -> str | None:
    """The file's type from its content, or None when it is none of the allowed ones."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime if kind.mime in ALLOWED_TYPES else None
    if _looks_like_text(head):
        return "text/csv" if name.lower().endswith(".csv") else "text/plain"
    return None


def _type_label(content_type: str) -> str:
    return ALLOWED_TYPES.get(content_type, ("?",))[0].upper()


def check_upload(upload) -> CheckedFile:
    """One uploaded file, checked; raises ValidationError with a message for the person uploading."""
    name = sanitised_name(getattr(upload, "name", ""))
    size = upload.size or 0
    if size == 0:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": name}, code="empty")
    if size > max_file_bytes():
        raise ValidationError(
            _("“%(name)s” is too big (%(size)s): a file may be at most %(limit)s.")
            % {"name": name, "size": filesizeformat(size), "limit": filesizeformat(max_file_bytes())},
            code="too_big")
    upload.seek(0)
    head = upload.read(TEXT_SNIFF_BYTES)
    upload.seek(0)
    content_type = detected_type(head, name)
    if content_type is None:
        raise ValidationError(
            _("“%(name)s” is not a file type we accept. Attach PDF, images (PNG, JPEG, GIF, WebP, HEIC, TIFF), "
              "text or CSV files, or office documents.") % {"name": name}, code="type")
    ending = os.path.splitext(name)[1].lower().lstrip(".")
    endings = ALLOWED_TYPES[content_type]
    if content_type in OLE_TYPES:
        endings = ("doc", "xls", "ppt")
    if content_type in ("text/plain", "text/csv"):
        endings = ("txt", "log", "text", "csv")
    if not ending:
        name = f"{name}.{endings[0]}"
    elif ending not in endings:
        raise ValidationError(
            _("“%(name)s” is named as .%(ending)s, but its content is %(type)s. Rename it or attach the right file.")
            % {"name": name, "ending": ending, "type": _type_label(content_type)}, code="mismatch")
    return CheckedFile(upload=upload, name=name, content_type=content_type, size=size)


def check_uploads(uploads, *, already_stored: int = 0) -> list[CheckedFile]:
    """Every file checked, and their total with what the case already holds within the case's limit.
    Raises one ValidationError listing every problem."""
    errors, checked = [], []
    if len(uploads) > settings.TICKETS_ATTACHMENTS_PER_MESSAGE:
        raise ValidationError(_("Attach at most %(count)s files at a time.")
                              % {"count": settings.TICKETS_ATTACHMENTS_PER_MESSAGE}, code="too_many")
    for upload in uploads:
        try:
            checked.append(check_upload(upload))
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)
    total = already_stored + sum(item.size for item in checked)
    if total > max_total_bytes():
        raise ValidationError(
            _("Together the files would be %(size)s; a case or fault report may hold at most %(limit)s of files.")
            % {"size": filesizeformat(total), "limit": filesizeformat(max_total_bytes())}, code="total")
    return checked


def stored_bytes(item) -> int:
    from django.db.models import Sum

    return item.attachments.aggregate(total=Sum("size"))["total"] or 0


def attachments_store(*, item, files: list[CheckedFile], message=None, uploaded_by=None, from_operator=False,
                      internal=False) -> list:
    """Write the checked files for a case or fault report (``item``), optionally on a message."""
    from tickets.models import Attachment, SupportCase

    stored = []
    for checked in files:
        attachment = Attachment(
            company_id=item.company_id, account_id=item.account_id, message=message,
            original_name=checked.name, content_type=checked.content_type, size=checked.size,
            uploaded_by=uploaded_by, from_operator=from_operator, internal=internal,
            **({"case": item} if isinstance(item, SupportCase) else {"fault_report": item}),
        )
        checked.upload.seek(0)
        attachment.file.save(checked.name, checked.upload, save=False)
        attachment.save()
        stored.append(attachment)
    return stored
