#!/usr/bin/env bash
# Runs Kabinet locally with the demo ISPs: installs what is missing, builds the web app and the
# binary, and serves on http://demo.localhost:8080 (PostgreSQL: a project-local cluster under
# .kabinet/, started and stopped with the server, unless DATABASE_URL is set).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/debian/install-deps.sh
npm --prefix web ci --no-audit --no-fund
npm --prefix web run build
cargo build --release -p kabinet -p kabinet-fake-stripe

# Card payments in the demo go to a local fake of Stripe (Stripe itself is not reachable from a
# laptop demo): it holds the demo ISPs' connected accounts and sends signed webhooks back.
# Set KABINET_STRIPE_SECRET_KEY yourself to use real Stripe instead.
if [ -z "${KABINET_STRIPE_SECRET_KEY:-}" ]; then
  listen=${KABINET_LISTEN:-127.0.0.1:8080}
  stripe_listen=${KABINET_FAKE_STRIPE_LISTEN:-127.0.0.1:12111}
  mkdir -p .kabinet
  target/release/fake-stripe --listen "$stripe_listen" \
    --secret-key sk_test_kabinet_platform --webhook-secret whsec_kabinet_test \
    --webhook-url "http://$listen/webhooks/stripe" \
    --account "acct_1KabinetDemo=Демо Телеком" --account "acct_1KabinetNorthnet=NorthNet" \
    2>.kabinet/fake-stripe.log &
  fake_stripe=$!
  trap 'kill $fake_stripe 2>/dev/null || true' EXIT
  export KABINET_STRIPE_SECRET_KEY=sk_test_kabinet_platform KABINET_STRIPE_WEBHOOK_SECRET=whsec_kabinet_test
  export KABINET_STRIPE_API_BASE="http://$stripe_listen/"
fi
target/release/kabinet serve "$@"
