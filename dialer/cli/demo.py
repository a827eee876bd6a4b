"""``dialer demo``: a one-minute progressive campaign with everything it needs, from nothing.

A fresh SQLite store in a folder of its own, a generated list of leads imported
through the real importer, a campaign, operators set ready, and the real engine
dialing behind a live dashboard; then a summary and the exported attempts CSV.

The phone system is a private sandbox Asterisk (``dialer.pbx.sandbox``) whose
dialplan plays the customers and the operators, or, with ``--pbx simulated``,
the in-memory ``SimTelephony``: both behind the same ``Telephony`` port, both
scripting a customer by the number's last digit (0-4 answer, 5 busy, 6 never
answers, 7 congestion, 8 answers and hangs up while waiting).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import CallAttempt, Campaign
from campaigns.service import CampaignSpec, create_campaign
from campaigns.store import open_store, session_scope
from dialer.cli.dashboard import (
    CallBoard,
    DashboardFrame,
    ObservedTelephony,
    RunSummary,
    render_dashboard,
    render_summary,
    summarize,
)
from dialer.cli.demo_list import first_callable, operator_names, prepare_folder, write_sample_list
from dialer.core.errors import InvalidInput, TelephonyError, UserError
from dialer.core.i18n import _
from dialer.core.telephony import Telephony
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.services.attempts_export import export_attempts
from dialer.services.operators import add_operator, ready
from dialer.store.reconcile import reconcile_node
from lists.dnc import add_numbers
from lists.importer import ImportRequest, ImportSummary, import_leads
from lists.safe_write import write_text

log = logging.getLogger(__name__)

CAMPAIGN = "demo"
QUEUE = "demo"
REFRESH_PER_S = 4
SHUTDOWN_DEADLINE_S = 20.0  # a no-answer call may still be ringing (15 s) when dialing stops


class PbxChoice(StrEnum):
    ASTERISK = "asterisk"
    SIMULATED = "simulated"


class AsteriskNotAvailable(UserError):
    """The sandbox Asterisk could not be found, built or started."""


@dataclass(frozen=True)
class DemoOptions:
    pbx: PbxChoice = PbxChoice.ASTERISK
    seconds: float = 60.0
    folder: Path | None = None  # None: ./demo-run/<timestamp>
    leads: int = 250
    operators: int = 6
    # The simulated world's timings: an operator picks up in 0.8 s and talks for 6 s;
    # a customer of digit 8 hangs up 0.1 s after answering (before any operator can).
    op_answer_s: float = 0.8
    talk_s: float = 6.0
    impatient_s: float = 0.1

    def check(self) -> None:
        if not 1 <= self.seconds <= 3600:
            raise InvalidInput(_("--seconds {seconds:g}: expected 1 to 3600").format(seconds=self.seconds))
        if not 20 <= self.leads <= 100_000:
            raise InvalidInput(_("--leads {leads}: expected 20 to 100000").format(leads=self.leads))
        if not 1 <= self.operators <= 50:
            raise InvalidInput(
                _("--operators {operators}: expected 1 to 50").format(operators=self.operators)
            )


@dataclass(frozen=True)
class DemoResult:
    folder: Path
    store_path: Path
    list_path: Path
    attempts_csv: Path
    imported: ImportSummary
    summary: RunSummary


# --- setting up ----------------------------------------------------------------------


@dataclass(frozen=True)
class PhoneSystem:
    """What the demo needs to know about the phone system it runs on."""

    label: str
    dial_template: str
    safe_harbour_sound: str | None
    interface_for: Callable[[int], str]  # operator number (101, 102 ...) -> queue member interface
    connect: Callable[[], Awaitable[Telephony]]  # called inside the event loop


def setup_campaign(store: Engine, system: PhoneSystem, list_path: Path, operators: int) -> ImportSummary:
    """Campaign, one do-not-call number, the imported list and ready operators."""
    spec = CampaignSpec.build(
        CAMPAIGN,
        mode="progressive",
        queue=QUEUE,
        dial_template=system.dial_template,
        caller_id="74951234567",
        # Open around the clock, so the demo dials whatever the hour where it runs.
        window="00:00-24:00",
        ring_timeout_s=15,
        max_channels=30,
        originate_rate=10.0,
        max_attempts=3,
    )
    campaign = create_campaign(store, spec)
    if system.safe_harbour_sound:
        with session_scope(store) as session:
            row = session.get(Campaign, campaign.id)
            assert row is not None
            row.safe_harbour_sound = system.safe_harbour_sound
    # A customer who asked never to be called again: the importer must keep them out.
    blocked = first_callable(list_path)
    if blocked:
        add_numbers(store, [blocked], None, "RU", source="demo: asked not to be called")
    summary = import_leads(store, ImportRequest(path=list_path, campaign=CAMPAIGN))
    for i, name in enumerate(operator_names(operators)):
        add_operator(store, name, system.interface_for(101 + i), [CAMPAIGN])
        ready(store, name)
    return summary


# --- the phone systems ---------------------------------------------------------------


@contextlib.contextmanager
def phone_system(options: DemoOptions, console: Console) -> Iterator[PhoneSystem]:
    """Start the chosen phone system; it is always stopped again, also on Ctrl-C."""
    if options.pbx is PbxChoice.SIMULATED:
        yield _simulated(options)
        return
    from dialer.pbx.sandbox import Sandbox, SimTuning

    box = Sandbox(
        [QUEUE],
        sim=SimTuning(
            impatient_s=options.impatient_s, op_answer_s=options.op_answer_s, talk_s=options.talk_s
        ),
    )
    with console.status("starting the sandbox Asterisk (the first run may build it, about a minute)"):
        try:
            box.start()
        except (TelephonyError, OSError) as exc:
            raise AsteriskNotAvailable(
                f"cannot start the sandbox Asterisk: {exc}. "
                "Run `dialer demo --pbx simulated` to see the demo without Asterisk."
            ) from None
    try:
        from dialer.ami.client import AmiTelephony

        version = (box.install.version.split("+")[0] if box.install else "Asterisk").strip()
        yield PhoneSystem(
            label=f"sandbox {version}, AMI on {box.host}:{box.port}",
            dial_template="Local/{number}@sim-customers",
            safe_harbour_sound=box.safe_harbour_sound,
            interface_for=lambda n: f"Local/op{n}@sim-operators/n",
            connect=lambda: AmiTelephony.connect(box),
        )
    finally:
        box.stop()


def _simulated(options: DemoOptions) -> PhoneSystem:
    from dialer.sim.telephony import SimTelephony

    async def connect() -> Telephony:
        return SimTelephony(
            op_answer_s=options.op_answer_s, talk_s=options.talk_s, impatient_s=options.impatient_s
        )

    return PhoneSystem(
        label="simulated phone system (in memory)",
        dial_template="Local/{number}@sim-customers",
        safe_harbour_sound=None,
        interface_for=lambda n: f"Local/op{n}@sim-operators/n",
        connect=connect,
    )


# --- running -------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _interrupts(stop: Callable[[str], None], hard_stop: Callable[[], object]) -> AsyncIterator[None]:
    """First Ctrl-C: stop dialing and let calls finish. Second: hang up now."""
    loop = asyncio.get_running_loop()
    presses = 0

    def on_signal() -> None:
        nonlocal presses
        presses += 1
        stop("interrupted")
        if presses > 1:
            hard_stop()

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def dial_for(
    store: Engine,
    system: PhoneSystem,
    options: DemoOptions,
    leads_total: int,
    console: Console,
) -> None:
    """Run the engine for ``options.seconds`` behind the live dashboard, then stop it gracefully."""
    board = CallBoard()
    telephony = ObservedTelephony(await system.connect(), board)
    settings = EngineSettings(node_id="demo", shutdown_deadline_s=SHUTDOWN_DEADLINE_S)
    engine = DialEngine(store, telephony, settings, campaigns=[CAMPAIGN])
    names = {system.interface_for(101 + i): n for i, n in enumerate(operator_names(options.operators))}
    title = f"dialer demo: campaign {CAMPAIGN}, progressive, {escape(system.label)}"
    started = time.monotonic()
    run = asyncio.create_task(engine.run())
    stopping = ""

    def stop(reason: str) -> None:
        nonlocal stopping
        stopping = stopping or reason
        engine.stop()

    def frame() -> DashboardFrame:
        elapsed = time.monotonic() - started
        return DashboardFrame(
            title=title,
            elapsed_s=elapsed,
            duration_s=options.seconds,
            stopping=stopping,
            finished=run.done(),
            in_flight=engine.live_calls,
            board=board,
            operator_names=names,
            outcomes=engine.outcomes,
            leads_total=leads_total,
        )

    try:
        async with _interrupts(stop, run.cancel):
            with Live(render_dashboard(frame(), console.width), console=console, auto_refresh=False) as live:
                while not run.done():
                    if time.monotonic() - started >= options.seconds:
                        stop("time is up")
                    live.update(render_dashboard(frame(), console.width), refresh=True)
                    await asyncio.wait({run}, timeout=1 / REFRESH_PER_S)
                live.update(render_dashboard(frame(), console.width), refresh=True)
            with contextlib.suppress(asyncio.CancelledError):
                await run
    finally:
        if not run.done():
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run
        if run.cancelled():
            await _hang_up_the_rest(store, telephony, board, settings.node_id)
        await telephony.close()


async def _hang_up_the_rest(store: Engine, telephony: Telephony, board: CallBoard, node: str) -> None:
    """After a hard stop: hang up what is still up and end its attempts as a restart would."""
    for attempt_id in list(board.calls):
        with contextlib.suppress(TelephonyError):
            await telephony.hangup(attempt_id)
    reconcile_node(store, node, time.time())


def _attempts(store: Engine) -> list[CallAttempt]:
    with Session(store) as session:
        return list(session.exec(select(CallAttempt).order_by(col(CallAttempt.started_at))).all())


@contextlib.contextmanager
def _log_to(path: Path) -> Iterator[None]:
    """The engine's log goes to a file in the demo folder, so it never tears the dashboard."""
    root = logging.getLogger()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def run_demo(options: DemoOptions, console: Console) -> DemoResult:
    options.check()
    folder = prepare_folder(options.folder)
    store_path = folder / "dialer.db"
    list_path = folder / "leads.csv"
    rows = write_sample_list(list_path, options.leads)
    console.print(f"demo folder: [bold]{escape(str(folder))}[/bold]")
    console.print(f"sample list: {escape(str(list_path))} ({rows} rows)")
    with _log_to(folder / "dialer.log"), phone_system(options, console) as system:
        console.print(f"phone system: {escape(system.label)}")
        store = open_store(f"sqlite:///{store_path}")
        try:
            imported = setup_campaign(store, system, list_path, options.operators)
            _print_import(console, imported)
            console.print(
                f"campaign {CAMPAIGN}: progressive, queue {QUEUE}, {options.operators} operators ready;"
                f" dialing for {options.seconds:g} s (Ctrl-C stops early)"
            )
            asyncio.run(dial_for(store, system, options, imported.imported, console))
            attempts_csv = folder / "attempts.csv"
            write_text(attempts_csv, lambda out: export_attempts(store, CAMPAIGN, out))
            summary = summarize(_attempts(store))
        finally:
            store.dispose()
    console.print()
    console.print(render_summary(summary))
    console.print(f"attempts CSV: [bold]{escape(str(attempts_csv))}[/bold]")
    console.print(f"store: {escape(str(store_path))}  (try: dialer --db {escape(str(store_path))} status)")
    console.print(f"engine log: {escape(str(folder / 'dialer.log'))}")
    return DemoResult(folder, store_path, list_path, attempts_csv, imported, summary)


def _print_import(console: Console, summary: ImportSummary) -> None:
    console.print(
        f"import: read {summary.read}, imported {summary.imported}, duplicates {summary.duplicates},"
        f" do-not-call {summary.dnc}, invalid {summary.invalid}"
    )
    if summary.rejects_path is not None:
        console.print(f"rejected rows, with the reason: {escape(str(summary.rejects_path))}")


# --- the command ---------------------------------------------------------------------


def demo_command(
    pbx: Annotated[
        PbxChoice, typer.Option(help="Phone system: the sandbox Asterisk, or simulated in memory.")
    ] = PbxChoice.ASTERISK,
    seconds: Annotated[float, typer.Option(help="How long to dial.")] = 60.0,
    folder: Annotated[
        Path | None,
        typer.Option("--dir", help="Folder for the store, list and CSV (default ./demo-run/<timestamp>)."),
    ] = None,
    leads: Annotated[int, typer.Option(help="Leads in the generated list.")] = 250,
    operators: Annotated[int, typer.Option(help="Simulated operators.")] = 6,
) -> None:
    """Run a one-minute progressive campaign on a sandbox Asterisk behind a live dashboard."""
    options = DemoOptions(pbx=pbx, seconds=seconds, folder=folder, leads=leads, operators=operators)
    run_demo(options, Console(highlight=False))
