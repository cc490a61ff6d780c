#!/usr/bin/env bash
# Makes sure the services the tests talk to are up:
#   MariaDB  127.0.0.1:3306, user root, empty password
#   Redis    127.0.0.1:6379
#
# Idempotent: when both already answer it prints nothing and changes nothing.
# Otherwise it installs what is missing (Debian: apt-get, as root), starts
# what is not running and waits until both answer. It never restarts, flushes
# or drops anything. Exits non-zero with a message when a service can't be
# reached.
#
# Environment: SERVICES_WAIT_SECONDS (default 60), how long to wait for each.
set -euo pipefail

readonly MYSQL_HOST=127.0.0.1 MYSQL_PORT=3306
readonly REDIS_HOST=127.0.0.1 REDIS_PORT=6379
readonly MARIADBD=/usr/sbin/mariadbd
readonly DATADIR=/var/lib/mysql
readonly WAIT_SECONDS="${SERVICES_WAIT_SECONDS:-60}"
# Logs of the daemons this script starts (and Redis's working directory).
readonly STATE_DIR="${TMPDIR:-/tmp}/expense-tracker-services"

log() { printf 'services.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

# Runs a command as root: directly when we are root, else through
# non-interactive sudo.
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif have sudo && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    die "need root (or password-less sudo) to run: $*"
  fi
}

# --- probes (short timeouts: nothing here may hang) -------------------------

MARIADB_ERR=""
mariadb_ok() {
  have mariadb || {
    MARIADB_ERR="mariadb client not installed"
    return 1
  }
  if MARIADB_ERR="$(timeout 10 mariadb --protocol=TCP -h"$MYSQL_HOST" -P"$MYSQL_PORT" \
    -uroot --connect-timeout=3 -e 'select 1' 2>&1 >/dev/null)"; then
    return 0
  fi
  return 1
}

REDIS_REPLY=""
redis_ok() {
  have redis-cli || {
    REDIS_REPLY="redis-cli not installed"
    return 1
  }
  REDIS_REPLY="$(timeout 5 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>&1 || true)"
  [[ "$REDIS_REPLY" == PONG ]]
}

# start-stop-daemon comes with dpkg, so it is there even where procps is not.
mariadbd_running() {
  start-stop-daemon --status --exec "$MARIADBD" >/dev/null 2>&1
}

# --- fast path: everything already up -> silent -----------------------------

if mariadb_ok && redis_ok; then
  exit 0
fi

mkdir -p "$STATE_DIR"

# --- install what is missing (fresh Debian machine) --------------------------

install_missing() {
  local pkgs=()
  [[ -x "$MARIADBD" ]] && have mariadb-install-db || pkgs+=(mariadb-server)
  have mariadb || pkgs+=(mariadb-client)
  have redis-server || pkgs+=(redis-server)
  have redis-cli || pkgs+=(redis-tools)
  ((${#pkgs[@]} == 0)) && return 0
  have apt-get || die "missing ${pkgs[*]} and no apt-get to install them"
  log "installing ${pkgs[*]} (apt-get)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}"
}

# --- MariaDB -----------------------------------------------------------------

MARIADB_STARTED_AT=""
start_mariadb() {
  if mariadbd_running; then
    log "MariaDB is running but not answering as expected yet ($MARIADB_ERR); waiting"
    return 0
  fi
  if [[ ! -d "$DATADIR/mysql" ]]; then
    log "initialising $DATADIR (mariadb-install-db)"
    as_root mariadb-install-db --user=mysql --datadir="$DATADIR" \
      >"$STATE_DIR/mariadb-install-db.log" 2>&1 ||
      die "mariadb-install-db failed; see $STATE_DIR/mariadb-install-db.log"
  fi
  if [[ ! -d /run/mysqld || "$(stat -c %U /run/mysqld)" != mysql ]]; then
    as_root install -d -o mysql -g mysql -m 0755 /run/mysqld
  fi
  log "starting MariaDB (log: $STATE_DIR/mariadbd.log)"
  local output=()
  if start-stop-daemon --help 2>&1 | grep -- '--output' >/dev/null; then
    output=(--output "$STATE_DIR/mariadbd.log")
  fi
  # --user=mysql: Debian's stock config may not name the user, and mariadbd
  # refuses to run as root.
  as_root start-stop-daemon --start --oknodo --background "${output[@]}" \
    --exec "$MARIADBD" -- --user=mysql
  MARIADB_STARTED_AT=$SECONDS
}

# On a fresh install root may log in only through the unix socket. Let it log
# in over TCP with an empty password too (the socket keeps working).
fix_root_tcp_login() {
  local sock=(timeout 10 mariadb --protocol=SOCKET -uroot --connect-timeout=3)
  [[ "$(id -u)" -eq 0 ]] || sock=(sudo -n "${sock[@]}")
  "${sock[@]}" -e 'select 1' >/dev/null 2>&1 || return 1
  log "allowing root to log in over TCP with an empty password"
  "${sock[@]}" -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;"
  # With skip-name-resolve, 127.0.0.1 is not 'localhost': root needs its own
  # account for that host.
  if [[ "$("${sock[@]}" -N -B -e 'select @@skip_name_resolve')" == 1 ]]; then
    "${sock[@]}" -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
      GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
  fi
}

wait_for_mariadb() {
  local deadline=$((SECONDS + WAIT_SECONDS)) fixed=0
  until mariadb_ok; do
    # 1698/1045 "Access denied"; 1130 "Host '127.0.0.1' is not allowed to
    # connect" when skip-name-resolve is on and root has only @localhost.
    if [[ "$MARIADB_ERR" == *"Access denied"* || "$MARIADB_ERR" == *"not allowed to connect"* ]]; then
      if ((fixed == 0)) && fix_root_tcp_login; then
        fixed=1
        continue
      fi
      die "MariaDB answers on $MYSQL_HOST:$MYSQL_PORT but refuses root with an empty password: $MARIADB_ERR"
    fi
    # Died after we started it? (give start-stop-daemon's fork a moment)
    if [[ -n "$MARIADB_STARTED_AT" ]] && ((SECONDS - MARIADB_STARTED_AT >= 5)) &&
      ! mariadbd_running && ! mariadb_ok; then
      [[ -s "$STATE_DIR/mariadbd.log" ]] && tail -n 20 "$STATE_DIR/mariadbd.log" >&2
      die "MariaDB exited after starting and can't be reached on $MYSQL_HOST:$MYSQL_PORT: $MARIADB_ERR (log: $STATE_DIR/mariadbd.log, /var/log/mysql/error.log)"
    fi
    if ((SECONDS >= deadline)); then
      die "MariaDB did not answer on $MYSQL_HOST:$MYSQL_PORT within ${WAIT_SECONDS}s: $MARIADB_ERR"
    fi
    sleep 1
  done
}

# --- Redis -------------------------------------------------------------------

start_redis() {
  # Something listens (e.g. "LOADING", "NOAUTH", slow): don't start another.
  if [[ "$REDIS_REPLY" != *"Connection refused"* && "$REDIS_REPLY" != *"not installed"* ]]; then
    log "Redis on $REDIS_HOST:$REDIS_PORT does not answer PONG yet (${REDIS_REPLY:-no reply}); waiting"
    return 0
  fi
  log "starting Redis (log: $STATE_DIR/redis.log)"
  redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" \
    --save "" --appendonly no --dir "$STATE_DIR" --logfile "$STATE_DIR/redis.log"
}

wait_for_redis() {
  local deadline=$((SECONDS + WAIT_SECONDS))
  until redis_ok; do
    if ((SECONDS >= deadline)); then
      [[ -s "$STATE_DIR/redis.log" ]] && tail -n 20 "$STATE_DIR/redis.log" >&2
      die "Redis did not answer PING on $REDIS_HOST:$REDIS_PORT within ${WAIT_SECONDS}s: ${REDIS_REPLY:-no reply}"
    fi
    sleep 1
  done
}

# --- main ----------------------------------------------------------------------

install_missing

mariadb_ok || start_mariadb
redis_ok || start_redis

wait_for_mariadb
wait_for_redis
log "MariaDB ($MYSQL_HOST:$MYSQL_PORT) and Redis ($REDIS_HOST:$REDIS_PORT) are up"
