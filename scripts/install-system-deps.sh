#!/usr/bin/env bash
# Installs the Debian packages that the real-part tests start (redis-server, chromium) or
# run (patch, which applies `quality lint --diff`), when they are missing. Needs root or passwordless sudo; without either it says what to run.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
command -v patch >/dev/null 2>&1 || need+=(patch)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; else
  echo "missing ${need[*]}: install them with: apt-get install -y ${need[*]}" >&2; exit 1
fi
echo "installing ${need[*]} from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
