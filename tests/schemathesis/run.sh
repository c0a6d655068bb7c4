#!/usr/bin/env bash
# Schemathesis against the OpenAPI spec served by a running Kabinet.
#
#   tests/schemathesis/run.sh PORT
#
# PORT: a `kabinet serve --listen 127.0.0.1:PORT` already running (with the demo tenants).
# Talks only to 127.0.0.1:PORT; the site is chosen by the Host header. Exits non-zero on any
# failure; the last line is `schemathesis: N passed, M failed` (one test per run and operation).
#
# Environment (all optional):
#   ST_MAX_EXAMPLES     test cases per operation and phase (default 30)
#   ST_SEED             Hypothesis seed (default 20261125)
#   ST_CHECKS           schemathesis --checks (default all)
#   ST_EXCLUDE_CHECKS   schemathesis --exclude-checks (default positive_data_acceptance: `after`
#                       is an opaque cursor, so a schema-valid string is rightly refused with 400)
#
# Runs, in this order (see README.md):
#   subscriber  demo site, signed in as subscriber 100001:      Portal ops, /session, /site
#   staff       demo site, signed in as owner@demo.example:     Console ops, /session, /site
#   operator    admin site, signed in as operator@kabinet.example: Platform ops, /session, /site
#   sign-in-demo, sign-in-admin   no session: /auth/* (logins with wrong passwords, logouts
#               without a session), from a throwaway loopback address so the login throttle's
#               per-address bucket of 127.0.0.1 is never touched.
# The three sessions are opened before any fuzzing and never handed to /auth/*, so no run can
# sign them out; each is checked again after its run.
# Note: the runs create tickets and messages in the demo tenant of the server's database.
set -euo pipefail

PORT=${1:?usage: tests/schemathesis/run.sh PORT   (a running kabinet serve on 127.0.0.1:PORT)}
[[ $PORT =~ ^[0-9]+$ ]] || { echo "run.sh: PORT must be a number, got '$PORT'" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=$ROOT/.kabinet/venv-schemathesis
REPORTS=$ROOT/.kabinet/schemathesis-report
MAX_EXAMPLES=${ST_MAX_EXAMPLES:-30}
SEED=${ST_SEED:-20261125}
CHECKS=${ST_CHECKS:-all}
EXCLUDE_CHECKS=${ST_EXCLUDE_CHECKS-positive_data_acceptance}
DEMO=demo.localhost:$PORT
ADMIN=admin.localhost:$PORT
started=$SECONDS

# --- The pinned tool, in a project-local venv (reinstalled when requirements.txt changes). ---
want=$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)
if [[ ! -x $VENV/bin/schemathesis || "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]]; then
    echo "schemathesis: installing $(grep '^schemathesis==' "$HERE/requirements.txt") into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
    echo "$want" >"$VENV/.requirements.sha256"
fi
PY=$VENV/bin/python
ST=$VENV/bin/schemathesis
echo "schemathesis: $("$ST" --version), seed $SEED, $MAX_EXAMPLES examples per operation, port $PORT"

# From here on: loopback only, never through a proxy.
unset http_proxy https_proxy all_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY
export NO_PROXY='*' no_proxy='*'
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ beside hooks.py

helper() { "$PY" "$HERE/kabinet_st.py" "$@"; }

# Failing before any run still ends on the closing line.
die() { echo "run.sh: $*" >&2; echo "schemathesis: 0 passed, 1 failed"; exit 1; }

helper wait "$PORT" "$DEMO" 60 || die "no server to test"

# --- Sign in first, before anything can touch the login throttle. ---
SUB=$(helper login "$PORT" "$DEMO" /auth/subscriber/login '{"login":"100001","password":"demo-password"}') ||
    die "could not sign in as the demo subscriber"
STAFF=$(helper login "$PORT" "$DEMO" /auth/staff/login '{"email":"owner@demo.example","password":"demo-password"}') ||
    die "could not sign in as demo staff"
OP=$(helper login "$PORT" "$ADMIN" /auth/operator/login '{"email":"operator@kabinet.example","password":"demo-password"}') ||
    die "could not sign in as the operator"
read -r SUB_TOKEN SUB_CSRF <<<"$SUB"
read -r STAFF_TOKEN STAFF_CSRF <<<"$STAFF"
read -r OP_TOKEN OP_CSRF <<<"$OP"

sign_out_all() {
    helper logout "$PORT" "$DEMO" "$SUB_TOKEN" "$SUB_CSRF" 2>/dev/null || true
    helper logout "$PORT" "$DEMO" "$STAFF_TOKEN" "$STAFF_CSRF" 2>/dev/null || true
    helper logout "$PORT" "$ADMIN" "$OP_TOKEN" "$OP_CSRF" 2>/dev/null || true
}
trap sign_out_all EXIT

rm -rf "$REPORTS"
mkdir -p "$REPORTS"

# st_run NAME HOST TOKEN CSRF [schemathesis args...]; TOKEN empty = no session.
st_run() {
    local name=$1 host=$2 token=$3 csrf=$4
    shift 4
    local dir=$REPORTS/$name rc=0
    local args=(-H "Host: $host")
    if [[ -n $token ]]; then
        # The cookie is ours: don't let schemathesis generate its own kabinet_session.
        args+=(-H "Cookie: kabinet_session=$token" -H "X-CSRF-Token: $csrf"
            --generation-with-security-parameters false)
    fi
    args+=(--checks "$CHECKS")
    [[ -n $EXCLUDE_CHECKS ]] && args+=(--exclude-checks "$EXCLUDE_CHECKS")
    args+=(--max-examples "$MAX_EXAMPLES" --seed "$SEED" --workers 1
        --generation-database none --request-timeout 30 --no-color
        --report junit --report-dir "$dir")
    mkdir -p "$dir"
    echo
    echo "=================== schemathesis: $name run (Host: $host) ==================="
    (cd "$dir" && "$ST" run "http://127.0.0.1:$PORT/api/openapi.json" "${args[@]}" "$@") || rc=$?
    echo "$rc" >"$dir/EXIT"
    if [[ -n $token ]] && ! helper check "$PORT" "$host" "$token"; then
        echo "run.sh: the $name session no longer works after its run" >&2
        touch "$dir/SESSION_LOST"
    fi
}

st_run subscriber "$DEMO" "$SUB_TOKEN" "$SUB_CSRF" \
    --include-tag Portal --include-path /session --include-path /site
st_run staff "$DEMO" "$STAFF_TOKEN" "$STAFF_CSRF" \
    --include-tag Console --include-path /session --include-path /site
st_run operator "$ADMIN" "$OP_TOKEN" "$OP_CSRF" \
    --include-tag Platform --include-path /session --include-path /site
# The operator run may have suspended a demo ISP (the stateful phase follows the tenant list's
# slugs): resume both, so the browser flows that follow find their portals open.
for slug in demo northnet; do
    curl -fsS -o /dev/null -X POST -H "Host: $ADMIN" -H "Cookie: kabinet_session=$OP_TOKEN" \
        -H "X-CSRF-Token: $OP_CSRF" -H "Content-Type: application/json" -d '{}' \
        "http://127.0.0.1:$PORT/api/v1/platform/tenants/$slug/resume" ||
        echo "run.sh: could not resume $slug after the operator run" >&2
done

# Sign-in fuzzing last, each run from its own throwaway 127.x.y.z (hooks.py binds it).
octet3=$((($$ >> 8) % 256))
octet4=$(($$ % 254 + 1))
SCHEMATHESIS_HOOKS=$HERE/hooks.py KABINET_ST_SOURCE_ADDR=127.100.$octet3.$octet4 \
    st_run sign-in-demo "$DEMO" "" "" --include-path-regex '^/auth/'
SCHEMATHESIS_HOOKS=$HERE/hooks.py KABINET_ST_SOURCE_ADDR=127.101.$octet3.$octet4 \
    st_run sign-in-admin "$ADMIN" "" "" --include-path-regex '^/auth/'

echo
echo "schemathesis: reports in $REPORTS, took $((SECONDS - started))s"
status=0
helper summary "$REPORTS" subscriber staff operator sign-in-demo sign-in-admin || status=$?
exit "$status"
