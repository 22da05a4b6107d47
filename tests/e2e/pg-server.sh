# pg-server.sh - a private PostgreSQL server for a test, sourced after
# common.sh: pg_start makes a cluster with initdb in $tmp/pg, starts it
# with pg_ctl listening only on a Unix socket in that folder (no TCP
# port, so parallel tests never collide), and sets $PGCONN (a libpq
# connection string for the superuser "sy") and $PGBIN. The EXIT trap
# stops the server even when the test fails, then removes $tmp.
#
# PostgreSQL refuses to run as root: as root, the cluster belongs to an
# unprivileged user (postgres, else nobody) and initdb/pg_ctl run as that
# user (setpriv); the switchyard process, still root, reaches the socket.
# Roles: "sy" (superuser, trust) and "tester" with password "s3cret"
# (scram-sha-256), for the wrong-credentials case.
# shellcheck shell=bash
pg_find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin \
    "$(dirname "$(readlink -f "$(command -v pg_ctl 2>/dev/null || echo /x/x)")")"; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/psql" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

pg_as() { # run a command as the cluster's owner
  if [ -n "${pg_user:-}" ]; then
    setpriv --reuid="$pg_user" --regid="$pg_group" --clear-groups -- "$@"
  else
    "$@"
  fi
}

pg_stop() {
  if [ -n "${pg_dir:-}" ] && [ -f "$pg_dir/data/postmaster.pid" ]; then
    pg_as "$PGBIN/pg_ctl" -D "$pg_dir/data" -m immediate -w stop \
      >/dev/null 2>&1
  fi
}

pg_start() {
  PGBIN=$(pg_find_bin) || return 1
  pg_dir=$tmp/pg
  mkdir -p "$pg_dir"
  pg_user= pg_group=
  if [ "$(id -u)" -eq 0 ]; then
    if id postgres >/dev/null 2>&1; then
      pg_user=$(id -u postgres) pg_group=$(id -g postgres)
    else
      pg_user=$(id -u nobody) pg_group=$(id -g nobody)
    fi
    chmod 0711 "$tmp"
    chown "$pg_user:$pg_group" "$pg_dir"
  fi
  trap 'pg_stop; rm -rf "$tmp"' EXIT
  pg_as "$PGBIN/initdb" -D "$pg_dir/data" -U sy -A trust -E UTF8 \
    --locale=C >"$pg_dir/initdb.log" 2>&1 || {
    cat "$pg_dir/initdb.log"
    return 1
  }
  cat >"$pg_dir/data/pg_hba.conf" <<HBA
local all tester scram-sha-256
local all all trust
HBA
  pg_as "$PGBIN/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 30 \
    -o "-c listen_addresses='' -c unix_socket_directories='$pg_dir' -c fsync=off" \
    start >/dev/null 2>&1 || {
    cat "$pg_dir/server.log"
    return 1
  }
  PGCONN="host=$pg_dir dbname=postgres user=sy"
  pg_sql "CREATE ROLE tester LOGIN PASSWORD 's3cret' SUPERUSER" >/dev/null
}

pg_sql() { # run SQL as sy; prints rows unaligned, '|'-separated
  "$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$PGCONN" -c "$1"
}
