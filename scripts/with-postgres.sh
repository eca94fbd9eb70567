#!/usr/bin/env bash
# Runs a command next to a throwaway PostgreSQL server, for tests.
#
#   scripts/with-postgres.sh CMD [ARGS...]
#   scripts/with-postgres.sh cargo test --workspace --locked -- --include-ignored
#   scripts/with-postgres.sh bash -c 'psql "$ORDERHUB_TEST_DATABASE_URL" -c "select version()"'
#
# Starts PostgreSQL (15 if installed, else the newest /usr/lib/postgresql/*/bin; PG_BINDIR
# overrides) in a fresh temp dir, listening on 127.0.0.1 only, on a free port (55432 or the next
# free one; ORDERHUB_PG_PORT overrides), trust auth, durability off (test data only). Exports
# ORDERHUB_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres, runs CMD, then stops
# the server and deletes the dir, whatever happens. Exits with CMD's exit code.
#
# PostgreSQL refuses to run as root: as root the server runs as the `postgres` OS user (created by
# Debian's postgresql package; else `nobody`). As any other user it runs as that user.
set -euo pipefail

log() { printf 'with-postgres: %s\n' "$*" >&2; }

if [ $# -eq 0 ]; then
    sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
fi

# --- binaries -------------------------------------------------------------------------------
bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
    if [ -x /usr/lib/postgresql/15/bin/postgres ]; then
        bindir=/usr/lib/postgresql/15/bin
    else
        bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    fi
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/postgres" ]; then
    log "no PostgreSQL server found under /usr/lib/postgresql/*/bin (apt-get install postgresql, or set PG_BINDIR)"
    exit 127
fi

# --- who runs the server --------------------------------------------------------------------
pg_user=""
if [ "$(id -u)" -eq 0 ]; then
    if id postgres >/dev/null 2>&1; then pg_user=postgres; else pg_user=nobody; fi
fi
# as_pg CMD...: runs CMD as the server's user.
as_pg() {
    if [ -z "$pg_user" ]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        (cd / && runuser -u "$pg_user" -- "$@")
    else
        (cd / && su -s /bin/sh "$pg_user" -c "$(printf '%q ' "$@")")
    fi
}

# --- a fresh dir, removed on exit -----------------------------------------------------------
# As root, in /tmp: the server's user must be able to reach it (root's TMPDIR may be private).
if [ -n "$pg_user" ]; then tmp_base=/tmp; else tmp_base=${TMPDIR:-/tmp}; fi
dir=$(mktemp -d "$tmp_base/orderhub-pg.XXXXXX")
data="$dir/data"
started=""
cleanup() {
    if [ -n "$started" ]; then
        as_pg "$bindir/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
            as_pg "$bindir/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM # both replaced while CMD runs, see below
chmod 700 "$dir"
if [ -n "$pg_user" ]; then chown "$pg_user" "$dir"; fi

as_pg "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
    log "initdb failed:"
    cat "$dir/initdb.log" >&2
    exit 1
}

# --- start on a free port -------------------------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port=${ORDERHUB_PG_PORT:-55432}
last=$((port + 50))
while :; do
    if ! port_in_use "$port" &&
        as_pg "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null; then
        started=1
        break
    fi
    # pg_ctl may have given up while the server was still starting: stop it before moving on.
    as_pg "$bindir/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
    if [ -n "${ORDERHUB_PG_PORT:-}" ] || [ "$port" -ge "$last" ]; then
        log "could not start PostgreSQL (last port tried: $port); server log:"
        tail -n 30 "$dir/server.log" >&2 2>/dev/null || true
        exit 1
    fi
    port=$((port + 1))
done

# pg_ctl -w waited for the socket; make sure TCP answers too.
for _ in $(seq 1 50); do
    "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres && break
    sleep 0.2
done
"$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres || {
    log "PostgreSQL started but does not answer on 127.0.0.1:$port"
    exit 1
}

export ORDERHUB_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port${pg_user:+ (as $pg_user)}; ORDERHUB_TEST_DATABASE_URL=$ORDERHUB_TEST_DATABASE_URL"

# Run CMD as a child we wait for, so a TERM/INT to this script is passed on to it at once and the
# server is still cleaned up (a foreground child would hold the traps until it exits).
# `<&0` keeps CMD's stdin (a background command would otherwise get /dev/null).
"$@" <&0 &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM
trap 'kill -INT "$child" 2>/dev/null' INT
set +e
wait "$child"
rc=$?
while kill -0 "$child" 2>/dev/null; do # interrupted by a signal: wait for CMD's real exit
    wait "$child"
    rc=$?
done
exit "$rc"
