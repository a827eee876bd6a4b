"""A throwaway PostgreSQL cluster for the store tests, and the switch that runs a test on both stores.

One cluster per test session: ``initdb`` into a temporary directory, listening on
127.0.0.1 only at a free port, password authentication with a random password,
stopped and deleted at the end. PostgreSQL refuses to run as root, so under root
the cluster runs as the ``postgres`` system user (``nobody`` if there is none).

The schema is migrated once into one test database; each test starts from it
emptied (every table truncated, ids restarted), which costs a fraction of
creating a database per test. A test that needs an empty database of its own
(the migration test) asks the cluster for one.

A test module marked ``every_store`` runs each test that uses the ``store`` or
``db_url`` fixture twice: on SQLite and on PostgreSQL. Without PostgreSQL server
binaries or the psycopg driver those PostgreSQL runs are skipped locally, and fail
in CI (``CI=true`` or ``DIALER_REQUIRE_POSTGRES=1``); ``scripts/install-postgres.sh``
installs the server.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import NullPool

from campaigns.store import open_store
from tests.store_closing import close_store

BACKENDS = ("sqlite", "postgresql")
TEST_DB = "dialer_tests"
_USER = "dialer"
# Not UTC on purpose: a datetime read back in the server's zone and then taken as UTC shows up as a bug.
_SERVER_TIME_ZONE = "Asia/Vladivostok"
_START_ATTEMPTS = 3


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "every_store: run the test's store on SQLite and on a throwaway PostgreSQL cluster"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("every_store"):
        metafunc.parametrize("store_backend", BACKENDS, indirect=True)


def postgres_required() -> bool:
    """In CI a missing PostgreSQL fails the tests instead of skipping them."""
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("DIALER_REQUIRE_POSTGRES") == "1"


def find_server_bindir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` live: PATH first, then Debian's versioned directories, newest first."""
    pg_ctl, initdb = shutil.which("pg_ctl"), shutil.which("initdb")
    if pg_ctl and initdb:
        return Path(pg_ctl).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda d: int(Path(d).parent.name) if Path(d).parent.name.isdigit() else 0,
        reverse=True,
    )
    for folder in map(Path, candidates):
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _quote(engine: Engine, name: str) -> str:
    return str(engine.dialect.identifier_preparer.quote(name))


@dataclass
class PostgresCluster:
    """A running throwaway cluster: URLs for its databases, and cheap per-test databases."""

    port: int
    password: str
    admin: Engine  # AUTOCOMMIT, on the ``postgres`` database: CREATE/DROP DATABASE

    def url(self, database: str) -> str:
        return URL.create(
            "postgresql+psycopg",
            username=_USER,
            password=self.password,
            host="127.0.0.1",
            port=self.port,
            database=database,
        ).render_as_string(hide_password=False)

    def create_database(self, name: str) -> str:
        """A new, empty database; its URL."""
        with self.admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {_quote(self.admin, name)} TEMPLATE template0"))
        return self.url(name)

    def empty_database(self, name: str) -> None:
        """Every row of every table gone and every id sequence restarted; the schema stays."""
        with self.admin.connect() as conn:
            # A connection a previous test left open could hold a lock that TRUNCATE waits for.
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        engine = create_engine(self.url(name), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with engine.connect() as conn:
                tables = conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                        " AND tablename <> 'alembic_version'"
                    )
                ).scalars()
                names = ", ".join(_quote(engine, table) for table in tables)
                if names:
                    conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        finally:
            engine.dispose()

    def drop_database(self, name: str) -> None:
        # FORCE ends connections a test left open (an engine it never disposed).
        with self.admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {_quote(self.admin, name)} WITH (FORCE)"))


class _Server:
    """initdb, pg_ctl start and stop, run as an unprivileged user when we are root."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="dialer-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.password = secrets.token_urlsafe(24)
        self._prefix: list[str] = []
        self._uid = -1
        if os.geteuid() == 0:
            user = _unprivileged_user()
            self._prefix = ["runuser", "-u", user, "--"]
            self._uid = pwd.getpwnam(user).pw_uid
            os.chown(self.root, self._uid, -1)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._prefix, *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def initdb(self) -> None:
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if self._uid >= 0:
            os.chown(pwfile, self._uid, -1)
        try:
            done = self._run(
                str(self.bindir / "initdb"),
                "-D", str(self.data),
                "-U", _USER,
                "--pwfile", str(pwfile),
                "--auth=scram-sha-256",
                "-E", "UTF8",
                "--no-locale",
                "--no-sync",
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> int:
        """Start on a free port of 127.0.0.1; the port."""
        failure = ""
        for _ in range(_START_ATTEMPTS):  # another process may take the port between probe and bind
            port = _free_port()
            self._configure(port)
            pg_ctl = str(self.bindir / "pg_ctl")
            done = self._run(pg_ctl, "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")
            if done.returncode == 0:
                return port
            failure = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else done.stderr
        raise RuntimeError(f"PostgreSQL did not start: {failure.strip()}")

    def _configure(self, port: int) -> None:
        # postgresql.auto.conf is read last, so a rewrite here overrides the initdb defaults.
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(port),
            "unix_socket_directories": "''",
            "timezone": f"'{_SERVER_TIME_ZONE}'",
            # A throwaway cluster: durability buys nothing and costs seconds.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        auto = self.data / "postgresql.auto.conf"
        auto.write_text("".join(f"{key} = {value}\n" for key, value in settings.items()))
        if self._uid >= 0:
            os.chown(auto, self._uid, -1)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _unprivileged_user() -> str:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists")


def _unavailable(reason: str) -> None:
    message = f"PostgreSQL is not available: {reason}; run scripts/install-postgres.sh"
    if postgres_required():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("the psycopg driver is not installed (pip install -e '.[dev]')")
    bindir = find_server_bindir()
    if bindir is None:
        _unavailable("no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin")
    assert bindir is not None
    server = _Server(bindir)
    try:
        server.initdb()
        port = server.start()
        admin = create_engine(
            URL.create(
                "postgresql+psycopg",
                username=_USER,
                password=server.password,
                host="127.0.0.1",
                port=port,
                database="postgres",
            ),
            isolation_level="AUTOCOMMIT",
            poolclass=NullPool,
        )
        cluster = PostgresCluster(port, server.password, admin)
        open_store(cluster.create_database(TEST_DB)).dispose()
    except BaseException:
        server.stop()
        raise
    try:
        yield cluster
    finally:
        admin.dispose()
        server.stop()


@pytest.fixture
def postgres_db_url(postgres_cluster: PostgresCluster) -> str:
    """The test database, migrated to the newest schema and empty."""
    postgres_cluster.empty_database(TEST_DB)
    return postgres_cluster.url(TEST_DB)


@pytest.fixture
def pg_store(postgres_db_url: str) -> Iterator[Engine]:
    """The store on PostgreSQL only, for tests of what needs a database server (outages, several nodes)."""
    engine = open_store(postgres_db_url)
    yield engine
    close_store(engine)


@pytest.fixture
def store_backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` unless the test module is marked ``every_store`` (then both, in turn)."""
    return str(getattr(request, "param", "sqlite"))
