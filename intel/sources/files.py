"""Local mailboxes: mbox files, Maildir trees and directories of .eml files.

Incremental rules:

* mbox: one cursor per file, ``{"offset", "head"}``: the byte offset up to which messages were
  stored and a hash of the file's first KiB. A file that only grew is read from the offset; a
  file whose head changed or that shrank is read again from the start (content hashes keep
  that from storing anything twice).
* maildir and .eml directories have no order: their cursor is the set of locations already
  stored (maildir unique names without flags, relative file paths).
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import mmap
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from intel.errors import SourceError
from intel.parse.folders import folder_role
from intel.sources.base import Batch, BatchBuilder, RawMessage, SourceState

__all__ = ["EmlDirSource", "MaildirSource", "MboxSource", "split_mbox"]

_FROM_LINE = re.compile(rb"From \S*\s+.*\d{1,2}:\d{2}")
_MBOXRD_ESCAPE = re.compile(rb"(?m)^>(>*From )")
_HEAD_BYTES = 1024


def _head_hash(data: bytes | mmap.mmap) -> str:
    return hashlib.sha256(data[:_HEAD_BYTES]).hexdigest()


_MONTHS = {
    m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)
}
_ASCTIME = re.compile(rb"\s(\w{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+(\d{4})\s*$")


def _from_line_date(line: bytes) -> datetime | None:
    """The asctime date of a From_ line ("From sender Mon Jun  1 09:14:00 2026"), as UTC."""
    match = _ASCTIME.search(line)
    if match is not None:
        month = _MONTHS.get(match.group(1).decode("ascii", "replace").lower())
        if month is not None:
            try:
                day, hour, minute, second, year = map(int, match.group(2, 3, 4, 5, 6))
                return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
            except ValueError:
                return None
    parts = line.decode("ascii", "replace").split(None, 2)
    if len(parts) < 3:
        return None
    try:
        return parsedate_to_datetime(parts[2])
    except (TypeError, ValueError, IndexError):
        return None


def _is_from_line(data: bytes | mmap.mmap, pos: int) -> bool:
    end = data.find(b"\n", pos, pos + 1000)
    line = bytes(data[pos : end if end >= 0 else pos + 1000])
    return _FROM_LINE.match(line) is not None


def _next_from(data: bytes | mmap.mmap, pos: int) -> int:
    """Offset of the next From_ line at or after `pos` (a line start), or -1."""
    if pos == 0 and data[:5] == b"From " and _is_from_line(data, 0):
        return 0
    search = pos - 1 if pos > 0 else 0
    while True:
        found = data.find(b"\nFrom ", search)
        if found < 0:
            return -1
        if _is_from_line(data, found + 1):
            return found + 1
        search = found + 1


def split_mbox(data: bytes | mmap.mmap, start: int = 0) -> Iterator[tuple[int, int, bytes, bytes]]:
    """Yield (offset of the From_ line, end offset, From_ line, message bytes) from `start` on.

    A message starts at a line that looks like a From_ line (``From <sender> <date>``) at the
    start of the data or after a newline; a body line that merely starts with "From " is not a
    boundary. Lines escaped as ``>From `` (mboxrd) are unescaped. The blank line that separates
    messages belongs to the mbox format, not to the message.
    """
    pos = _next_from(data, start)
    while pos >= 0:
        line_end = data.find(b"\n", pos)
        if line_end < 0:
            return  # a From_ line with nothing after it: an append in progress, read next time
        following = _next_from(data, line_end + 1)
        end = len(data) if following < 0 else following
        stop = end
        if end - (line_end + 1) >= 2 and data[end - 2 : end] == b"\n\n":
            stop = end - 1  # the separating blank line (cut here, not by copying the message again)
        body = bytes(data[line_end + 1 : stop])
        if b">From " in body:
            body = _MBOXRD_ESCAPE.sub(rb"\1", body)
        yield pos, end, bytes(data[pos:line_end]).rstrip(b"\r"), body
        pos = following


def _mbox_folder(file: Path) -> str:
    name = file.name[:-3] if file.name.lower().endswith(".gz") else file.name
    for suffix in (".mbox", ".mbx", ".mbs", ".txt"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _mbox_files(spec: str) -> list[Path]:
    path = Path(spec).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    matches = sorted(Path(p) for p in glob.glob(os.path.expanduser(spec), recursive=True))
    files = [p for p in matches if p.is_file()]
    if not files:
        raise SourceError(f"mbox path {spec} matches no file")
    return files


class MboxSource:
    """One or more mbox files; each file is a folder named after the file (without extension)."""

    def __init__(self, name: str, path: str, folder_roles: dict[str, str] | None = None) -> None:
        self.name = name
        self.path = path
        self.folder_roles = folder_roles or {}

    @contextmanager
    def _open(self, file: Path) -> Iterator[bytes | mmap.mmap]:
        """The file's bytes: memory-mapped, or decompressed for ``.gz`` archives (pipermail)."""
        try:
            if file.suffix.lower() == ".gz":
                with gzip.open(file, "rb") as compressed:
                    yield compressed.read()
                return
            with file.open("rb") as handle:
                if os.fstat(handle.fileno()).st_size == 0:
                    yield b""
                    return
                with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                    yield data
        except (OSError, EOFError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise SourceError(f"source '{self.name}': cannot read {file}: {reason}") from None

    def batches(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        builder = BatchBuilder(batch_size)
        cursors: dict[str, dict[str, object]] = {}
        for file in _mbox_files(self.path):
            scope = f"mbox:{file.resolve()}"
            folder = _mbox_folder(file)
            role = folder_role(folder, overrides=self.folder_roles)
            with self._open(file) as data:
                if len(data) == 0:
                    continue
                head = _head_hash(data)
                previous = state.cursors.get(scope) or {}
                start = 0
                if previous.get("head") == head and int(previous.get("offset", 0)) <= len(data):
                    start = int(previous["offset"])
                for offset, end, from_line, raw in split_mbox(data, start):
                    full = builder.add(
                        RawMessage(
                            data=raw,
                            folder=folder,
                            folder_role=role,
                            location=str(offset),
                            internal_date=_from_line_date(from_line),
                        )
                    )
                    cursors[scope] = {"offset": end, "head": head}
                    if full:
                        yield builder.take(cursors)
                        cursors = {}
        if builder.messages or cursors:
            yield builder.take(cursors)


def _maildir_folders(root: Path) -> list[tuple[str, Path]]:
    folders: list[tuple[str, Path]] = []
    if (root / "cur").is_dir() or (root / "new").is_dir():
        folders.append(("INBOX", root))
    for child in sorted(root.iterdir()):
        if child.is_dir() and child.name.startswith(".") and ((child / "cur").is_dir() or (child / "new").is_dir()):
            folders.append((child.name[1:], child))
    return folders


class MaildirSource:
    """A Maildir (root = INBOX) with Maildir++ subfolders (``.Sent``, ``.Archive.2024``)."""

    def __init__(self, name: str, path: Path, folder_roles: dict[str, str] | None = None) -> None:
        self.name = name
        self.path = Path(path).expanduser()
        self.folder_roles = folder_roles or {}

    def batches(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        if not self.path.is_dir():
            raise SourceError(f"source '{self.name}': maildir {self.path} does not exist")
        folders = _maildir_folders(self.path)
        if not folders:
            raise SourceError(f"source '{self.name}': {self.path} is not a maildir (no cur/ or new/)")
        builder = BatchBuilder(batch_size)
        for folder, directory in folders:
            role = folder_role(folder, overrides=self.folder_roles)
            known = state.known_locations(folder)
            entries: list[tuple[str, Path]] = []
            for sub in ("new", "cur"):
                d = directory / sub
                if d.is_dir():
                    for entry in os.scandir(d):
                        if entry.is_file() and not entry.name.startswith("."):
                            entries.append((entry.name.split(":", 1)[0], Path(entry.path)))
            for key, file in sorted(entries):
                if key in known:
                    continue
                known.add(key)
                try:
                    data = file.read_bytes()
                    mtime = datetime.fromtimestamp(file.stat().st_mtime, UTC)
                except FileNotFoundError:
                    continue  # moved between new/ and cur/ while we listed: seen next run
                if builder.add(RawMessage(data, folder, role, key, internal_date=mtime)):
                    yield builder.take()
        if builder.messages:
            yield builder.take()


class EmlDirSource:
    """A directory tree of ``.eml`` files; each subdirectory is a folder, the top one is INBOX."""

    def __init__(self, name: str, path: Path, folder_roles: dict[str, str] | None = None) -> None:
        self.name = name
        self.path = Path(path).expanduser()
        self.folder_roles = folder_roles or {}

    def batches(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        if not self.path.is_dir():
            raise SourceError(f"source '{self.name}': directory {self.path} does not exist")
        by_folder: dict[str, list[Path]] = {}
        for file in self.path.rglob("*"):
            if file.is_file() and file.suffix.lower() == ".eml":
                parent = file.parent.relative_to(self.path).as_posix()
                by_folder.setdefault("INBOX" if parent == "." else parent, []).append(file)
        builder = BatchBuilder(batch_size)
        for folder in sorted(by_folder):
            role = folder_role(folder, overrides=self.folder_roles)
            known = state.known_locations(folder)
            for file in sorted(by_folder[folder]):
                location = file.relative_to(self.path).as_posix()
                if location in known:
                    continue
                try:
                    data = file.read_bytes()
                    mtime = datetime.fromtimestamp(file.stat().st_mtime, UTC)
                except OSError as exc:
                    raise SourceError(f"source '{self.name}': cannot read {file}: {exc.strerror}") from None
                if builder.add(RawMessage(data, folder, role, location, internal_date=mtime)):
                    yield builder.take()
        if builder.messages:
            yield builder.take()
