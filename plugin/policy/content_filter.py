"""Content filter: which uploads and links a customer or an agent may send.

A file passes only if uploads are on for the sender's role, it is within the size cap, its extension is an allowed type
and its bytes look like that type (a ``.pdf`` that is really a program is refused). Messages shown to the sender name
the rule and the allowed types, never the file name or anything internal.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Tuple

HARD_CAP_BYTES = 20 * 1024 * 1024
MB = 1024 * 1024
STAFF_ROLES: FrozenSet[str] = frozenset({"agent", "supervisor", "admin"})

# Allowed type -> (extensions that name it, what ``sniff`` must report for its content).
FILE_TYPES: Dict[str, Tuple[Tuple[str, ...], FrozenSet[str]]] = {
    "pdf": (("pdf",), frozenset({"pdf"})),
    "png": (("png",), frozenset({"png"})),
    "jpg": (("jpg", "jpeg", "jpe"), frozenset({"jpg"})),
    "gif": (("gif",), frozenset({"gif"})),
    "webp": (("webp",), frozenset({"webp"})),
    "txt": (("txt",), frozenset({"text"})),
    "csv": (("csv",), frozenset({"text"})),
    "docx": (("docx",), frozenset({"docx"})),
    "xlsx": (("xlsx",), frozenset({"xlsx"})),
    "mp3": (("mp3",), frozenset({"mp3"})),
    "mp4": (("mp4", "m4a", "m4v"), frozenset({"mp4"})),
}
_TYPE_BY_EXTENSION: Dict[str, str] = {ext: name for name, (exts, _) in FILE_TYPES.items() for ext in exts}

# Magic numbers: (offset, bytes, kind). Checked in order; ZIP, MP3 frames, ftyp and text need more than a prefix.
MAGIC: Tuple[Tuple[int, bytes, str], ...] = (
    (0, b"%PDF-", "pdf"),
    (0, b"\x89PNG\r\n\x1a\n", "png"),
    (0, b"\xff\xd8\xff", "jpg"),
    (0, b"GIF87a", "gif"),
    (0, b"GIF89a", "gif"),
    (0, b"ID3", "mp3"),
    (0, b"\x7fELF", "executable"),
    (0, b"MZ", "executable"),  # DOS/PE; fail closed even for a text file that happens to start with "MZ".
    (0, b"\xfe\xed\xfa\xce", "executable"),  # Mach-O 32-bit
    (0, b"\xfe\xed\xfa\xcf", "executable"),  # Mach-O 64-bit
    (0, b"\xce\xfa\xed\xfe", "executable"),  # Mach-O 32-bit, little-endian
    (0, b"\xcf\xfa\xed\xfe", "executable"),  # Mach-O 64-bit, little-endian
    (0, b"\xca\xfe\xba\xbe", "executable"),  # Mach-O universal binary (also Java class files)
    (0, b"#!", "executable"),  # shebang script
    (0, b"\x00asm", "executable"),  # WebAssembly
    (0, b"dex\n", "executable"),  # Android DEX
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),  # legacy Office / MSI: may carry macros or installers
    (0, b"Rar!\x1a\x07", "archive"),
    (0, b"7z\xbc\xaf\x27\x1c", "archive"),
    (0, b"\x1f\x8b", "archive"),
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# ftyp brands that are images, not video.
_IMAGE_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"})
_MARKUP_STARTS = ("<?xml", "<svg", "<html", "<!doctype", "<script", "<head", "<body")
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")

# Links: anything with a scheme, anything starting www., and bare domains ending in a common top-level domain.
COMMON_TLDS: Tuple[str, ...] = (
    "com", "net", "org", "info", "biz", "io", "co", "me", "app", "dev", "ai", "xyz", "online", "site", "shop",
    "store", "club", "top", "link", "click", "live", "ly", "gl", "gg", "tk", "ml", "ga", "cf", "to", "tv", "cc",
    "ws", "su", "nl", "de", "uk", "fr", "be", "eu", "es", "it", "ru", "cn", "us", "ca", "au", "ch", "at", "se",
    "no", "dk", "fi", "pl", "pt", "ie", "br", "in", "jp", "kr", "za", "mx", "ar", "tr", "ua", "gov", "edu",
)  # fmt: skip
# Every alternative matches greedily without backtracking over labels, so scanning stays linear on hostile input;
# whether a host ends in a common TLD (and is not an e-mail's local part) is decided after the match.
_LINK = re.compile(
    r"""
    (?P<scheme>\b[a-z][a-z0-9+.\-]{0,31}://[^\s<>"']+)
    | (?P<www>(?<![\w@.\-])www\.[^\s<>"']+)
    | (?<![\w@.\-/])(?P<host>[a-z0-9\-]+(?:\.[a-z0-9\-]+)+)(?::\d{1,5})?(?:/[^\s<>"']*)?
    """,
    re.IGNORECASE | re.VERBOSE,
)
_TLDS = frozenset(COMMON_TLDS)
_TRAILING = ".,;:!?)]}'\""


class InvalidContentPolicy(ValueError):
    """A content policy that cannot be enforced (unknown file type, size cap outside 1 byte..20 MB)."""


@dataclass(frozen=True)
class ContentPolicy:
    """What may be sent: uploads per role, allowed file types (names from ``FILE_TYPES``), size cap, links."""

    customer_uploads: bool = True
    agent_uploads: bool = True
    allowed_types: Tuple[str, ...] = ("pdf", "png", "jpg", "gif")
    max_bytes: int = 10 * MB
    links_allowed: bool = True

    def __post_init__(self) -> None:
        types = tuple(dict.fromkeys(_TYPE_BY_EXTENSION.get(t.strip().lower().lstrip("."), t) for t in self.allowed_types))
        unknown = [t for t in types if t not in FILE_TYPES]
        if unknown:
            raise InvalidContentPolicy(
                f"unknown file type(s) {', '.join(map(str, unknown))}; choose from {', '.join(FILE_TYPES)}"
            )
        object.__setattr__(self, "allowed_types", types)
        if not 0 < self.max_bytes <= HARD_CAP_BYTES:
            raise InvalidContentPolicy(
                f"the maximum file size must be between 1 byte and {HARD_CAP_BYTES // MB} MB, "
                f"got {_size(self.max_bytes)}"
            )

    @classmethod
    def from_settings(cls, content: object) -> "ContentPolicy":
        """Build from a ``ContentSettings`` (``max_file_mb`` in MiB)."""
        return cls(
            customer_uploads=bool(getattr(content, "customer_uploads")),
            agent_uploads=bool(getattr(content, "agent_uploads")),
            allowed_types=tuple(getattr(content, "allowed_file_types")),
            max_bytes=int(getattr(content, "max_file_mb")) * MB,
            links_allowed=bool(getattr(content, "links_allowed")),
        )


@dataclass(frozen=True)
class Verdict:
    """``reason`` is a stable code for audit and logs; ``message`` can be shown to the sender as is."""

    allowed: bool
    reason: str
    message: str = ""


@dataclass(frozen=True)
class Link:
    """Where a link is in a text; the link itself is not shown in reprs (it may carry personal data in its query)."""

    start: int
    end: int
    text: str = field(repr=False)


OK = Verdict(True, "ok")


def sniff(data: bytes) -> Optional[str]:
    """The kind of content ``data`` holds, judged from its bytes alone, or None if unknown.

    Kinds: the content kinds of ``FILE_TYPES``, ``executable``, ``markup``, ``docm``/``xlsm`` (macro documents),
    ``zip``, ``ole``, ``archive``, ``heif``, ``mov``.
    """
    for offset, magic, kind in MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return kind
    if data.startswith(_ZIP_MAGIC):
        return _sniff_zip(data)
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _IMAGE_BRANDS:
            return "heif"
        return "mov" if brand == b"qt  " else "mp4"
    if _is_mpeg_audio_frame(data):
        return "mp3"
    return _sniff_text(data)


def check_upload(policy: ContentPolicy, sender_role: str, filename: str, data: bytes) -> Verdict:
    """Decide whether ``sender_role`` (``customer``, or a staff role) may send this file."""
    role = sender_role.strip().lower()
    if role != "customer" and role not in STAFF_ROLES:
        staff = ", ".join(sorted(STAFF_ROLES))
        raise ValueError(f"unknown sender role {sender_role!r}; expected customer or one of {staff}")
    enabled = policy.customer_uploads if role == "customer" else policy.agent_uploads
    if not enabled:
        return Verdict(False, "uploads_disabled", "Sending files is not enabled in this chat.")
    if not policy.allowed_types:
        return Verdict(False, "type_not_allowed", "Sending files is not enabled in this chat.")
    allowed_list = ", ".join(policy.allowed_types)
    if len(data) > policy.max_bytes:
        return Verdict(False, "too_large", f"This file is too large; files can be at most {_size(policy.max_bytes)}.")
    if not data:
        return Verdict(False, "empty", "This file is empty.")
    extension = file_extension(filename)
    if extension is None:
        return Verdict(False, "no_extension", f"Files without a file type cannot be sent; allowed: {allowed_list}.")
    file_type = _TYPE_BY_EXTENSION.get(extension)
    if file_type not in policy.allowed_types:
        shown = f".{extension}" if len(extension) <= 8 and extension.isalnum() else "of this kind"
        return Verdict(False, "type_not_allowed", f"File type {shown} is not allowed; allowed: {allowed_list}.")
    kind = sniff(data)
    if kind == "executable":
        return Verdict(False, "executable", "This file contains a program and cannot be sent.")
    if kind not in FILE_TYPES[file_type][1]:
        return Verdict(
            False, "content_mismatch", f"This file's content is not a valid .{extension} file, so it cannot be sent."
        )
    return OK


def file_extension(filename: str) -> Optional[str]:
    """The lower-case last extension of a file name (``a.pdf.exe`` -> ``exe``), ignoring any directory part."""
    base = re.split(r"[\\/]", filename.strip())[-1].strip().rstrip(". ")
    stem, dot, extension = base.rpartition(".")
    if not dot or not stem.strip(".") or not extension:
        return None
    return extension.lower()


def find_links(text: str) -> List[Link]:
    """Links in ``text``: ``scheme://...``, ``www....`` and bare domains with a common TLD.

    E-mail addresses and numbers such as 12.50 are not links."""
    links = []
    for match in _LINK.finditer(text):
        host = match.group("host")
        if host is not None and (
            host.rsplit(".", 1)[1].lower() not in _TLDS or text[match.end("host") : match.end("host") + 1] == "@"
        ):
            continue
        value = match.group(0).rstrip(_TRAILING)
        if value:
            links.append(Link(match.start(), match.start() + len(value), value))
    return links


def check_text(policy: ContentPolicy, text: str) -> Verdict:
    """Refuse a message with a link when links are not allowed."""
    if policy.links_allowed or not find_links(text):
        return OK
    return Verdict(
        False, "links_not_allowed", "Links are not allowed in this chat; please send your message without the link."
    )


def _sniff_zip(data: bytes) -> str:
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()  # reads the central directory only, nothing is inflated
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return "zip"
    if "[Content_Types].xml" not in names:
        return "zip"
    macros = any(name.lower().endswith("vbaproject.bin") for name in names)
    if any(name.startswith("word/") for name in names):
        return "docm" if macros else "docx"
    if any(name.startswith("xl/") for name in names):
        return "xlsm" if macros else "xlsx"
    return "zip"


def _is_mpeg_audio_frame(data: bytes) -> bool:
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return False
    version, layer, bitrate, rate = (data[1] >> 3) & 3, (data[1] >> 1) & 3, data[2] >> 4, (data[2] >> 2) & 3
    # Layer III only (the "3" of MP3); this also keeps a UTF-16 byte-order mark (FF FE) from passing as audio.
    return version != 1 and layer == 1 and bitrate not in (0, 0xF) and rate != 3


def _sniff_text(data: bytes) -> Optional[str]:
    if not data:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if _TEXT_CONTROLS.search(text):
        return None
    if text.lstrip().lower().startswith(_MARKUP_STARTS):
        return "markup"
    return "text"


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < MB:
        return f"{n / 1024:.0f} KB"
    return f"{n / MB:.1f}".rstrip("0").rstrip(".") + " MB"
