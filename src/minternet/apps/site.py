"""Where a web server's files come from: a small :class:`Site` interface.

The server logic (:mod:`.web_server`) never touches the file system itself; it asks a
:class:`Site` for an entry by its path segments (already decoded and checked not to climb
above the root). Three sites: :class:`DirectorySite` (a folder, ``--site DIR``),
:func:`packaged_site` (the default site shipped in ``minternet/apps/site/``) and
:class:`MemorySite` (a dict, for tests and the simulator).
"""

from __future__ import annotations

import os
import stat as stat_mod
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal, Protocol

# The default site's files carry this modification time (2026-01-01 00:00:00 UTC), so the
# Last-Modified and ETag of a simulated fetch are the same on every machine.
PACKAGED_MTIME = 1767225600.0


@dataclass(frozen=True, slots=True)
class SiteEntry:
    """A file or directory of a site."""

    kind: Literal["file", "dir"]
    size: int = 0
    mtime: float = 0.0


class SiteFile(Protocol):
    """An open file of a site, read piece by piece (a server streams it: memory per
    connection stays bounded whatever the file's size)."""

    def read_at(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes from ``offset``; fewer (or none) only at the end of the file."""
        ...

    def close(self) -> None: ...


class Site(Protocol):
    """What the server needs of its content; ``parts`` are path segments below the root."""

    def stat(self, parts: tuple[str, ...]) -> SiteEntry | None: ...

    def read(self, parts: tuple[str, ...]) -> bytes:
        """The whole file (small files, tests); a server uses :meth:`open`."""
        ...

    def open(self, parts: tuple[str, ...]) -> SiteFile:
        """The file, open for :meth:`SiteFile.read_at`; :class:`OSError` if it cannot be."""
        ...


class MemoryFile:
    """A file held in memory: pieces are slices of one buffer, nothing is copied twice."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)

    def read_at(self, offset: int, size: int) -> bytes:
        return self._view[offset : offset + size].tobytes()

    def close(self) -> None:
        self._view.release()


class DiskFile:
    """An open file descriptor read with ``pread`` (no shared file position)."""

    def __init__(self, path: str) -> None:
        # O_NONBLOCK: if the path became a FIFO since it was stat'ed, opening must not hang
        # the server (it changes nothing for a regular file).
        self._fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        if not stat_mod.S_ISREG(os.fstat(self._fd).st_mode):
            self.close()
            raise IsADirectoryError(f"{path} is not a regular file")

    def read_at(self, offset: int, size: int) -> bytes:
        return os.pread(self._fd, size, offset)

    def close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)


class MemorySite:
    """A site in memory: ``{"index.html": b"...", "img/a.png": b"..."}``."""

    def __init__(self, files: dict[str, bytes], mtime: float = PACKAGED_MTIME) -> None:
        self.files = {tuple(p.strip("/").split("/")): data for p, data in files.items()}
        self.dirs = {k[:i] for k in self.files for i in range(len(k))}
        self.mtime = mtime

    def stat(self, parts: tuple[str, ...]) -> SiteEntry | None:
        if parts in self.files:
            return SiteEntry("file", len(self.files[parts]), self.mtime)
        if parts in self.dirs:
            return SiteEntry("dir", 0, self.mtime)
        return None

    def read(self, parts: tuple[str, ...]) -> bytes:
        return self.files[parts]

    def open(self, parts: tuple[str, ...]) -> SiteFile:
        data = self.files.get(parts)
        if data is None:
            raise FileNotFoundError("/".join(parts))
        return MemoryFile(data)


class DirectorySite:
    """A folder on disk. Symbolic links that lead outside the folder are not followed."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise NotADirectoryError(f"site folder {root} is not a directory")
        self._root = str(self.root)
        self._last: tuple[tuple[str, ...], str | None] | None = None

    def _path(self, parts: tuple[str, ...]) -> str | None:
        """The real path of ``parts`` if it stays under the root (symlinks resolved)."""
        if self._last is not None and self._last[0] == parts:
            return self._last[1]  # stat() then read() of one request resolve once
        joined = os.path.join(self._root, *parts)
        real = os.path.realpath(joined)
        ok = real == self._root or real.startswith(self._root + os.sep)
        self._last = (parts, real if ok else None)
        return self._last[1]

    def stat(self, parts: tuple[str, ...]) -> SiteEntry | None:
        p = self._path(parts)
        if p is None:
            return None
        try:
            st = os.stat(p)
        except OSError:
            return None
        if stat_mod.S_ISDIR(st.st_mode):
            return SiteEntry("dir", 0, st.st_mtime)
        if stat_mod.S_ISREG(st.st_mode):
            return SiteEntry("file", st.st_size, st.st_mtime)
        return None

    def read(self, parts: tuple[str, ...]) -> bytes:
        p = self._path(parts)
        self._last = None
        if p is None:
            raise FileNotFoundError("/".join(parts))
        with open(p, "rb") as f:
            return f.read()

    def open(self, parts: tuple[str, ...]) -> SiteFile:
        p = self._path(parts)
        self._last = None
        if p is None:
            raise FileNotFoundError("/".join(parts))
        return DiskFile(p)


def packaged_site() -> MemorySite:
    """The built-in site (``index.html``, ``style.css``, ``logo.svg``) from the package."""
    files: dict[str, bytes] = {}
    root = resources.files("minternet.apps") / "site"
    for entry in root.iterdir():
        if entry.is_file() and not entry.name.startswith((".", "_")):
            files[entry.name] = entry.read_bytes()
    return MemorySite(files, PACKAGED_MTIME)
