"""A private, throw-away Asterisk with a simulated phone network, for tests, CI and demos.

Each ``Sandbox`` writes its own config folder, picks free ports, binds AMI to 127.0.0.1
with a random secret (only in a 0600 config file: never in argv, never logged), loads an
explicit module list, and stops the process it started by pid. It loads the product's own
``manager_dialer.conf``, ``extensions_dialer.conf`` and ``queues_dialer.conf``
(``dialer.pbx.config``), so the tests run the configuration a user installs.

The simulated world (the contract the end-to-end tests rely on)
----------------------------------------------------------------
Customers: originate ``Local/<digits>@sim-customers`` (E.164 digits without ``+``, at
least two). The LAST digit picks the outcome; the digit before it sets the ring time
in tenths of a second (``...37`` rings 0.3 s):

    0-4  answers after the ring, then stays on the line until the other side hangs up (10 min cap)
    5    busy                      (OriginateResponse Reason 5, cause 17)
    6    rings and never answers   (Reason 3 once the originate's ring timeout expires)
    7    congestion                (Reason 8)
    8    answers, then hangs up after ${SIM_IMPATIENT} s: gives up waiting for an operator
    9    answers and plays a long non-silent greeting: AMD says MACHINE

Numbers starting ``999`` do not exist: refused at once with cause 1 (unallocated).

Operators: queue members ``Local/op<N>@sim-operators/n`` answer after ${SIM_OP_ANSWER} s
and hang up after ${SIM_TALK} s of talk. Each first sends ``UserEvent(SimOperatorCallerID)``
with ``Num`` and ``Name``: the caller ID its desk phone would show.

``SIM_IMPATIENT``, ``SIM_OP_ANSWER`` and ``SIM_TALK`` are dialplan globals, set from
``SimTuning`` at start and changeable at run time with the AMI action ``Setvar`` without
a ``Channel`` header (``AmiTelephony.action("Setvar", {"Variable": ..., "Value": ...})``).

Answered customers enter the product's ``dialer-answered`` context: originate with
``Context=dialer-answered``, ``Exten=s`` and the ``DIALER_*`` variables documented in
``extensions_dialer.conf``. ``Sandbox.safe_harbour_sound`` is a ready ``DIALER_SAFE_HARBOUR``.

Command line: ``python -m dialer.pbx.sandbox --prepare`` finds or builds the Asterisk
once (what ``scripts/install-asterisk.sh`` runs); ``--run`` starts a sandbox and prints
how to reach it until interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from dialer.core.errors import TelephonyError
from dialer.pbx.config import QueueSpec, render_extensions, render_manager, render_queues, render_template
from dialer.pbx.install import AsteriskInstall, AsteriskUnavailable, ensure_asterisk
from dialer.pbx.sounds import write_machine_greeting, write_safe_harbour_sound

log = logging.getLogger(__name__)

AMI_USER = "dialer"

# Everything the dialer flow and the simulated world use; autoload would pull in
# database and sound-card modules that only print errors here.
MODULES = (
    "res_timing_timerfd",
    "pbx_config",
    "bridge_simple",
    "bridge_softmix",
    "bridge_holding",
    "bridge_builtin_features",
    "func_logic",
    "func_strings",
    "func_callerid",
    "func_channel",
    "func_global",
    "app_stack",
    "app_userevent",
    "app_verbose",
    "app_playback",
    "app_amd",
    "app_queue",
    "app_dial",  # dialer-direct: a call for one operator dials their interface
    "res_musiconhold",
    "format_wav",
    "format_pcm",
    "format_sln",
    "codec_ulaw",
    "codec_alaw",
)


@dataclass(frozen=True)
class SimTuning:
    """Timings of the simulated world, in seconds."""

    impatient_s: float = 1.0
    op_answer_s: float = 0.3
    talk_s: float = 5.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def _asterisk_conf(conf: Path, work: Path, install: AsteriskInstall) -> str:
    dirs = {
        "astetcdir": conf,
        "astvarlibdir": work / "lib",
        "astdbdir": work / "lib",
        "astkeydir": work / "lib",
        "astdatadir": work / "data",
        "astagidir": work / "lib/agi-bin",
        "astspooldir": work / "spool",
        "astrundir": work / "run",
        "astlogdir": work / "log",
        "astcachedir": work / "cache",
    }
    if install.module_dir:
        dirs["astmoddir"] = install.module_dir
    for key, path in dirs.items():
        if key != "astmoddir":
            path.mkdir(parents=True, exist_ok=True)
    if install.data_dir:
        # Read-only data (XML documentation that stasis needs, sounds) stays in the install.
        for item in install.data_dir.iterdir():
            (work / "data" / item.name).symlink_to(item)
    else:
        del dirs["astdatadir"]
    lines = ["[directories]"] + [f"{k} => {v}" for k, v in dirs.items()]
    lines += ["", "[options]", "verbose = 0", "debug = 0", "hideconnect = yes", "cache_media_frames = no"]
    return "\n".join(lines) + "\n"


def _modules_conf() -> str:
    return "[modules]\nautoload = no\n" + "".join(f"load = {m}.so\n" for m in MODULES)


class Sandbox:
    """One private Asterisk; use as a context manager or call ``start()``/``stop()``."""

    def __init__(
        self,
        queues: Sequence[str | QueueSpec],
        sim: SimTuning | None = None,
        install: AsteriskInstall | None = None,
        startup_timeout_s: float = 60.0,
    ) -> None:
        self.queues = [q if isinstance(q, QueueSpec) else QueueSpec(q) for q in queues]
        self.sim = sim or SimTuning()
        self.install = install
        self.startup_timeout_s = startup_timeout_s
        self.host = "127.0.0.1"
        self.port = 0
        self.username = AMI_USER
        self.secret = secrets.token_hex(16)
        self.workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"Sandbox(host={self.host!r}, port={self.port}, username={self.username!r}, secret=***)"

    @property
    def ami_url(self) -> str:
        return f"ami://{self.username}:{self.secret}@{self.host}:{self.port}"

    @property
    def sounds_dir(self) -> Path:
        assert self.workdir is not None, "the sandbox is not started"
        return self.workdir / "sounds"

    @property
    def safe_harbour_sound(self) -> str:
        """The default safe-harbour message, as Playback() wants it (no extension)."""
        return str(self.sounds_dir / "dialer-safe-harbour")

    @property
    def log_file(self) -> Path:
        assert self.workdir is not None, "the sandbox is not started"
        return self.workdir / "asterisk.out"

    def _write_config(self, work: Path, install: AsteriskInstall) -> Path:
        conf = work / "etc"
        conf.mkdir()
        write_safe_harbour_sound(work / "sounds/dialer-safe-harbour.wav")
        write_machine_greeting(work / "sounds/sim-machine-greeting.wav")
        (work / "moh").mkdir()
        world = render_template(
            "sim_world.conf.in",
            {
                "SIM_IMPATIENT": str(self.sim.impatient_s),
                "SIM_OP_ANSWER": str(self.sim.op_answer_s),
                "SIM_TALK": str(self.sim.talk_s),
                "SIM_MACHINE_GREETING": str(work / "sounds/sim-machine-greeting"),
            },
        )
        files = {
            "asterisk.conf": _asterisk_conf(conf, work, install),
            "modules.conf": _modules_conf(),
            "logger.conf": "[general]\n[logfiles]\nconsole => error\nmessages => notice,warning,error\n",
            "manager.conf": f"[general]\nenabled = yes\nport = {self.port}\nbindaddr = 127.0.0.1\n"
            "#include manager_dialer.conf\n",
            "extensions.conf": "[general]\nstatic = yes\nwriteprotect = yes\n\n"
            + world
            + "\n#include extensions_dialer.conf\n",
            "extensions_dialer.conf": render_extensions(),
            "queues.conf": "[general]\npersistentmembers = no\nshared_lastcall = yes\n\n"
            "#include queues_dialer.conf\n",
            "queues_dialer.conf": render_queues(self.queues),
            "amd.conf": "[general]\n",
            "musiconhold.conf": f"[default]\nmode = files\ndirectory = {work / 'moh'}\n",
            "indications.conf": "[general]\ncountry = us\n\n[us]\ndescription = United States\n"
            "ring = 440+480/2000,0/4000\nbusy = 480+620/500,0/500\ncongestion = 480+620/250,0/250\n"
            "dial = 350+440\n",
            "cdr.conf": "[general]\nenable = no\n",
            "features.conf": "[general]\n",
            # Present but empty, so start-up does not log "Unable to load config file".
            **{name: "" for name in ("cel.conf", "acl.conf", "udptl.conf", "ccss.conf", "stasis.conf")},
            "queuerules.conf": "",
        }
        for name, text in files.items():
            _write(conf / name, text)
        _write(conf / "manager_dialer.conf", render_manager(self.username, self.secret), 0o600)
        return conf / "asterisk.conf"

    def start(self) -> Sandbox:
        if self._process is not None:
            return self
        install = self.install = self.install or ensure_asterisk()
        self.workdir = Path(tempfile.mkdtemp(prefix="dialer-ast-"))
        self.port = free_port()
        self._launch(install, self._write_config(self.workdir, install))
        return self

    def crash(self) -> None:
        """Kill Asterisk at once (SIGKILL), as a crash would: calls vanish, files stay for ``restart``."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    def restart(self) -> Sandbox:
        """Start Asterisk again on the same port and configuration, after ``crash``."""
        assert self.install is not None and self.workdir is not None, "the sandbox was never started"
        if self._process is None:
            self._launch(self.install, self.workdir / "etc/asterisk.conf")
        return self

    def _launch(self, install: AsteriskInstall, conf: Path) -> None:
        with open(self.log_file, "ab") as out:
            self._process = subprocess.Popen(
                [*install.argv, "-C", str(conf), "-f", "-n"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C meant for the tests does not reach it first
            )
        try:
            self._wait_ready(install, conf)
        except BaseException:
            self.stop(keep_files=True)
            raise
        log.info("sandbox Asterisk pid %d, AMI on %s:%d", self._process.pid, self.host, self.port)

    def _wait_ready(self, install: AsteriskInstall, conf: Path) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        booted = False
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise TelephonyError(f"the sandbox Asterisk exited at start; see {self.log_file}")
            if not booted:
                # Wait for the control socket to report a full boot: modules, dialplan and queues loaded.
                done = subprocess.run(
                    [*install.argv, "-C", str(conf), "-rx", "core waitfullybooted"],
                    capture_output=True,
                    timeout=self.startup_timeout_s,
                    check=False,
                )
                booted = done.returncode == 0
            if booted and self._ami_login_works():
                return
            time.sleep(0.1)
        raise TelephonyError(f"the sandbox Asterisk did not accept an AMI login in time; see {self.log_file}")

    def _ami_login_works(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=2) as conn:
                stream = conn.makefile("rwb")
                stream.readline()  # "Asterisk Call Manager/x.y.z"
                stream.write(
                    f"Action: Login\r\nUsername: {self.username}\r\nSecret: {self.secret}\r\n"
                    "Events: off\r\n\r\n".encode()
                )
                stream.flush()
                reply = b""
                while not reply.endswith(b"\r\n\r\n"):
                    line = stream.readline()
                    if not line:
                        return False
                    reply += line
                stream.write(b"Action: Logoff\r\n\r\n")
                stream.flush()
                return b"Response: Success" in reply
        except OSError:
            return False

    def stop(self, keep_files: bool = False) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self.workdir is not None and not keep_files:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def cli(self, command: str) -> str:
        """Run one Asterisk CLI command through the sandbox's control socket and return its output."""
        assert self.install is not None and self.workdir is not None, "the sandbox is not started"
        conf = self.workdir / "etc/asterisk.conf"
        done = subprocess.run(
            [*self.install.argv, "-C", str(conf), "-rx", command],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return done.stdout

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dialer.pbx.sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", action="store_true", help="find or build the Asterisk, then exit")
    parser.add_argument("--run", action="store_true", help="start a sandbox and keep it up until Ctrl-C")
    parser.add_argument("--queues", default="q1", help="comma-separated queue names for --run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        install = ensure_asterisk()
    except AsteriskUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(install.version)
    if args.run:
        with Sandbox(args.queues.split(","), install=install) as box:
            print(f"AMI on {box.host}:{box.port}, user {box.username}; secret in {box.workdir}/etc")
            with contextlib.suppress(KeyboardInterrupt):
                while box.running:
                    time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
