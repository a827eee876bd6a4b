"""The import rules docs/architecture.md draws, checked on the source so the drawing stays true."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGES = ("dialer", "campaigns", "lists")

# Pure policy: events and clock readings in, decisions out. No I/O, no store, no event loop.
PURE = (
    "dialer/telephony.py",
    "dialer/attempt.py",
    "dialer/errors.py",
    "dialer/pacing",
    "dialer/sim/simulator.py",
    "dialer/sim/world.py",
    "dialer/compliance_checks.py",
    "dialer/abandon_rules.py",
    "dialer/ami/tracker.py",
    "dialer/ami/headers.py",
    "campaigns/window.py",
    "campaigns/retry.py",
    "campaigns/contact_limits.py",
    "dialer/sharing.py",
)
IO_MODULES = {"sqlalchemy", "sqlmodel", "asyncio", "panoramisk", "typer", "rich", "socket", "subprocess"}
# What campaigns/ and lists/ may use of the engine package: its error tree, the port and the pure rules.
ENGINE_BASICS = {"dialer.errors", "dialer.telephony", "dialer.attempt"}


def sources() -> list[Path]:
    found = [ROOT / "cli.py"]
    for package in PACKAGES:
        found += [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]
    return found


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_only_the_ami_adapter_imports_panoramisk() -> None:
    users = {rel(p) for p in sources() if any(m.split(".")[0] == "panoramisk" for m in imports(p))}
    assert users == {"dialer/ami/client.py"}


@pytest.mark.parametrize("path", [p for p in sources() if rel(p).startswith(PURE)], ids=rel)
def test_pure_modules_do_no_io(path: Path) -> None:
    heavy = {m for m in imports(path) if m.split(".")[0] in IO_MODULES}
    assert not heavy, f"{rel(path)} imports {sorted(heavy)}"


@pytest.mark.parametrize("path", [p for p in sources() if rel(p) != "cli.py"], ids=rel)
def test_the_library_never_imports_the_command_line(path: Path) -> None:
    assert "cli" not in imports(path)


@pytest.mark.parametrize(
    "path", [p for p in sources() if rel(p).startswith(("campaigns/", "lists/"))], ids=rel
)
def test_campaigns_and_lists_use_only_the_engines_basics(path: Path) -> None:
    engine = {m for m in imports(path) if m.split(".")[0] == "dialer"}
    assert engine <= ENGINE_BASICS, f"{rel(path)} imports {sorted(engine - ENGINE_BASICS)}"


def test_campaigns_never_import_lists() -> None:
    offenders = [
        rel(p) for p in (ROOT / "campaigns").rglob("*.py") if any(m.startswith("lists") for m in imports(p))
    ]
    assert offenders == []
