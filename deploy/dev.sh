#!/usr/bin/env bash
# Runs Kabinet locally with the demo ISPs: installs what is missing, builds the web app and the
# binary, and serves on http://demo.localhost:8080 (PostgreSQL: a project-local cluster under
# .kabinet/, started and stopped with the server, unless DATABASE_URL is set).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/debian/install-deps.sh
npm --prefix web ci --no-audit --no-fund
npm --prefix web run build
exec cargo run --release -p kabinet -- serve "$@"
