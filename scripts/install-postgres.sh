#!/usr/bin/env bash
# Makes sure PostgreSQL server binaries (initdb, pg_ctl, postgres) are on this machine, so that the
# tests can run the store against a throwaway cluster of their own (tests/postgres_fixtures.py).
# Idempotent: binaries on PATH or under /usr/lib/postgresql/*/bin are reused; otherwise Debian's
# `postgresql` package is installed with apt-get (needs root). No cluster is configured here.
set -euo pipefail

find_bindir() {
    local dir
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return 0
    fi
    # Debian keeps the server binaries off PATH, one directory per major version; newest first.
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -rn); do
        if [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

if ! bindir=$(find_bindir); then
    if [ "$(id -u)" != 0 ]; then
        echo "error: PostgreSQL server binaries (initdb, pg_ctl) not found; as root run:" >&2
        echo "       apt-get install postgresql   (or run this script as root)" >&2
        exit 2
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: PostgreSQL server binaries not found and apt-get is not available;" >&2
        echo "       install the PostgreSQL server (initdb, pg_ctl) with this system's package manager" >&2
        exit 2
    fi
    echo "installing PostgreSQL (Debian package postgresql)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    if ! bindir=$(find_bindir); then
        echo "error: postgresql was installed but initdb/pg_ctl are still not found" >&2
        exit 2
    fi
fi

# PostgreSQL refuses to run as root: the test cluster runs as this system user.
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --user-group --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
fi

echo "$("$bindir/pg_ctl" --version): $bindir"
