#!/usr/bin/env bash
# Installs what Kabinet needs on Debian, skipping whatever is already there:
#   - PostgreSQL server binaries (the embedded default starts a project-local cluster with them)
#   - Node.js >= 20 and npm (to build the web app)
#   - with --test: Chromium (browser tests), Python's venv (Schemathesis) and poppler-utils
#     (pdftotext reads generated PDFs back), FreeRADIUS 3 with rlm_rest and radclient
# Safe to run again; it only calls apt-get when something is missing.
set -euo pipefail

want_test=false
[[ "${1:-}" == "--test" ]] && want_test=true

packages=()
have() { command -v "$1" >/dev/null 2>&1; }

if ! have cc; then packages+=(build-essential pkg-config); fi
if ! have initdb && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  packages+=(postgresql)
fi
node_major=0
if have node; then node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0); fi
if (( node_major < 20 )); then packages+=(nodejs npm); fi
if $want_test; then
  if ! have curl; then packages+=(curl ca-certificates); fi
  if [[ ! -x /usr/bin/chromium ]]; then packages+=(chromium fonts-dejavu-core); fi
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then packages+=(python3-venv); fi
  # pdftotext: the tests read the statement PDFs back as a real reader would.
  if ! have pdftotext; then packages+=(poppler-utils); fi
  # The RADIUS tests start a real FreeRADIUS 3 (with its rest module) from deploy/freeradius/.
  if ! have freeradius || [[ ! -e /usr/lib/freeradius/rlm_rest.so ]] || ! have radclient; then
    packages+=(freeradius freeradius-rest freeradius-utils)
  fi
fi

if (( ${#packages[@]} > 0 )); then
  echo "installing from Debian: ${packages[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"
  # Debian starts a system PostgreSQL on install; Kabinet runs its own cluster and needs none.
fi

if have node; then
  node_major=$(node -p 'process.versions.node.split(".")[0]')
  if (( node_major < 20 )); then
    echo "Node.js $(node --version) is too old for the web build (needs 20+; Debian 13 ships 20)." >&2
    exit 1
  fi
fi
