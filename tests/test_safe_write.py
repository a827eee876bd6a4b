"""The one way the product writes files, on real files: devices, FIFOs, links, folders, the store itself."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from dialer.pbx.config import QueueSpec, write_pbx_config
from lists.safe_write import OutputRefused, OutputRules, SafeOutput, store_files, write_bytes, write_text

ROOT = Path(__file__).parent.parent
runner = CliRunner()
LEADS = "Имя;Телефон\nИван;8 (916) 123-45-67\nОлег;12\n"


def write_hello(target: str | Path, rules: OutputRules | None = None) -> None:
    write_text(target, lambda handle: handle.write("hello\n"), rules)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))


# --- the writer itself ------------------------------------------------------------------


def test_a_new_file_is_written_whole_and_no_temporary_file_stays(tmp_path: Path) -> None:
    write_hello(tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text() == "hello\n"
    assert leftovers(tmp_path) == []


def test_an_existing_file_is_replaced_and_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    target.chmod(0o640)
    write_hello(target)
    assert target.read_text() == "hello\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")

    def fail(handle: object) -> None:
        raise RuntimeError("half-way")

    with pytest.raises(RuntimeError):
        write_text(target, fail)
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("kind", ["char", "block"])
def test_a_device_node_is_written_to_and_never_replaced(tmp_path: Path, kind: str) -> None:
    node = tmp_path / f"{kind}-null"
    if kind == "char":
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # the null device, made here, not in /dev
        write_hello(node)
        assert stat.S_ISCHR(node.lstat().st_mode)
    else:
        os.mknod(node, 0o600 | stat.S_IFBLK, os.makedev(7, 200))  # a loop device that does not exist
        with pytest.raises(OutputRefused, match=r"cannot write .*block-null"):
            write_hello(node)
        assert stat.S_ISBLK(node.lstat().st_mode)
    assert leftovers(tmp_path) == []


def test_a_fifo_is_written_as_a_stream(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_bytes(fifo, lambda handle: handle.write(b"rows\n"))
    reader.join(timeout=10)
    assert received == [b"rows\n"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_symlink_is_refused_unless_asked_and_then_its_target_is_written(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with pytest.raises(OutputRefused, match="--follow-symlinks"):
        write_hello(link)
    assert real.read_text() == "old"
    write_hello(link, OutputRules(follow_symlinks=True))
    assert link.is_symlink() and real.read_text() == "hello\n"


def test_a_link_to_a_device_or_pipe_is_written_through_as_a_stream(tmp_path: Path) -> None:
    node = tmp_path / "null"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    link = tmp_path / "stdout"
    link.symlink_to(node)  # as /dev/stdout is a link to the terminal or pipe
    write_hello(link)
    assert link.is_symlink() and stat.S_ISCHR(node.lstat().st_mode)
    with pytest.raises(OutputRefused, match="secret"):
        write_hello(link, OutputRules(secret=True))


def test_dev_stdout_reaches_the_pipe_it_points_to() -> None:
    script = (
        "from lists.safe_write import write_text\nwrite_text('/dev/stdout', lambda h: h.write('rows\\n'))\n"
    )
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "rows\n"


def test_a_secret_never_goes_through_a_symlink_even_when_asked(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_text("x")
    (tmp_path / "secret.conf").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OutputRefused, match="secret"):
        write_hello(tmp_path / "secret.conf", OutputRules(secret=True, follow_symlinks=True))
    assert (tmp_path / "elsewhere").read_text() == "x"


def test_a_secret_is_private_from_its_first_byte(tmp_path: Path) -> None:
    seen: list[int] = []

    def write(handle: object) -> None:
        temporary = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        seen.extend(stat.S_IMODE(p.stat().st_mode) for p in temporary)

    old = os.umask(0)
    try:
        write_text(tmp_path / "manager.conf", write, OutputRules(secret=True))
    finally:
        os.umask(old)
    assert seen == [0o600]
    assert stat.S_IMODE((tmp_path / "manager.conf").stat().st_mode) == 0o600


@pytest.mark.parametrize("name", ["", "   ", "sub/"])
def test_an_empty_name_or_a_folder_is_refused(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputRefused, match=r"no file name|is a folder"):
        write_hello(name)
    with pytest.raises(OutputRefused, match="is a folder"):
        write_hello(tmp_path / "sub")


def test_the_store_and_its_side_files_are_refused_even_before_they_exist(tmp_path: Path) -> None:
    db = tmp_path / "dialer.db"
    db.write_bytes(b"SQLite format 3\0")
    rules = OutputRules(store=store_files(str(db)))
    for name in ("dialer.db", "dialer.db-wal", "dialer.db-journal"):
        with pytest.raises(OutputRefused, match="store's own file"):
            write_hello(tmp_path / name, rules)
    hard = tmp_path / "alias.db"
    os.link(db, hard)
    with pytest.raises(OutputRefused, match="store's own file"):
        write_hello(hard, rules)
    assert db.read_bytes() == b"SQLite format 3\0"


def test_sigterm_removes_the_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    script = (
        "import sys, time\n"
        "from lists.safe_write import write_text\n"
        "def slow(handle):\n"
        "    handle.write('lead data\\n'); handle.flush()\n"
        "    print('writing', flush=True); time.sleep(60)\n"
        f"write_text({str(target)!r}, slow)\n"
    )
    command = [sys.executable, "-c", script]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "writing"
        assert len(leftovers(tmp_path)) == 1
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) == 128 + signal.SIGTERM
    assert leftovers(tmp_path) == []
    assert target.read_text() == "old"


def test_a_stream_output_does_not_need_a_commit_to_reach_its_reader(tmp_path: Path) -> None:
    node = tmp_path / "null"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    output = SafeOutput(node)
    output.open().write("x")
    output.discard()
    assert stat.S_ISCHR(node.lstat().st_mode)


# --- the commands -----------------------------------------------------------------------


def dialer(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def assert_one_line_error(code: int, err: str, fragment: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert fragment in lines[0], lines[0]


@pytest.fixture
def spring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "dialer.db"
    monkeypatch.setenv("DIALER_DB", str(db))
    code, _, err = dialer("campaign", "create", "spring")
    assert code == 0, err
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    return db


def test_the_store_given_as_output_is_refused_and_kept(spring: Path) -> None:
    before = spring.read_bytes()
    for name in (str(spring), "dialer.db-wal", "./dialer.db"):
        code, _, err = dialer("export", "leads", "--campaign", "spring", "-o", name)
        assert_one_line_error(code, err, "store's own file")
    assert spring.read_bytes() == before
    code, out, err = dialer("campaign", "list")
    assert code == 0 and "spring" in out, err


def test_the_input_given_as_rejects_is_refused_before_anything_is_stored(spring: Path) -> None:
    code, _, err = dialer("lists", "import", "leads.csv", "--campaign", "spring", "--rejects", "leads.csv")
    assert_one_line_error(code, err, "this command's input")
    assert Path("leads.csv").read_text(encoding="utf-8") == LEADS
    code, out, _ = dialer("campaign", "show", "spring")
    assert "leads: 0" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["export", "leads", "--campaign", "spring", "-o", ""], "no file name"),
        (["export", "attempts", "--campaign", "spring", "-o", "."], "is a folder"),
        (["export", "leads", "--campaign", "spring", "-o", "sub"], "is a folder"),
        (["lists", "import", "leads.csv", "--campaign", "spring", "--rejects", "sub"], "is a folder"),
        (["report", "compliance", "--campaign", "spring", "-o", "sub/"], "is a folder"),
        (["simulate", "--hours", "0.1", "--plot", "x.txt"], "--plot"),
        (["simulate", "--hours", "0.1", "--plot", "d.png"], "is a folder"),
        (["export", "leads", "--campaign", "spring", "-o", "missing/out.csv"], "does not exist"),
    ],
)
def test_bad_output_paths_are_one_line(spring: Path, args: list[str], fragment: str) -> None:
    Path("sub").mkdir()
    Path("d.png").mkdir()
    code, _, err = dialer(*args)
    assert_one_line_error(code, err, fragment)
    code, out, _ = dialer("campaign", "show", "spring")
    assert "leads: 0" in out


def test_export_to_a_device_node_leaves_it_a_device(spring: Path, tmp_path: Path) -> None:
    node = tmp_path / "null"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    code, _, err = dialer("export", "leads", "--campaign", "spring", "-o", str(node))
    assert code == 0, err
    assert stat.S_ISCHR(node.lstat().st_mode)


def test_export_through_a_symlink_only_with_follow_symlinks(spring: Path, tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("old")
    (tmp_path / "link.csv").symlink_to(real)
    code, _, err = dialer("export", "leads", "--campaign", "spring", "-o", "link.csv")
    assert_one_line_error(code, err, "--follow-symlinks")
    assert real.read_text() == "old"
    code, _, err = dialer("export", "leads", "--campaign", "spring", "-o", "link.csv", "--follow-symlinks")
    assert code == 0, err
    assert real.read_text().startswith("lead_id,phone")


def test_pbx_config_refuses_a_planted_symlink_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "conf"
    out.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("mine")
    (out / "manager_dialer.conf").symlink_to(victim)
    with pytest.raises(OutputRefused, match="symbolic link"):
        write_pbx_config(out, [QueueSpec("sales")], ami_user="dialer", ami_secret=None)
    assert victim.read_text() == "mine" and stat.S_IMODE(victim.stat().st_mode) != 0o600
    assert sorted(p.name for p in out.iterdir()) == ["manager_dialer.conf"]


def test_pbx_config_writes_the_secret_0600(tmp_path: Path) -> None:
    files = write_pbx_config(tmp_path / "conf", [QueueSpec("sales")], ami_user="dialer", ami_secret=None)
    assert stat.S_IMODE(files.manager.stat().st_mode) == 0o600
    assert files.ami_secret in files.manager.read_text()
