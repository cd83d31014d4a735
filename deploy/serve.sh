#!/usr/bin/env bash
# Production: gunicorn on loopback behind Caddy (HTTPS) and the delivery worker, started
# and stopped together.
# `make serve` installs and migrates first; settings come from instance/config.py and
# WUYE_* variables through `flask serve-env` (webapp/https.py), docs/DEPLOY.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export FLASK_APP=webapp
settings=$("$BIN/flask" serve-env)  # a bad setting stops here, with flask's message
eval "$settings"
# Caddy keeps everything it writes (CA, certificates, state) in the instance folder.
mkdir -p "$SERVE_CADDY_DATA"
export XDG_DATA_HOME="$SERVE_CADDY_DATA/data" XDG_CONFIG_HOME="$SERVE_CADDY_DATA/config"

# The one place the app server's command line is built (a replicator may wrap it).
GUNICORN=("$BIN/gunicorn" --workers "$SERVE_GUNICORN_WORKERS"
          --threads "$SERVE_GUNICORN_THREADS" --bind "$SERVE_UPSTREAM"
          --access-logfile - 'webapp:create_app()')
# With a replica configured, Litestream runs gunicorn as its child: the app never serves
# without replication, and what is left of the WAL is shipped when gunicorn stops.
if [ -n "$WUYE_REPLICA_URL" ]; then
	exec_line=$(printf "'%s' " "${GUNICORN[@]}")  # -exec splits like a shell
	GUNICORN=("$BIN/litestream" replicate -config deploy/litestream.yml -exec "$exec_line")
fi
CADDY=(caddy run --config deploy/Caddyfile --adapter caddyfile)
# The delivery worker (webapp/worker.py): push and robot messages, the deadline scan.
WORKER=("$BIN/flask" worker)

children=()
stop() {
	trap - INT TERM EXIT
	kill -TERM "${children[@]}" 2>/dev/null || true
	wait || true
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

"${GUNICORN[@]}" &
children+=($!)
"${CADDY[@]}" &
children+=($!)
"${WORKER[@]}" &
children+=($!)
# The replica's kind only: its address may carry credentials.
replica=none
[ -z "$WUYE_REPLICA_URL" ] || replica="${WUYE_REPLICA_URL%%:*}"
echo "serving $SERVE_PUBLIC_URL (Caddy: $SERVE_TLS certificates; app on $SERVE_UPSTREAM;" \
	"replica: $replica)"
# Whichever stops first (a crash, a port in use) takes the others down with it.
wait -n
