#!/usr/bin/env bash
# Runs the HTTP server locally on the embedded default store: with no
# DATABASE_URL it keeps its data in SQLite under ./data/ (git-ignored).
# Arguments go to the server: scripts/dev.sh [server args]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo run -p server -- "$@"
