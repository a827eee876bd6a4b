"""Find an Asterisk to run, or build one once from Debian unstable.

Order: an ``asterisk`` binary on PATH (the user's own), else a Debian "sid" root
built with debootstrap and cached outside the repository (``~/.cache/dialer/asterisk-sid``,
or ``$DIALER_ASTERISK_ROOT``). The root is run in place through its own dynamic
loader, so no chroot and no root privileges are needed once it exists.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dialer.core.errors import TelephonyError

log = logging.getLogger(__name__)

MARKER = ".dialer-asterisk-ready"
_PACKAGES = "asterisk,asterisk-modules"


class AsteriskUnavailable(TelephonyError):
    """No Asterisk could be found or built; the message says what to install."""


@dataclass(frozen=True)
class AsteriskInstall:
    """How to run one Asterisk binary."""

    argv: tuple[str, ...]  # command prefix that runs the binary (loader + binary for a cached root)
    module_dir: Path | None  # None: the binary's compiled-in default
    version: str
    data_dir: Path | None = None  # documentation, sounds; None: the compiled-in default
    root: Path | None = None


def default_root() -> Path:
    override = os.environ.get("DIALER_ASTERISK_ROOT")
    if override:
        return Path(override).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "dialer" / "asterisk-sid"


def mirror_from_sources(texts: Iterable[str]) -> str | None:
    """The first Debian archive URI in apt source texts (one-line or deb822), security archives skipped."""
    for text in texts:
        for block in re.split(r"\n\s*\n", text):
            uris = re.search(r"^URIs:\s*(\S+)", block, re.MULTILINE | re.IGNORECASE)
            types = re.search(r"^Types:(.*)$", block, re.MULTILINE | re.IGNORECASE)
            if uris and types and "deb" in types.group(1).split() and "security" not in uris.group(1):
                return uris.group(1)
            for line in block.splitlines():
                m = re.match(r"^\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)", line)
                if m and "security" not in m.group(1) and "security" not in m.group(2):
                    return m.group(1)
    return None


def _apt_source_texts() -> list[str]:
    paths = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    paths += sorted(Path("/etc/apt/sources.list.d").glob("*.list"))
    paths.append(Path("/etc/apt/sources.list"))
    return [p.read_text(encoding="utf-8", errors="replace") for p in paths if p.is_file()]


def _root_install(root: Path) -> AsteriskInstall | None:
    """The cached root as a runnable install, or None when it is missing or broken."""
    binary = root / "usr/sbin/asterisk"
    loaders = sorted(root.glob("lib*/ld-linux*.so*")) + sorted(root.glob("usr/lib*/ld-linux*.so*"))
    lib_dirs = [d for d in sorted((root / "usr/lib").glob("*-linux-gnu*")) if (d / "asterisk").is_dir()]
    if not (binary.is_file() and loaders and lib_dirs):
        return None
    triplet = lib_dirs[0].name
    library_path = ":".join(
        str(p)
        for p in (root / "usr/lib" / triplet, root / "lib" / triplet, root / "usr/lib" / triplet / "asterisk")
    )
    argv = (str(loaders[0]), "--library-path", library_path, str(binary))
    version = _version(argv)
    if version is None:
        return None
    modules = root / "usr/lib" / triplet / "asterisk/modules"
    return AsteriskInstall(argv, modules, version, root / "usr/share/asterisk", root)


def _version(argv: tuple[str, ...]) -> str | None:
    try:
        done = subprocess.run([*argv, "-V"], capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    out = done.stdout.strip()
    return out if done.returncode == 0 and out.startswith("Asterisk") else None


def find_asterisk(root: Path | None = None) -> AsteriskInstall | None:
    """An Asterisk ready to run, without building anything."""
    on_path = shutil.which("asterisk")
    if on_path:
        version = _version((on_path,))
        if version:
            return AsteriskInstall((on_path,), None, version)
    root = root or default_root()
    if not (root / MARKER).is_file():
        return None
    return _root_install(root)


@contextlib.contextmanager
def _build_lock(root: Path) -> Iterator[None]:
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f"{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs must not build the same root at once
        yield


def _need_debootstrap() -> str:
    found = shutil.which("debootstrap") or (
        "/usr/sbin/debootstrap" if Path("/usr/sbin/debootstrap").is_file() else None
    )
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log.info("installing debootstrap with apt-get")
        install = ["apt-get", "install", "-y", "-q", "debootstrap"]
        if subprocess.run(install, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], check=True)  # stale or missing package lists
            subprocess.run(install, check=True)
        return shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    raise AsteriskUnavailable(
        "no Asterisk found: install the `asterisk` package, or `debootstrap` and run "
        "scripts/install-asterisk.sh as root once"
    )


def build_root(root: Path) -> AsteriskInstall:
    """Build the Debian sid root with Asterisk into ``root`` (about 45 s and 500 MB)."""
    if os.geteuid() != 0:
        raise AsteriskUnavailable(
            f"no Asterisk found and no prebuilt root at {root}: install `asterisk`, "
            "or run scripts/install-asterisk.sh as root once"
        )
    debootstrap = _need_debootstrap()
    mirror = mirror_from_sources(_apt_source_texts())
    if mirror is None:
        raise AsteriskUnavailable("no Debian mirror in /etc/apt/sources*: cannot build the Asterisk root")
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    log.info("building the Asterisk root at %s from %s", root, mirror)
    done = subprocess.run(
        [debootstrap, "--variant=minbase", f"--include={_PACKAGES}", "sid", str(partial), mirror],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise AsteriskUnavailable(f"debootstrap failed: {' | '.join(tail)}")
    return adopt_root(partial, root)


def adopt_root(built: Path, root: Path) -> AsteriskInstall:
    """Validate a freshly built tree, mark it ready and move it to ``root``."""
    install = _root_install(built)
    if install is None:
        raise AsteriskUnavailable(f"the built root at {built} does not run Asterisk")
    (built / MARKER).write_text(install.version + "\n", encoding="utf-8")
    if root.exists():
        shutil.rmtree(root)
    built.rename(root)
    found = _root_install(root)
    if found is None:  # pragma: no cover - the tree was just validated
        raise AsteriskUnavailable(f"the Asterisk root at {root} is broken")
    return found


def ensure_asterisk(root: Path | None = None) -> AsteriskInstall:
    """An Asterisk ready to run: the one on PATH, the cached root, or a freshly built root."""
    found = find_asterisk(root)
    if found:
        return found
    root = root or default_root()
    with _build_lock(root):
        cached = _root_install(root) if (root / MARKER).is_file() else None
        return cached or build_root(root)
