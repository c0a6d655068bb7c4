#!/usr/bin/env bash
# Every test Kabinet has, in the order that fails fastest:
#   1. formatting and lints (cargo fmt, clippy -D warnings, web lint + typecheck)
#   2. Rust unit and integration tests (real PostgreSQL: a disposable local cluster)
#   3. the web build, then the real binary serving the demo ISPs on a private port, and against it
#      4. the browser flows in headless Chromium, on two ISPs' hosts and the operator's
#      5. Schemathesis (OpenAPI fuzzing; last, since it rewrites the demo ISPs' settings)
# Installs what is missing from Debian and npm first. Exit status: non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

step "dependencies"
deploy/debian/install-deps.sh --test
npm --prefix web ci --no-audit --no-fund --loglevel=error

step "format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
npm --prefix web run lint
npm --prefix web run typecheck

step "rust tests (unit + integration on PostgreSQL)"
# One build of everything (the binary included), so features unify once and nothing is built
# twice; `cargo test` then only runs.
cargo build --workspace --all-targets --locked
cargo test --workspace --locked

step "web build"
npm --prefix web run build

# The served app for the black-box suites: its own data dir and ports, so a developer's
# `kabinet serve` on 8080 is never touched.
# Ports derived from the checkout's path, so two checkouts on one machine never collide, and
# below the kernel's ephemeral range (32768+), so no outgoing connection can be holding them.
offset=$(( $(printf %s "$root" | cksum | cut -d' ' -f1) % 1000 ))
port=${KABINET_E2E_PORT:-$((18000 + offset))}
e2e_pg_port=${KABINET_E2E_PG_PORT:-$((27000 + offset))}
data_dir="$root/target/kabinet-e2e"
log="$root/target/kabinet-e2e.log"
rm -rf "$data_dir"
stripe_port=${KABINET_E2E_STRIPE_PORT:-$((19000 + offset))}
step "starting the fake Stripe on 127.0.0.1:$stripe_port (log: $root/target/fake-stripe-e2e.log)"
# Stripe's API cannot be reached from here: the demo ISPs' connected accounts live in the fake,
# which signs and delivers webhooks to the served app exactly as Stripe does.
target/debug/fake-stripe --listen "127.0.0.1:$stripe_port" \
  --secret-key sk_test_kabinet_platform --webhook-secret whsec_kabinet_test \
  --webhook-url "http://127.0.0.1:$port/webhooks/stripe" \
  --account "acct_1KabinetDemo=Демо Телеком" --account "acct_1KabinetNorthnet=NorthNet" \
  >"$root/target/fake-stripe-e2e.log" 2>&1 &
fake_stripe=$!
smtp_port=${KABINET_E2E_SMTP_PORT:-$((20000 + offset))}
mailbox_port=${KABINET_E2E_MAILBOX_PORT:-$((21000 + offset))}
step "starting the SMTP sink on 127.0.0.1:$smtp_port (messages: http://127.0.0.1:$mailbox_port/messages)"
# A real SMTP peer: the browser flows follow links from the letters the app sends (signup
# confirmation, password reset) as a person would.
node web/e2e/smtp-sink.mjs "$smtp_port" "$mailbox_port" >"$root/target/smtp-sink-e2e.log" 2>&1 &
smtp_sink=$!
dns_port=${KABINET_E2E_DNS_PORT:-$((22000 + offset))}
step "starting kabinet on 127.0.0.1:$port (log: $log)"
# The billing scheduler runs once at start (charging the month) and then hourly, so no charge
# lands in the middle of a browser flow.
env -u DATABASE_URL KABINET_DATA_DIR="$data_dir" KABINET_PG_PORT=$e2e_pg_port KABINET_BILLING_TICK_SECS=3600 \
  KABINET_STRIPE_SECRET_KEY=sk_test_kabinet_platform KABINET_STRIPE_WEBHOOK_SECRET=whsec_kabinet_test \
  KABINET_STRIPE_API_BASE="http://127.0.0.1:$stripe_port/" \
  KABINET_SMTP_URL="smtp://127.0.0.1:$smtp_port" KABINET_MAIL_FROM="kabinet@kabinet.example" \
  KABINET_DNS_RESOLVER="127.0.0.1:$dns_port" \
  KABINET_LOG_FORMAT=json target/debug/kabinet serve --listen "127.0.0.1:$port" >"$log" 2>&1 &
server=$!
stop_server() {
  if kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  kill -TERM "$fake_stripe" 2>/dev/null || true
  kill -TERM "$smtp_sink" 2>/dev/null || true
}
trap stop_server EXIT
for _ in $(seq 1 120); do
  if curl -fsS -H "Host: demo.localhost:$port" "http://127.0.0.1:$port/api/v1/site" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then echo "kabinet exited:"; tail -50 "$log"; exit 1; fi
  sleep 0.5
done
curl -fsS -H "Host: demo.localhost:$port" "http://127.0.0.1:$port/api/v1/site" >/dev/null

step "browser flow (headless Chromium)"
# The custom-domain flow answers the app's DNS questions itself, on $dns_port.
KABINET_URL_TEMPLATE="http://{slug}.localhost:$port" KABINET_E2E_MAILBOX="http://127.0.0.1:$mailbox_port" \
  KABINET_E2E_DNS_PORT=$dns_port npm --prefix web run test:e2e

# Schemathesis after the browser flows: it fuzzes every staff and operator setting (branding,
# roles, the staff two-factor rule, suspension), which would leave the demo ISPs in states no
# browser flow expects.
step "schemathesis"
tests/schemathesis/run.sh "$port"

step "billing invariants and payment reconciliation after the suites"
env -u DATABASE_URL KABINET_DATA_DIR="$data_dir" KABINET_PG_PORT=$e2e_pg_port KABINET_LOG_FORMAT=json \
  target/debug/kabinet billing verify
env -u DATABASE_URL KABINET_DATA_DIR="$data_dir" KABINET_PG_PORT=$e2e_pg_port KABINET_LOG_FORMAT=json \
  KABINET_STRIPE_SECRET_KEY=sk_test_kabinet_platform KABINET_STRIPE_WEBHOOK_SECRET=whsec_kabinet_test \
  KABINET_STRIPE_API_BASE="http://127.0.0.1:$stripe_port/" \
  target/debug/kabinet payments reconcile --hours 2

stop_server
trap - EXIT
# The integration tests' disposable cluster is left running between `cargo test` runs for speed;
# the full run stops it.
KABINET_DATA_DIR="$root/target/kabinet-test-pg" target/debug/kabinet db stop
KABINET_DATA_DIR="$root/target/kabinet-test-stats-pg" target/debug/kabinet db stop || true
if grep -q '"level":"ERROR"' "$log"; then
  echo "the server logged errors during the black-box suites:"; grep '"level":"ERROR"' "$log" | head -20
  exit 1
fi
step "all tests passed"
