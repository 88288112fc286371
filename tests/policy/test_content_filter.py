"""Content filter: uploads per role, file types by extension and by content, the 20 MB cap, and links in messages."""

import io
import time
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugin.policy.content_filter import (
    FILE_TYPES,
    HARD_CAP_BYTES,
    MB,
    ContentPolicy,
    InvalidContentPolicy,
    check_text,
    check_upload,
    file_extension,
    find_links,
    sniff,
)
from plugin.policy.schema import ContentSettings

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00;"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8 \x0e\x00\x00\x00" + b"\x00" * 14
MP3_ID3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 32
MP3_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 32
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free"
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 46 + b"\x80\x00\x00\x00" + b"\x00" * 64 + b"PE\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
MACHO = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 24
SCRIPT = b"#!/bin/sh\necho hello\n"
CSV = "name,amount\nAlpha,12.50\nBéta,7\n".encode("utf-8")
TXT = "Hello,\nmy order has not arrived yet.\n".encode("utf-8")


def ooxml(part: str, macros: bool = False, content_types: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if content_types:
            archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(f"{part}/document.xml", "<document/>")
        if macros:
            archive.writestr(f"{part}/vbaProject.bin", b"\x00" * 16)
    return buffer.getvalue()


DOCX = ooxml("word")
XLSX = ooxml("xl")
ALL_TYPES = tuple(FILE_TYPES)
OPEN = ContentPolicy(allowed_types=ALL_TYPES, max_bytes=HARD_CAP_BYTES)


@pytest.mark.parametrize(
    "data,kind",
    [
        (PDF, "pdf"), (PNG, "png"), (JPG, "jpg"), (GIF, "gif"), (WEBP, "webp"), (MP3_ID3, "mp3"), (MP3_FRAME, "mp3"),
        (MP4, "mp4"), (HEIC, "heif"), (DOCX, "docx"), (XLSX, "xlsx"), (ooxml("word", macros=True), "docm"),
        (ooxml("xl", macros=True), "xlsm"), (ooxml("word", content_types=False), "zip"), (b"PK\x03\x04broken", "zip"),
        (PE, "executable"), (ELF, "executable"), (MACHO, "executable"), (SCRIPT, "executable"),
        (CSV, "text"), (TXT, "text"), (b"\xef\xbb\xbfname;amount\n", "text"), (b"<!DOCTYPE html><p>hi</p>", "markup"),
        (b"  <svg onload=alert(1)>", "markup"), (b"text with a NUL\x00byte", None), ("hi".encode("utf-16"), None),
        (b"\x00\x01\x02\x03", None), (b"", None),
    ],
)  # fmt: skip
def test_sniff_judges_content_by_its_bytes(data: bytes, kind) -> None:
    assert sniff(data) == kind


@pytest.mark.parametrize(
    "filename,data",
    [
        ("report.pdf", PDF), ("photo.PNG", PNG), ("photo.jpeg", JPG), ("photo.jpg", JPG), ("anim.gif", GIF),
        ("pic.webp", WEBP), ("song.mp3", MP3_ID3), ("clip.mp4", MP4), ("letter.docx", DOCX), ("sheet.xlsx", XLSX),
        ("notes.txt", TXT), ("export.csv", CSV), ("C:\\Users\\x\\scan.pdf", PDF),
    ],
)  # fmt: skip
def test_genuine_files_of_allowed_types_pass(filename: str, data: bytes) -> None:
    assert check_upload(OPEN, "customer", filename, data).allowed


@pytest.mark.parametrize(
    "filename,data,reason",
    [
        ("invoice.pdf", PE, "executable"),
        ("cat.png", ELF, "executable"),
        ("notes.txt", SCRIPT, "executable"),
        ("report.pdf", PNG, "content_mismatch"),
        ("letter.docx", ooxml("word", macros=True), "content_mismatch"),
        ("letter.docx", XLSX, "content_mismatch"),
        ("sheet.xlsx", ooxml("xl", content_types=False), "content_mismatch"),
        ("page.txt", b"<html><script>alert(1)</script></html>", "content_mismatch"),
        ("export.csv", b"a,b\x00c", "content_mismatch"),
        ("clip.mp4", HEIC, "content_mismatch"),
    ],
)
def test_content_that_does_not_match_the_extension_is_refused(filename: str, data: bytes, reason: str) -> None:
    verdict = check_upload(OPEN, "customer", filename, data)
    assert not verdict.allowed and verdict.reason == reason


def test_type_not_allowed_names_the_extension_and_the_allowed_types_but_not_the_file_name() -> None:
    policy = ContentPolicy(allowed_types=("pdf", "png", "jpg"))
    verdict = check_upload(policy, "customer", "passport_j_jansen.exe", PE)
    assert verdict.reason == "type_not_allowed"
    assert verdict.message == "File type .exe is not allowed; allowed: pdf, png, jpg."
    assert "jansen" not in verdict.message
    assert check_upload(policy, "customer", "invoice.pdf.exe", PE).reason == "type_not_allowed"
    assert check_upload(policy, "customer", "photo.gif", GIF).reason == "type_not_allowed"


def test_files_without_an_extension_are_refused() -> None:
    for name in ("README", ".pdf", "scan.", ""):
        verdict = check_upload(OPEN, "customer", name, PDF)
        assert verdict.reason == "no_extension", name


def test_uploads_are_switched_per_role() -> None:
    policy = ContentPolicy(customer_uploads=False, agent_uploads=True)
    assert check_upload(policy, "customer", "a.pdf", PDF).reason == "uploads_disabled"
    for staff in ("agent", "supervisor", "admin"):
        assert check_upload(policy, staff, "a.pdf", PDF).allowed
    agents_off = ContentPolicy(customer_uploads=True, agent_uploads=False)
    assert check_upload(agents_off, "agent", "a.pdf", PDF).reason == "uploads_disabled"
    assert check_upload(agents_off, "customer", "a.pdf", PDF).allowed
    with pytest.raises(ValueError, match="unknown sender role"):
        check_upload(policy, "bot", "a.pdf", PDF)


def test_size_limit_is_enforced_with_a_clear_message() -> None:
    policy = ContentPolicy(max_bytes=1 * MB)
    at_limit = PDF + b"\n" * (MB - len(PDF))
    assert check_upload(policy, "customer", "a.pdf", at_limit).allowed
    verdict = check_upload(policy, "customer", "a.pdf", at_limit + b"\n")
    assert verdict.reason == "too_large" and "at most 1 MB" in verdict.message
    assert check_upload(policy, "customer", "a.pdf", b"").reason == "empty"


def test_oversized_data_is_refused_before_it_is_inspected() -> None:
    oversized = b"PK\x03\x04" + b"\x00" * HARD_CAP_BYTES
    assert check_upload(OPEN, "customer", "sheet.xlsx", oversized).reason == "too_large"


@pytest.mark.parametrize("max_bytes", [HARD_CAP_BYTES + 1, 21 * MB, 0, -1])
def test_a_size_cap_outside_the_hard_cap_is_refused(max_bytes: int) -> None:
    with pytest.raises(InvalidContentPolicy, match="between 1 byte and 20 MB"):
        ContentPolicy(max_bytes=max_bytes)


def test_unknown_file_types_are_refused_and_aliases_normalised() -> None:
    with pytest.raises(InvalidContentPolicy, match="unknown file type.*exe.*choose from pdf"):
        ContentPolicy(allowed_types=("pdf", "exe"))
    assert ContentPolicy(allowed_types=(".PDF", "jpeg", "JPG")).allowed_types == ("pdf", "jpg")


def test_policy_from_settings() -> None:
    policy = ContentPolicy.from_settings(ContentSettings(max_file_mb=5, allowed_file_types=("pdf",), links_allowed=False))
    assert policy.max_bytes == 5 * MB and policy.allowed_types == ("pdf",) and not policy.links_allowed


@pytest.mark.parametrize(
    "text,links",
    [
        ("see https://example.com/path?q=1.", ["https://example.com/path?q=1"]),
        ("go to www.example.org, then", ["www.example.org"]),
        ("visit example.com for more", ["example.com"]),
        ("short bit.ly/3xYz and t.me/channel", ["bit.ly/3xYz", "t.me/channel"]),
        ("(see sub.example.co.uk/page)", ["sub.example.co.uk/page"]),
        ("ftp://files.example.net/a", ["ftp://files.example.net/a"]),
        ("HTTP://EXAMPLE.COM", ["HTTP://EXAMPLE.COM"]),
        ("host example.nl:8080/x ok", ["example.nl:8080/x"]),
    ],
)
def test_links_are_found(text: str, links) -> None:
    assert [link.text for link in find_links(text)] == links
    for link in find_links(text):
        assert text[link.start : link.end] == link.text


@pytest.mark.parametrize(
    "text",
    [
        "mail me at jan.de.vries@example.com please",
        "it costs 12.50 or 1.000,00 euro",
        "version 3.6.1 of report.pdf and main.py",
        "e.g. this, i.e. that, at 10.30 a.m.",
        "contact: mailto:info@example.org",
        "",
    ],
)
def test_emails_decimals_and_file_names_are_not_links(text: str) -> None:
    assert find_links(text) == []


def test_check_text_blocks_links_only_when_not_allowed() -> None:
    blocked = ContentPolicy(links_allowed=False)
    verdict = check_text(blocked, "pay at https://pay.example.com/inv/123")
    assert not verdict.allowed and verdict.reason == "links_not_allowed"
    assert "example" not in verdict.message and "123" not in verdict.message
    assert check_text(blocked, "my e-mail is jan@example.com and it costs 12.50").allowed
    assert check_text(ContentPolicy(links_allowed=True), "https://example.com").allowed


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_amounts_are_never_links(amount) -> None:
    assert find_links(f"the total is {amount} euro") == []


@given(st.from_regex(r"[a-z][a-z0-9.]{0,15}@[a-z]{1,10}\.(com|nl|org|de)", fullmatch=True))
def test_email_addresses_are_never_links(address: str) -> None:
    assert find_links(f"write to {address} today") == []


def test_file_extension() -> None:
    assert file_extension("a/b/Report.Final.PDF") == "pdf"
    assert file_extension("archive.tar.gz") == "gz"
    assert file_extension("noext") is None


@pytest.mark.parametrize("payload", ["a." * 25000, ("ab-" * 20 + ".") * 800, "x@y." * 12000, "a" * 50000 + "://"])
def test_link_search_stays_fast_on_hostile_input(payload: str) -> None:
    started = time.perf_counter()
    find_links(payload)
    assert time.perf_counter() - started < 1.0
