#!/usr/bin/env bash
# Builds (or reuses) the control-plane binaries and starts a test cluster that keeps running after this
# script exits. Prints the run dir on the last line; `source <run dir>/env` sets KUBECONFIG.
# Usage: test/cluster/up.sh [--nodes N] [--run-dir DIR]      Stop: test/cluster/down.sh RUN_DIR [--rm]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="$("$here/build.sh" | tail -1)"
exec "$here/../../node_modules/.bin/tsx" "$here/cluster.ts" up "$bin" "$@"
