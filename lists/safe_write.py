"""The one way the product writes a file: never destroys what sits at the output path.

Rules, whatever the command (``-o``, ``--rejects``, ``--plot``, ``pbx config --out``, the demo):

- ``-`` is standard output, written as a stream;
- nothing there, or a regular file: written to a temporary file in the target's folder,
  flushed to disk (fsync), then renamed over the target, so a reader sees the old file or
  the whole new one; an existing file keeps its permissions;
- a character or block device, or a FIFO (``/dev/null``, ``/dev/stdout``, a named pipe):
  opened and written as a stream, never replaced;
- a symbolic link to a device or a FIFO (``/dev/stdout``): written through, as a stream;
- any other symbolic link: refused, unless the caller asks to follow it (``--follow-symlinks``),
  in which case the rules apply to the file it points to; for secrets every link is refused;
- a folder, a socket or an empty name: refused with one line;
- the store's own file (and SQLite's ``-wal``, ``-shm`` and ``-journal`` beside it) or the
  command's own input: refused, compared by device and inode, or by name if not there yet;
- a secret is created with ``O_NOFOLLOW`` and mode 0600 from the first byte;
- the temporary file is removed on any error, on Ctrl-C and on SIGTERM.

The API is a path (or ``-``) in and a handle out: :func:`write_text`, :func:`write_bytes`,
or :class:`SafeOutput` for a file that is opened late and committed later.
"""

from __future__ import annotations

import os
import signal
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any, BinaryIO, TextIO, TypeVar, cast

from dialer.core.errors import InvalidInput

T = TypeVar("T")
STORE_SIDE_FILES = ("", "-wal", "-shm", "-journal")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_SHOWN = 80  # the most characters of a user-given path an error message repeats


class OutputRefused(InvalidInput):
    """The output path is one the product will not write to."""


@dataclass(frozen=True)
class OutputRules:
    """What a command's output must not be, and how it treats links."""

    store: Sequence[Path] = ()  # the store's files (see store_files)
    inputs: Sequence[Path] = ()  # the files the command reads
    follow_symlinks: bool = False
    secret: bool = False  # a symlink is always refused; created 0600 with O_NOFOLLOW
    label: str = "output"


def store_files(database: str | None) -> list[Path]:
    """The files of a SQLite store (main, WAL, shared memory, rollback journal); none for a server."""
    if database and database.startswith("file:"):  # a SQLite URI filename: file:path?mode=ro
        database = database[len("file:") :].split("?", 1)[0]
    if not database or database == ":memory:":
        return []
    return [Path(database + suffix) for suffix in STORE_SIDE_FILES]


def shown(path: object) -> str:
    """A path as error messages quote it: at most a few dozen characters, one line."""
    text = " ".join(str(path).split()) or "''"
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


@dataclass
class SafeOutput:
    """One output file: ``open()`` gives the handle, ``commit()`` puts it in place, ``discard()`` undoes."""

    target: str | Path
    rules: OutputRules = field(default_factory=OutputRules)
    binary: bool = False
    _handle: IO[Any] | None = None
    _tmp: Path | None = None
    _final: Path | None = None
    _stream: bool = False
    _mode: int | None = None
    _previous_term: Any = None

    def open(self) -> IO[Any]:
        if self._handle is not None:
            return self._handle
        if str(self.target) == "-":
            self._stream = True
            self._handle = sys.stdout.buffer if self.binary else sys.stdout
            return self._handle
        target = _check_target(self.target, self.rules)
        path, info = target.path, target.info
        if info is not None and _is_stream(info):
            self._stream = True
            self._handle = _open_stream(path, self.binary, target.through_link)
            return self._handle
        self._final = path
        self._mode = stat.S_IMODE(info.st_mode) if info is not None else None
        self._handle = self._open_temporary(path)
        return self._handle

    def commit(self) -> None:
        """Flush to disk and move into place; a stream is only flushed."""
        handle = self.open()
        if self._stream:
            handle.flush()
            if not _is_stdout(handle):
                handle.close()
            self._handle = None
            return
        assert self._tmp is not None and self._final is not None
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        try:
            os.replace(self._tmp, self._final)
        except OSError as exc:
            self.discard()
            raise OutputRefused(f"cannot write {shown(self._final)}: {exc.strerror}") from None
        _sync_folder(self._final.parent)
        self._tmp = None
        self._handle = None
        self._restore_term()

    def discard(self) -> None:
        """Close and remove the temporary file; the target stays as it was."""
        if self._handle is not None and not _is_stdout(self._handle):
            with suppress(OSError):  # a full disk fails the close's flush too
                self._handle.close()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
        self._handle = self._tmp = None
        self._restore_term()

    def _open_temporary(self, path: Path) -> IO[Any]:
        folder = path.parent
        self._watch_term()
        # A new file gets the usual 0666 less the umask; a secret, or a file whose mode is copied, 0600.
        mode = 0o666 if self._mode is None and not self.rules.secret else 0o600
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
        for attempt in range(100):
            name = folder / f".{path.name[:40]}.{os.getpid()}.{attempt}.tmp"
            try:
                fd = os.open(name, flags, mode)
            except FileExistsError:
                continue
            except OSError as exc:
                self._restore_term()
                raise OutputRefused(f"cannot write {shown(path)}: {exc.strerror}") from None
            self._tmp = name
            if self._mode is not None and not self.rules.secret:
                os.fchmod(fd, self._mode)  # an existing file keeps its permissions
            if self.binary:
                return os.fdopen(fd, "wb")
            return os.fdopen(fd, "w", encoding="utf-8", newline="")
        self._restore_term()
        raise OutputRefused(f"cannot write {shown(path)}: no free temporary name in its folder")

    # SIGTERM removes the temporary file as Ctrl-C does: it becomes an exit that unwinds the stack.
    def _watch_term(self) -> None:
        try:
            self._previous_term = signal.signal(signal.SIGTERM, _exit_on_term)
        except ValueError:  # not the main thread: the caller's own handling applies
            self._previous_term = None

    def _restore_term(self) -> None:
        if self._previous_term is not None:
            signal.signal(signal.SIGTERM, self._previous_term)
            self._previous_term = None


def _exit_on_term(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def open_output(
    target: str | Path, rules: OutputRules | None = None, binary: bool = False
) -> Iterator[IO[Any]]:
    """A handle for ``target``, committed when the block ends and discarded if it raises."""
    output = SafeOutput(target, rules or OutputRules(), binary)
    handle = output.open()
    try:
        yield handle
        output.commit()
    except OSError as exc:
        output.discard()
        if exc.strerror is None:
            raise
        raise OutputRefused(f"cannot write {shown(target)}: {exc.strerror}") from None
    except BaseException:
        output.discard()
        raise


def write_text(target: str | Path, write: Callable[[TextIO], T], rules: OutputRules | None = None) -> T:
    """Run ``write(handle)`` on a text handle for ``target`` and put the result in place."""
    with open_output(target, rules) as handle:
        return write(cast(TextIO, handle))


def write_bytes(target: str | Path, write: Callable[[BinaryIO], T], rules: OutputRules | None = None) -> T:
    """Run ``write(handle)`` on a binary handle for ``target`` and put the result in place."""
    with open_output(target, rules, binary=True) as handle:
        return write(cast(BinaryIO, handle))


def check_output(target: str | Path, rules: OutputRules | None = None) -> None:
    """Refuse a target before any work is done (the same checks :class:`SafeOutput` makes)."""
    if str(target) != "-":
        _check_target(target, rules or OutputRules())


# --- checks ----------------------------------------------------------------------------


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return path.lstat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputRefused(f"cannot write {shown(path)}: {exc.strerror}") from None


@dataclass(frozen=True)
class _Target:
    path: Path  # what to write; a followed link gives the file it points to
    info: os.stat_result | None  # what is there now; None if nothing
    through_link: bool = False  # a link to a device or a pipe (/dev/stdout), opened through it


def _check_target(target: str | Path, rules: OutputRules) -> _Target:
    """The path to write, after every refusal rule."""
    text = str(target)
    if not text.strip() or "\0" in text:
        raise OutputRefused(f"{rules.label}: no file name given")
    path = Path(text)
    if text.endswith(("/", os.sep)):
        raise OutputRefused(f"{rules.label} {shown(text)} is a folder: give a file name")
    info = _lstat(path)
    if info is not None and stat.S_ISLNK(info.st_mode):
        streamed = _linked_stream(path, rules)
        if streamed is not None:
            return streamed
        if rules.secret:
            raise OutputRefused(f"{shown(path)} is a symbolic link: a secret is never written through one")
        if not rules.follow_symlinks:
            raise OutputRefused(
                f"{shown(path)} is a symbolic link: pass --follow-symlinks to write to the file it points to"
            )
        path = Path(os.path.realpath(path))
        info = _lstat(path)
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise OutputRefused(f"{rules.label} {shown(path)} is a folder: give a file name")
        allowed = stat.S_ISREG(info.st_mode)
        if not rules.secret:
            allowed = allowed or _is_stream(info)
        if not allowed:
            raise OutputRefused(f"{shown(path)} is not a regular file: will not write over it")
    folder = path.parent
    if not folder.is_dir():
        raise OutputRefused(f"cannot write {shown(path)}: folder {shown(folder)} does not exist")
    _check_not_protected(path, info, rules)
    return _Target(path, info)


def _linked_stream(path: Path, rules: OutputRules) -> _Target | None:
    """A link to a device or a pipe, such as /dev/stdout: written to as a stream, never replaced."""
    if rules.secret:
        return None
    try:
        linked = path.stat()
    except OSError:
        return None
    if not _is_stream(linked):
        return None
    _check_not_protected(path, linked, rules)
    return _Target(path, linked, through_link=True)


def _check_not_protected(path: Path, info: os.stat_result | None, rules: OutputRules) -> None:
    for protected, what in [
        *((p, "the store's own file") for p in rules.store),
        *((p, "this command's input") for p in rules.inputs),
    ]:
        if _same_file(path, info, protected):
            raise OutputRefused(f"{shown(path)} is {what}: will not write over it")


def _same_file(path: Path, info: os.stat_result | None, other: Path) -> bool:
    """Same device and inode if both exist; else the same absolute name, links resolved."""
    if info is not None:
        try:
            theirs = other.stat()
        except OSError:
            theirs = None
        if theirs is not None:
            return (theirs.st_dev, theirs.st_ino) == (info.st_dev, info.st_ino)
    return os.path.realpath(path) == os.path.realpath(other)


def _open_stream(path: Path, binary: bool, through_link: bool) -> IO[Any]:
    flags = os.O_WRONLY | (getattr(os, "O_CLOEXEC", 0) if through_link else _NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise OutputRefused(f"cannot write {shown(path)}: {exc.strerror}") from None
    if not _is_stream(os.fstat(fd)):
        os.close(fd)  # swapped for something else since it was checked
        raise OutputRefused(f"{shown(path)} changed while it was opened: try again")
    return os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")


def _is_stdout(handle: IO[Any]) -> bool:
    return handle is sys.stdout or handle is getattr(sys.stdout, "buffer", None)


def _is_stream(info: os.stat_result) -> bool:
    """A character or block device or a FIFO: written to in place, never replaced."""
    return stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) or stat.S_ISFIFO(info.st_mode)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
