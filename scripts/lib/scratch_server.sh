# Sourced by the scripts that drive the real server over HTTP
# (schemathesis.sh, clients.sh).
#
#   start_scratch_server NAME BINARY
#
# Starts BINARY (a built `server`) on a free loopback port against a scratch
# MariaDB database et_NAME_<pid>, created here, and the local Redis under a
# key prefix of its own, then sets
#   base        the server's URL, http://127.0.0.1:<port>
#   work        a scratch directory for the caller's files (server.log is in it)
# When the script exits, the server is stopped, the database dropped, the
# prefix's keys deleted (no other key is touched) and the directory removed;
# on a failure the last lines of the server's log are printed first.
#
#   mint_token USER     a one-hour bearer token for USER, signed with the
#                       scratch server's secret
#
# The caller defines log and die, and has run scripts/services.sh.

readonly SCRATCH_MYSQL_HOST=127.0.0.1 SCRATCH_MYSQL_PORT=3306
readonly SCRATCH_REDIS_HOST=127.0.0.1 SCRATCH_REDIS_PORT=6379
# MySQL 8's default sql_mode: MariaDB as strict as production.
readonly SCRATCH_SQL_MODE="ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"

scratch_bin="" scratch_db="" scratch_prefix="" scratch_pid="" scratch_db_created=0 scratch_secret=""
base="" work=""

scratch_mysql() {
  timeout 30 mariadb --protocol=TCP -h"$SCRATCH_MYSQL_HOST" -P"$SCRATCH_MYSQL_PORT" -uroot --connect-timeout=5 "$@"
}

scratch_cleanup() {
  local rc=$?
  if [[ -n "$scratch_pid" ]] && kill -0 "$scratch_pid" 2>/dev/null; then
    kill -TERM "$scratch_pid" 2>/dev/null || true
    wait "$scratch_pid" 2>/dev/null || true
  fi
  if ((scratch_db_created)); then
    scratch_mysql -e "DROP DATABASE IF EXISTS \`$scratch_db\`" || log "could not drop database $scratch_db"
  fi
  if [[ -n "$scratch_prefix" ]]; then
    # Only this run's keys; the prefix has no glob characters.
    timeout 30 redis-cli -h "$SCRATCH_REDIS_HOST" -p "$SCRATCH_REDIS_PORT" --scan --pattern "${scratch_prefix}*" |
      while IFS= read -r key; do
        timeout 5 redis-cli -h "$SCRATCH_REDIS_HOST" -p "$SCRATCH_REDIS_PORT" DEL "$key" >/dev/null
      done || log "could not delete the Redis keys under $scratch_prefix"
  fi
  if ((rc != 0)) && [[ -s "$work/server.log" ]]; then
    log "last lines of the server log:"
    tail -n 30 "$work/server.log" >&2
  fi
  [[ -n "$work" ]] && rm -rf "$work"
  log "finished in ${SECONDS}s (exit $rc)"
  exit "$rc"
}

start_scratch_server() {
  local name=$1
  scratch_bin=$2
  [[ -x "$scratch_bin" ]] || die "no server binary at $scratch_bin (build it first: cargo build -p server)"
  work="$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")"
  scratch_db="et_${name}_$$"
  scratch_prefix="et_${name}_$$_$(od -An -N4 -tx4 /dev/urandom | tr -d ' '):"
  trap scratch_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  scratch_mysql -e "CREATE DATABASE \`$scratch_db\` CHARACTER SET utf8mb4"
  scratch_db_created=1
  scratch_secret="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"

  env -i PATH="$PATH" HOME="$HOME" \
    DATABASE_URL="mysql://root@$SCRATCH_MYSQL_HOST:$SCRATCH_MYSQL_PORT/$scratch_db" \
    DATABASE_SQL_MODE="$SCRATCH_SQL_MODE" \
    REDIS_URL="redis://$SCRATCH_REDIS_HOST:$SCRATCH_REDIS_PORT" \
    CACHE_KEY_PREFIX="$scratch_prefix" \
    JWT_SECRET="$scratch_secret" \
    HOST=127.0.0.1 PORT=0 LOG_FORMAT=text RUST_LOG="${RUST_LOG:-warn}" \
    "$scratch_bin" >"$work/server.log" 2>&1 &
  scratch_pid=$!

  local _
  for _ in $(seq 1 600); do
    base="$(sed -n 's#^listening on \(http://[0-9.:]*\)$#\1#p' "$work/server.log")"
    [[ -n "$base" ]] && break
    kill -0 "$scratch_pid" 2>/dev/null || die "the server exited while starting"
    sleep 0.1
  done
  [[ -n "$base" ]] || die "the server did not start within 60s"
  log "server on $base (database $scratch_db, Redis prefix $scratch_prefix)"
}

mint_token() {
  env -i PATH="$PATH" JWT_SECRET="$scratch_secret" "$scratch_bin" token --user "$1" --hours 1
}
