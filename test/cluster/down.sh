#!/usr/bin/env bash
# Stops the cluster whose run dir is given (only the PIDs recorded in RUN_DIR/pids). --rm also deletes RUN_DIR.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/../../node_modules/.bin/tsx" "$here/cluster.ts" down "${1:?usage: down.sh RUN_DIR [--rm]}" "${@:2}"
