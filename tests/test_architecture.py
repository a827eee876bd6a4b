"""The import rules docs/architecture.md draws, checked on the source so the drawing stays true.

Two kinds of check: the direct imports of every file (read with ``ast``), and what importing a
package really loads, in a fresh interpreter, so a leak through a chain of imports is caught too.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGES = ("dialer", "campaigns", "lists")

# Pure: values, events and clock readings in, decisions out. No I/O, no store, no event loop.
PURE = (
    "dialer/core",
    "dialer/policy",
    "dialer/pacing",
    "dialer/sim/simulator.py",
    "dialer/sim/world.py",
    "dialer/sim/params.py",
    "dialer/sim/day.py",
    "dialer/ami/tracker.py",
    "dialer/ami/headers.py",
    "campaigns/window.py",
    "campaigns/retry.py",
    "campaigns/contact_limits.py",
    "campaigns/settings.py",
    "campaigns/schedule.py",
    "campaigns/region.py",
    "campaigns/lifecycle.py",
)
IO_MODULES = {"sqlalchemy", "sqlmodel", "asyncio", "panoramisk", "typer", "rich", "socket", "subprocess"}
PURE_CAMPAIGNS = (
    "campaigns.window",
    "campaigns.retry",
    "campaigns.contact_limits",
    "campaigns.settings",
    "campaigns.lifecycle",
    "campaigns.schedule",
    "campaigns.lead_numbers",
)
RULES = ("dialer.core", "dialer.pacing", "dialer.policy")  # the pure layers every other one may use

# The import rules by folder: which of the product's packages each folder may import (a name
# allows its submodules). Third-party and standard modules are checked further down.
LAYERS: dict[str, tuple[str, ...]] = {
    "dialer/core": ("dialer.core",),
    "dialer/pacing": ("dialer.core", "dialer.pacing"),
    "dialer/policy": ("dialer.core", "dialer.pacing", "dialer.policy", *PURE_CAMPAIGNS),
    "dialer/store": (*RULES, "dialer.store", "campaigns"),
    "dialer/engine": (*RULES, "dialer.store", "dialer.engine", "campaigns"),
    "dialer/services": (*RULES, "dialer.store", "dialer.services", "campaigns", "lists"),
    # The long-running service wires the engine, the scheduler and HTTP; it never picks the AMI
    # adapter (the command does) and never draws on the terminal.
    "dialer/service": (
        *RULES,
        "dialer.store",
        "dialer.engine",
        "dialer.services",
        "dialer.service",
        "dialer.reports",  # scheduled exports write the campaign report
        "campaigns",
        "lists",
    ),
    "dialer/reports": (*RULES, "dialer.store", "dialer.reports", "campaigns", "lists.safe_write"),
    "dialer/ami": ("dialer.core", "dialer.ami"),
    "dialer/sim": ("dialer.core", "dialer.pacing", "dialer.sim"),
    # lists.safe_write is the one way any command writes a file, the Asterisk config included.
    "dialer/pbx": ("dialer.core", "dialer.ami", "dialer.pbx", "lists.safe_write"),
    # The console sees the product only through the services (and the error tree).
    "dialer/web": ("dialer.core", "dialer.services", "dialer.web"),
    "dialer/cli": ("dialer", "campaigns", "lists"),
    "dialer": ("dialer",),
    # What campaigns/ and lists/ may use of the dial engine: its error tree, the port and the attempt.
    "campaigns": ("dialer.core", "campaigns"),
    "lists": ("dialer.core", "campaigns", "lists"),
}

# What importing each package may never load, checked in a fresh interpreter. Pure packages are
# synchronous, so they may not load asyncio either.
PURE_FORBIDDEN = ("sqlalchemy", "sqlmodel", "alembic", "panoramisk", "rich", "typer", "asyncio")
NO_TERMINAL = ("panoramisk", "rich", "typer")
LOADS_NOTHING_OF: dict[str, tuple[str, ...]] = {
    "dialer/core": PURE_FORBIDDEN,
    "dialer/policy": PURE_FORBIDDEN,
    "dialer/pacing": PURE_FORBIDDEN,
    "dialer/ami/tracker.py": PURE_FORBIDDEN,
    "dialer/ami/headers.py": PURE_FORBIDDEN,
    "dialer/sim/simulator.py": PURE_FORBIDDEN,
    "dialer/sim/world.py": PURE_FORBIDDEN,
    "dialer/sim/params.py": PURE_FORBIDDEN,
    "dialer/sim/day.py": PURE_FORBIDDEN,
    "campaigns/window.py": PURE_FORBIDDEN,
    "campaigns/retry.py": PURE_FORBIDDEN,
    "campaigns/contact_limits.py": PURE_FORBIDDEN,
    "campaigns/settings.py": PURE_FORBIDDEN,
    "campaigns/schedule.py": PURE_FORBIDDEN,
    "campaigns/region.py": PURE_FORBIDDEN,
    "campaigns/lifecycle.py": PURE_FORBIDDEN,
    # The engine talks to the phone system through the port and never to the terminal.
    "dialer/engine": NO_TERMINAL,
    "dialer/store": NO_TERMINAL,
    # The compliance record still renders its own rich table; the services never load typer.
    "dialer/services": ("panoramisk", "typer"),
    "dialer/service": NO_TERMINAL,
    "dialer/reports": NO_TERMINAL,
    "dialer/web": NO_TERMINAL,
    "campaigns": NO_TERMINAL,
    "lists": NO_TERMINAL,
}
MAX_TOP_LEVEL_MODULES = 8


def sources() -> list[Path]:
    found = [ROOT / "cli.py"]
    for package in PACKAGES:
        found += [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]
    return found


def _type_checking_only(tree: ast.AST) -> set[int]:
    """Nodes under ``if TYPE_CHECKING:``: read by the type checker, never imported at run time."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            skipped.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return skipped


def imports(path: Path) -> set[str]:
    """Every module the file imports at run time, at the top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def folder_of(path: Path) -> str:
    parts = path.relative_to(ROOT).parts
    return "/".join(parts[:2]) if parts[0] == "dialer" and len(parts) > 2 else parts[0]


def within(module: str, allowed: tuple[str, ...]) -> bool:
    return any(module == a or module.startswith(a + ".") for a in allowed)


def test_only_the_ami_adapter_imports_panoramisk() -> None:
    users = {rel(p) for p in sources() if any(m.split(".")[0] == "panoramisk" for m in imports(p))}
    assert users == {"dialer/ami/client.py"}


@pytest.mark.parametrize("path", [p for p in sources() if rel(p).startswith(PURE)], ids=rel)
def test_pure_modules_do_no_io(path: Path) -> None:
    heavy = {m for m in imports(path) if m.split(".")[0] in IO_MODULES}
    assert not heavy, f"{rel(path)} imports {sorted(heavy)}"


@pytest.mark.parametrize("path", [p for p in sources() if rel(p) != "cli.py"], ids=rel)
def test_each_folder_imports_only_what_its_layer_allows(path: Path) -> None:
    allowed = LAYERS[folder_of(path)]
    ours = {m for m in imports(path) if m.split(".")[0] in PACKAGES}
    crossing = {m for m in ours if not within(m, allowed)}
    assert not crossing, f"{rel(path)} ({folder_of(path)}) imports {sorted(crossing)}"


@pytest.mark.parametrize("path", [p for p in sources() if rel(p) != "cli.py"], ids=rel)
def test_the_library_never_imports_the_command_line(path: Path) -> None:
    assert "cli" not in imports(path)
    if folder_of(path) != "dialer/cli":
        assert not {m for m in imports(path) if within(m, ("dialer.cli", "typer"))}, rel(path)


def test_campaigns_never_import_lists() -> None:
    offenders = [
        rel(p) for p in (ROOT / "campaigns").rglob("*.py") if any(m.startswith("lists") for m in imports(p))
    ]
    assert offenders == []


def test_the_dialer_folder_shows_its_layers() -> None:
    top = sorted(p.name for p in (ROOT / "dialer").glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, f"modules directly in dialer/: {top}"
    assert set(LAYERS) >= {f"dialer/{p.name}" for p in (ROOT / "dialer").iterdir() if p.is_dir()} - {
        "dialer/__pycache__"
    }


def modules_in(target: str) -> list[str]:
    """The dotted names of a module, or of every module of a package folder."""
    path = ROOT / target
    files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
    names = []
    for file in files:
        if "migrations" in file.parts:
            continue
        parts = file.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def loaded_by(modules: list[str]) -> set[str]:
    """The top-level names in ``sys.modules`` after a fresh interpreter imports ``modules``."""
    code = (
        "import importlib, json, sys\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *modules], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


@pytest.mark.parametrize("target", sorted(LOADS_NOTHING_OF))
def test_importing_a_layer_loads_nothing_it_must_not(target: str) -> None:
    modules = modules_in(target)
    assert modules, f"nothing to import in {target}"
    leaked = loaded_by(modules) & set(LOADS_NOTHING_OF[target])
    assert not leaked, f"importing {target} loads {sorted(leaked)}"


# Small modules and short functions (docs/architecture.md).
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def checked_for_size() -> list[Path]:
    """The product and the benchmarks and scripts beside it: everything but the tests."""
    return sources() + sorted((ROOT / "bench").glob("*.py")) + sorted((ROOT / "scripts").rglob("*.py"))


def test_modules_stay_small() -> None:
    lines = {rel(p): len(p.read_text(encoding="utf-8").splitlines()) for p in checked_for_size()}
    large = {name for name, n in lines.items() if n > MAX_MODULE_LINES}
    assert not large, f"modules over {MAX_MODULE_LINES} lines: {sorted(large)}"


def function_lengths(source: str) -> dict[str, int]:
    """Each function's length from its first statement (the docstring, if any) to its end.

    The signature is left out: a command that declares twenty options is declaration, not logic.
    """
    lengths = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
            lengths[f"{node.lineno} {node.name}"] = node.end_lineno - node.body[0].lineno + 1
    return lengths


def test_functions_stay_short() -> None:
    long = {
        f"{rel(p)}:{name}": n
        for p in checked_for_size()
        for name, n in function_lengths(p.read_text(encoding="utf-8")).items()
        if n > MAX_FUNCTION_LINES
    }
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_the_length_check_counts_a_function_from_its_first_statement() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES + 1))
    source = f"def long(\n    a: int,\n) -> None:\n{body}\n\n\ndef short() -> None:\n    pass\n"
    assert function_lengths(source) == {
        "1 long": MAX_FUNCTION_LINES + 1,
        f"{MAX_FUNCTION_LINES + 7} short": 1,
    }
