// The walking skeleton, end to end in a real browser, for two ISPs and the operator on one
// deployment: a subscriber opens a ticket, that ISP's staff answers it, the subscriber reads the
// answer, a read-only colleague may look but not answer, the other ISP never sees it, and the
// operator lists both ISPs. Billing: staff records a payment for a blocked subscriber, which
// lifts the block, and the subscriber sees it among their payments. Account features: a tariff
// change from next month, a voluntary suspension and its early end, a promised payment. Card
// payments: a top-up through Stripe Checkout (a fake Stripe in tests), the saved card, auto-pay.
// Account security: two-factor sign-in (TOTP turned on in the profile, then the code and a
// recovery code at sign-in, phone included) and the forgotten-password pages.
// Screenshots of every screen at 1280x800 and 390x844 go to e2e/screenshots/ (git-ignored; keep
// them as CI artifacts).
//
// Run through `npm run test:e2e` (e2e/run.mjs: summary line, exit code, watchdog).
//
// Assumes only what `tenants/*.toml` seeds (accounts, tariffs), never which tickets exist: every
// run makes its own uniquely named tickets, so it works on a fresh database and on a used one,
// and runs may repeat against the same deployment.
//
// Env: KABINET_URL_TEMPLATE (default http://{slug}.localhost:8080; the operator is {slug}=admin),
//      CHROMIUM_PATH (default /usr/bin/chromium).
// Chromium resolves *.localhost to loopback by itself, so no /etc/hosts entries are needed.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, describe, test } from "node:test";
import {
  apiGet, closePage, DESKTOP, findInQueue, flow, moneyPattern, newPage, pageDate, PASSWORD, PHONE,
  NAVIGATION_TIMEOUT, runId, screenshots, SCREENSHOTS, signIn, STEP_TIMEOUT, urlFor, useBrowser,
} from "./support.mjs";

useBrowser();

const ISPS = [
  { slug: "demo", subscriber: "100001", staff: "owner@demo.example", viewer: "viewer@demo.example" },
  { slug: "northnet", subscriber: "200001", staff: "owner@northnet.example" },
];
const PLATFORM = { slug: "admin", operator: "operator@kabinet.example" };
// Seeded blocked with a debt of 120.00; a payment lifts the block. On a used database the balance
// may be anything (monthly charges, promised payments), so the payment covers what is due.
const BILLING = {
  slug: "demo",
  account: "100002",
  staff: "owner@demo.example",
  viewer: "viewer@demo.example",
  agent: "agent@demo.example",
  // Above 100002's tariff (home-500: 890.00), in minor units.
  monthlyChargeAtMost: 100_000,
};

/** Per ISP: what the steps hand to each other. */
const state = {};

for (const isp of ISPS) {
  describe(`${isp.slug}: subscriber ticket answered by staff`, { concurrency: false }, () => {
    const s = (state[isp.slug] = {
      subject: `E2E ${isp.slug} ${runId}`,
      reply: `Staff reply for ${isp.slug} ${runId}`,
    });
    const f = flow(isp.slug);

    after(async () => {
      await closePage(s.subscriber);
      await closePage(s.staff);
    });

    f.step("subscriber sign-in page shows the ISP and refuses a wrong password", async () => {
      await screenshots(`${isp.slug}-signin`, urlFor(isp.slug, "/"), undefined, (p) =>
        p.getByTestId("login-form").waitFor(),
      );
      const page = (s.subscriber = await newPage(DESKTOP));
      f.pages.push(page);
      // An account that does not exist, unique per run, so no throttling bucket ever fills up.
      await signIn(page, urlFor(isp.slug, "/"), `nobody-${runId}`, "wrong-password");
      const notice = page.getByTestId("error-notice");
      await notice.waitFor();
      assert.equal(await notice.getAttribute("data-code"), "invalid_credentials");
      await page.screenshot({ path: `${SCREENSHOTS}${isp.slug}-signin-error-desktop.png` });
    });

    f.step("subscriber signs in and sees balance, tariff and the ISP's name", async () => {
      const page = s.subscriber;
      await signIn(page, urlFor(isp.slug, "/"), isp.subscriber);

      const balance = page.getByTestId("dashboard-balance");
      await balance.waitFor();
      assert.match(await balance.innerText(), /\d/, "balance shows an amount");
      assert.notEqual((await page.getByTestId("dashboard-tariff").innerText()).trim(), "", "tariff is shown");

      const site = await page.evaluate(() => fetch("/api/v1/site").then((r) => r.json()));
      assert.equal(site.kind, "tenant");
      assert.equal(site.branding.slug, isp.slug);
      assert.equal((await page.getByTestId("brand-name").innerText()).trim(), site.branding.name);
      s.session = await page.context().storageState();
    });

    f.step("subscriber opens a ticket and finds it in the list", async () => {
      const page = s.subscriber;
      await page.getByTestId("dashboard-new-ticket").click();
      await page.getByTestId("new-ticket-category").selectOption("connectivity");
      await page.getByTestId("new-ticket-subject").fill(s.subject);
      await page.getByTestId("new-ticket-description").fill(`Created by the browser test, run ${runId}.`);
      await page.getByTestId("new-ticket-submit").click();

      await page.getByTestId("ticket-subject").filter({ hasText: s.subject }).waitFor();
      s.ticketUrl = page.url();
      s.ticketId = await page.getByTestId("ticket").getAttribute("data-ticket-id");
      assert.ok(s.ticketId, "ticket page names the ticket id");

      await page.getByTestId("nav-tickets").click();
      await page.getByTestId("ticket-row").filter({ hasText: s.subject }).waitFor();
    });

    f.step("staff finds the ticket in the console queue and replies", async () => {
      const page = (s.staff = await newPage(DESKTOP));
      f.pages.push(page);
      await signIn(page, urlFor(isp.slug, "/console"), isp.staff);

      const row = await findInQueue(page, s.subject);
      assert.ok(row, `ticket "${s.subject}" is in ${isp.slug}'s queue`);
      await row.getByTestId("console-ticket-link").click();

      await page.getByTestId("ticket-subject").filter({ hasText: s.subject }).waitFor();
      assert.notEqual((await page.getByTestId("ticket-subscriber-name").innerText()).trim(), "");
      assert.equal(
        await page.getByTestId("ticket-subscriber-link").getAttribute("href"),
        `/console/subscribers/${isp.subscriber}`,
        "the subscriber links to their billing page",
      );
      await page.getByTestId("reply-body").fill(s.reply);
      await page.getByTestId("reply-submit").click();
      await page.getByTestId("message-body").filter({ hasText: s.reply }).waitFor();
      s.staffSession = await page.context().storageState();
    });

    f.step("subscriber reloads the ticket and reads the reply", async () => {
      const page = s.subscriber;
      await page.goto(s.ticketUrl);
      await page.getByTestId("message-body").filter({ hasText: s.reply }).waitFor();
      const staffMessage = page.locator('[data-testid="ticket-message"][data-author-kind="staff"]');
      assert.ok((await staffMessage.count()) >= 1, "the reply is shown as the staff's");
    });

    f.step("screens at desktop and phone size", async () => {
      const reply = (p) => p.getByTestId("message-body").filter({ hasText: s.reply }).waitFor();
      await screenshots(`${isp.slug}-dashboard`, urlFor(isp.slug, "/"), s.session, (p) =>
        p.getByTestId("dashboard-balance").waitFor(),
      );
      await screenshots(`${isp.slug}-tickets`, urlFor(isp.slug, "/tickets"), s.session, (p) =>
        p.getByTestId("ticket-row").filter({ hasText: s.subject }).waitFor(),
      );
      await screenshots(`${isp.slug}-payments`, urlFor(isp.slug, "/payments"), s.session, (p) =>
        p.getByTestId("ledger").or(p.getByTestId("ledger-empty")).first().waitFor(),
      );
      await screenshots(`${isp.slug}-new-ticket`, urlFor(isp.slug, "/tickets/new"), s.session, (p) =>
        p.getByTestId("new-ticket-subject").waitFor(),
      );
      await screenshots(`${isp.slug}-ticket`, s.ticketUrl, s.session, reply);
      await screenshots(`${isp.slug}-console-queue`, urlFor(isp.slug, "/console/tickets"), s.staffSession, (p) =>
        p.getByTestId("console-ticket-row").first().waitFor(),
      );
      await screenshots(`${isp.slug}-console-ticket`, urlFor(isp.slug, `/console/tickets/${s.ticketId}`), s.staffSession, reply);
    });

    if (isp.viewer) {
      f.step("a read-only colleague reads the ticket but cannot reply", async () => {
        const page = await newPage(DESKTOP);
        f.pages.push(page);
        try {
          await signIn(page, urlFor(isp.slug, `/console/tickets/${s.ticketId}`), isp.viewer);
          await page.getByTestId("message-body").filter({ hasText: s.reply }).waitFor();
          await page.getByTestId("reply-forbidden").waitFor();
          assert.equal(await page.getByTestId("reply-form").count(), 0, "no reply box for a read-only role");

          const status = await page.evaluate(async (id) => {
            const session = await fetch("/api/v1/session").then((r) => r.json());
            const response = await fetch(`/api/v1/console/tickets/${id}/replies`, {
              method: "POST",
              headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrf_token },
              body: JSON.stringify({ body: "must not be accepted" }),
            });
            return response.status;
          }, s.ticketId);
          assert.equal(status, 403, "the API refuses the reply too");
          await page.screenshot({ path: `${SCREENSHOTS}${isp.slug}-console-ticket-readonly-desktop.png`, fullPage: true });
        } finally {
          await closePage(page);
        }
      });
    }
  });
}

describe(`${BILLING.slug}: staff records a payment that lifts a debt block`, { concurrency: false }, () => {
  const b = { reference: `E2E-${runId}` };
  const f = flow("billing");
  const rowOf = (page) => page.locator(`[data-testid="ledger-row"][data-reference="${b.reference}"]`);

  after(async () => {
    await closePage(b.staff);
    await closePage(b.subscriber);
  });

  f.step("staff finds the subscriber by account number and records a cash payment", async () => {
    const page = (b.staff = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(BILLING.slug, "/console"), BILLING.staff);
    await page.getByTestId("find-subscriber-input").fill(BILLING.account);
    await page.getByTestId("find-subscriber-submit").click();
    await page.waitForURL(`**/console/subscribers/${BILLING.account}`);
    await page.getByTestId("subscriber-account").filter({ hasText: BILLING.account }).waitFor();
    await page.getByTestId("ledger").or(page.getByTestId("ledger-empty")).first().waitFor();
    assert.notEqual((await page.getByTestId("subscriber-name").innerText()).trim(), "", "the subscriber is named");
    assert.match(await page.getByTestId("subscriber-balance").innerText(), /\d/, "the balance is shown");

    // Enough to lift the block and keep it lifted whatever earlier runs left: the debt, a promised
    // payment this payment repays first, and, for a blocked account, the month's charge that the
    // billing round (every minute in `serve`) makes as soon as it is active again.
    const summary = await apiGet(page, `/console/subscribers/${BILLING.account}/ledger`);
    const promised = summary.items
      .filter((m) => m.kind === "promised_credit" || m.kind === "promised_repayment")
      .reduce((sum, m) => sum + m.amount.minor, 0);
    const monthCharge = summary.status === "blocked" ? BILLING.monthlyChargeAtMost : 0;
    const needed = -summary.credit_limit.minor - summary.balance.minor + promised + monthCharge;
    b.amountMinor = Math.max(50_000, Math.ceil(needed / 10_000) * 10_000);
    b.amountShown = new RegExp(`^\\+${moneyPattern(b.amountMinor)}\\s*₽$`);

    // A typo is caught in the form, before anything is sent.
    await page.getByTestId("payment-amount").fill("500,505");
    await page.getByTestId("payment-reference").fill(b.reference);
    await page.getByTestId("payment-submit").click();
    await page.getByTestId("payment-amount-error").waitFor();
    assert.equal(await page.getByTestId("payment-result").count(), 0, "nothing was recorded");

    await page.getByTestId("payment-amount").fill(String(b.amountMinor / 100));
    await page.getByTestId("payment-method").selectOption("cash");
    await page.getByTestId("payment-submit").click();
    const result = page.locator('[data-testid="payment-result"][data-created="true"]');
    await result.waitFor();
    assert.equal(await page.getByTestId("payment-result-status").getAttribute("data-status"), "active");
    await rowOf(page).waitFor();
    assert.match(await rowOf(page).getByTestId("ledger-amount").innerText(), b.amountShown);
    // The header follows the ledger: the account is active now.
    await page.locator('[data-testid="subscriber-summary"][data-status="active"]').waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}${BILLING.slug}-console-payment-recorded-desktop.png`, fullPage: true });

    // The same receipt again (a double click, a retry) changes nothing, and says so.
    await page.getByTestId("payment-amount").fill(String(b.amountMinor / 100));
    await page.getByTestId("payment-reference").fill(b.reference);
    await page.getByTestId("payment-submit").click();
    await page.locator('[data-testid="payment-result"][data-created="false"]').waitFor();
    await page.getByTestId("ledger").waitFor();
    assert.equal(await rowOf(page).count(), 1, "no second payment for the same reference");
    b.staffSession = await page.context().storageState();
  });

  f.step("the subscriber sees the payment and an active account", async () => {
    const page = (b.subscriber = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(BILLING.slug, "/"), BILLING.account);
    await page.getByTestId("dashboard-balance").waitFor();
    assert.equal(await page.getByTestId("dashboard-account").getAttribute("data-status"), "active");
    await page.getByTestId("dashboard-payments").click();
    await page.waitForURL("**/payments");
    await rowOf(page).waitFor();
    assert.match(await rowOf(page).getByTestId("ledger-amount").innerText(), b.amountShown);
    assert.equal(await rowOf(page).getAttribute("data-kind"), "payment");
    b.subscriberSession = await page.context().storageState();
  });

  f.step("billing screens at desktop and phone size", async () => {
    const row = (p) => rowOf(p).waitFor();
    await screenshots(`${BILLING.slug}-payments-paid`, urlFor(BILLING.slug, "/payments"), b.subscriberSession, row);
    await screenshots(
      `${BILLING.slug}-console-subscriber`,
      urlFor(BILLING.slug, `/console/subscribers/${BILLING.account}`),
      b.staffSession,
      row,
    );
  });

  f.step("staff credits a goodwill correction, then reverses it in full", async () => {
    const page = b.staff;
    const reference = `COR-${runId}`;
    const corrected = page.locator(`[data-testid="ledger-row"][data-reference="${reference}"]`);
    const before = (await apiGet(page, `/console/subscribers/${BILLING.account}/ledger`)).balance.minor;

    await page.getByTestId("correction-credit").check();
    await page.getByTestId("correction-amount").fill("100");
    await page.getByTestId("correction-reason").fill("Компенсация за перерыв связи");
    await page.getByTestId("correction-reference").fill(reference);
    await page.getByTestId("correction-submit").click();
    await page.locator('[data-testid="correction-result"][data-created="true"]').waitFor();
    await corrected.waitFor();
    assert.equal(await corrected.getAttribute("data-kind"), "correction");
    assert.equal((await apiGet(page, `/console/subscribers/${BILLING.account}/ledger`)).balance.minor, before + 10_000);

    await corrected.getByTestId("movement-reverse").click();
    await page.getByTestId("reverse-reason").fill("Начислено по ошибке");
    await page.getByTestId("reverse-confirm").click();
    await corrected.getByTestId("movement-reversed").waitFor();
    await page.locator('[data-testid="ledger-row"][data-kind="reversal"]').first().waitFor();
    const after = await apiGet(page, `/console/subscribers/${BILLING.account}/ledger`);
    assert.equal(after.balance.minor, before, "the reversal took exactly the correction back");
    assert.equal(after.items.filter((m) => m.reference === reference).length, 1, "one correction, reversed once");
  });

  f.step("a read-only colleague sees the ledger without a payment form; an agent has no access", async () => {
    const url = urlFor(BILLING.slug, `/console/subscribers/${BILLING.account}`);
    const post = (page) =>
      page.evaluate(async (account) => {
        const session = await fetch("/api/v1/session").then((r) => r.json());
        const response = await fetch(`/api/v1/console/subscribers/${account}/payments`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrf_token },
          body: JSON.stringify({ amount_minor: 100, method: "cash", reference: "must not be accepted" }),
        });
        return response.status;
      }, BILLING.account);

    const viewer = await newPage(DESKTOP);
    f.pages.push(viewer);
    try {
      await signIn(viewer, url, BILLING.viewer);
      await rowOf(viewer).waitFor();
      await viewer.getByTestId("billing-read-only").waitFor();
      assert.equal(await viewer.getByTestId("payment-form").count(), 0, "no payment form for a read-only role");
      assert.equal(await post(viewer), 403, "the API refuses the read-only role's payment too");
    } finally {
      await closePage(viewer);
    }

    const agent = await newPage(DESKTOP);
    f.pages.push(agent);
    try {
      await signIn(agent, url, BILLING.agent);
      await agent.getByTestId("billing-forbidden").waitFor();
      assert.equal(await agent.getByTestId("ledger").count(), 0);
      assert.equal(await agent.getByTestId("find-subscriber").count(), 0, "no search box without billing access");
      const status = await agent.evaluate(
        (account) => fetch(`/api/v1/console/subscribers/${account}/ledger`).then((r) => r.status),
        BILLING.account,
      );
      assert.equal(status, 403, "the API refuses the agent's ledger read");
      await agent.screenshot({ path: `${SCREENSHOTS}${BILLING.slug}-console-subscriber-forbidden-desktop.png` });
    } finally {
      await closePage(agent);
    }
  });
});

// Account features, after the flows above (they change tariffs, balances and statuses those flows
// do not look at). Every step accepts the state an earlier run on the same database left behind.
const NORTHNET_ACCOUNT = {
  slug: "northnet",
  subscriber: "200001",
  staff: "owner@northnet.example",
  // Seeded on fiber-1g; the switch is to the other one (next_period: it stays pending).
  tariffs: ["fiber-1g", "fiber-300"],
  suspensionDays: 14,
};
const PROMISE = { slug: "demo", subscriber: "100002", amount: "100" };

describe(`${NORTHNET_ACCOUNT.slug}: tariff change from next month, voluntary suspension`, { concurrency: false }, () => {
  const n = {};
  const f = flow("northnet-account");
  const offer = (page, code) => page.locator(`[data-testid="tariff-offer"][data-code="${code}"]`);

  after(async () => {
    await closePage(n.subscriber);
  });

  f.step("subscriber switches tariff and sees it pending from the 1st of next month", async () => {
    const page = (n.subscriber = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(NORTHNET_ACCOUNT.slug, "/"), NORTHNET_ACCOUNT.subscriber);
    await page.getByTestId("dashboard-change-tariff").click();
    await page.waitForURL("**/tariff");
    await page.getByTestId("tariff-page").waitFor();
    assert.equal(await page.getByTestId("tariff-page").getAttribute("data-rule"), "next_period");
    assert.notEqual((await page.getByTestId("tariff-rule").innerText()).trim(), "", "the ISP's rule is explained");

    const before = await apiGet(page, "/me/tariffs");
    const target = NORTHNET_ACCOUNT.tariffs.find((code) => code !== before.current_code);
    assert.ok(target, `one of ${NORTHNET_ACCOUNT.tariffs.join(", ")} is not current`);
    await page.locator('[data-testid="tariff-offer"][data-current="true"]').waitFor();
    assert.equal(await offer(page, before.current_code).getAttribute("data-current"), "true", "the current tariff is marked");

    if (before.pending?.code === target) {
      // An earlier run asked for it already (it applies on the 1st): it is shown as pending, not offered again.
      assert.equal(await offer(page, target).getByTestId("tariff-choose").count(), 0);
    } else {
      await offer(page, target).getByTestId("tariff-choose").click();
      const confirm = offer(page, target).getByTestId("tariff-confirm");
      await confirm.waitFor();
      const price = before.items.find((o) => o.code === target).monthly_price;
      const major = (price.minor / 100).toFixed(2).replace(".", "[.,]");
      assert.match(await confirm.getByTestId("tariff-confirm-price").innerText(), new RegExp(major), "the new price is shown");
      assert.notEqual((await confirm.getByTestId("tariff-confirm-rule").innerText()).trim(), "", "the rule is shown");
      await confirm.getByTestId("tariff-confirm-submit").click();
      await page.locator('[data-testid="tariff-result"][data-rule="next_period"]').waitFor();
    }

    const after = await apiGet(page, "/me/tariffs");
    assert.equal(after.current_code, before.current_code, "next_period: the current tariff stays");
    assert.equal(after.pending?.code, target);
    const effective = new Date(after.pending.effective_at);
    assert.equal(effective.getUTCDate(), 1, "effective on the 1st");
    assert.ok(effective.getTime() > Date.now(), "effective in the future");
    const badge = offer(page, target).getByTestId("tariff-pending");
    await badge.waitFor();
    assert.ok((await badge.innerText()).includes(await pageDate(page, after.pending.effective_at)), "pending with its date");

    await page.getByTestId("nav-overview").click();
    await page.getByTestId("dashboard-pending-tariff").waitFor();
    n.session = await page.context().storageState();
    await screenshots(`${NORTHNET_ACCOUNT.slug}-tariff`, urlFor(NORTHNET_ACCOUNT.slug, "/tariff"), n.session, (p) =>
      p.getByTestId("tariff-pending").waitFor(),
    );
  });

  f.step("subscriber pauses the service for 14 days, sees it, and resumes it", async () => {
    const page = n.subscriber;
    // Each pause costs a fee: keep this account able to pay it however often the test runs here.
    const { account } = await apiGet(page, "/me/dashboard");
    if (account.status === "blocked" || account.balance.minor < 1000) {
      const staff = await newPage(DESKTOP);
      f.pages.push(staff);
      try {
        await signIn(staff, urlFor(NORTHNET_ACCOUNT.slug, "/console/tickets"), NORTHNET_ACCOUNT.staff);
        await staff.getByTestId("nav-console-tickets").waitFor();
        const status = await staff.evaluate(async ([number, reference]) => {
          const session = await fetch("/api/v1/session").then((r) => r.json());
          const response = await fetch(`/api/v1/console/subscribers/${number}/payments`, {
            method: "POST",
            headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrf_token },
            body: JSON.stringify({ amount_minor: 5000, method: "bank_transfer", reference }),
          });
          return response.status;
        }, [NORTHNET_ACCOUNT.subscriber, `E2E-topup-${runId}`]);
        assert.ok(status === 200 || status === 201, `top-up answered ${status}`);
      } finally {
        await closePage(staff);
      }
    }

    await page.getByTestId("nav-account").click();
    await page.waitForURL("**/account");
    await page.getByTestId("suspension-section").waitFor();
    // A pause left running by an interrupted earlier run is ended first.
    await page.getByTestId("suspension-form").or(page.getByTestId("suspension-running")).first().waitFor();
    if ((await page.getByTestId("suspension-running").count()) > 0) {
      await page.getByTestId("suspension-resume").click();
      await page.getByTestId("suspension-form").waitFor();
    }
    assert.match(await page.getByTestId("suspension-fee").innerText(), /2[.,]00/, "the fee is shown");

    // Shorter than the ISP allows: caught in the form.
    await page.getByTestId("suspension-days").fill(String(NORTHNET_ACCOUNT.suspensionDays - 1));
    await page.getByTestId("suspension-submit").click();
    await page.getByTestId("suspension-days-error").waitFor();

    await page.getByTestId("suspension-days").fill(String(NORTHNET_ACCOUNT.suspensionDays));
    await page.getByTestId("suspension-submit").click();
    const confirm = page.getByTestId("suspension-confirm");
    await confirm.waitFor();
    assert.match(await confirm.getByTestId("suspension-confirm-fee").innerText(), /2[.,]00/, "the fee is confirmed");
    await confirm.getByTestId("suspension-confirm-submit").click();
    await page.getByTestId("suspension-running").waitFor();

    const options = await apiGet(page, "/me/account-options");
    assert.ok(options.suspension, "a suspension is running");
    const days = (new Date(options.suspension.ends_at) - new Date(options.suspension.starts_at)) / 86_400_000;
    assert.equal(Math.round(days), NORTHNET_ACCOUNT.suspensionDays);

    await page.getByTestId("nav-overview").click();
    await page.getByTestId("dashboard-suspension").waitFor();
    assert.equal(await page.getByTestId("dashboard-account").getAttribute("data-status"), "suspended");
    const session = await page.context().storageState();
    await screenshots(`${NORTHNET_ACCOUNT.slug}-account-suspended`, urlFor(NORTHNET_ACCOUNT.slug, "/account"), session, (p) =>
      p.getByTestId("suspension-running").waitFor(),
    );

    await page.getByTestId("nav-account").click();
    await page.getByTestId("suspension-resume").click();
    await page.getByTestId("suspension-resumed").waitFor();
    await page.getByTestId("suspension-form").waitFor();
    assert.equal((await apiGet(page, "/me/dashboard")).account.status, "active", "service resumed");
    assert.equal((await apiGet(page, "/me/account-options")).suspension, undefined);
  });
  // Never changes the password: other steps and later runs sign in with PASSWORD.
  f.step("subscriber sees this device among sessions; a too-short new password is refused", async () => {
    const page = n.subscriber;
    await page.getByTestId("profile-link").click();
    await page.waitForURL("**/profile");
    await page.getByTestId("profile-page").waitFor();
    assert.equal(
      (await page.getByTestId("profile-account-number").innerText()).trim(),
      NORTHNET_ACCOUNT.subscriber,
      "the contact details name the account",
    );
    const current = page.locator('[data-testid="session-row"][data-current="true"]');
    await current.first().waitFor();
    await current.first().getByTestId("session-this-device").waitFor();
    assert.equal(await current.first().getByTestId("session-sign-out").count(), 0, "no sign-out button for this device");

    // Too short: caught in the form, nothing is sent.
    await page.getByTestId("password-current").fill(PASSWORD);
    await page.getByTestId("password-new").fill("short");
    await page.getByTestId("password-repeat").fill("short");
    await page.getByTestId("password-submit").click();
    await page.getByTestId("password-new-error").waitFor();
    assert.equal(await page.getByTestId("password-changed").count(), 0);
    // The server applies the same rule (a refused change leaves the password as it was).
    const refused = await page.evaluate(async (current) => {
      const session = await fetch("/api/v1/session").then((r) => r.json());
      const response = await fetch("/api/v1/me/password", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrf_token },
        body: JSON.stringify({ current_password: current, new_password: "short" }),
      });
      return { status: response.status, code: (await response.json()).code };
    }, PASSWORD);
    assert.deepEqual(refused, { status: 422, code: "weak_password" });

    await screenshots(`${NORTHNET_ACCOUNT.slug}-profile`, urlFor(NORTHNET_ACCOUNT.slug, "/profile"), n.session, (p) =>
      p.getByTestId("session-this-device").first().waitFor(),
    );
  });
});

describe(`${PROMISE.slug}: a promised payment`, { concurrency: false }, () => {
  const f = flow("promise");
  let page;

  after(async () => {
    await closePage(page);
  });

  f.step("subscriber takes a promised payment and sees it on the dashboard and among payments", async () => {
    page = await newPage(DESKTOP);
    f.pages.push(page);
    await signIn(page, urlFor(PROMISE.slug, "/"), PROMISE.subscriber);
    await page.getByTestId("dashboard-balance").waitFor();
    await page.getByTestId("nav-account").click();
    await page.waitForURL("**/account");
    await page.getByTestId("promise-section").waitFor();
    await page
      .getByTestId("promise-form")
      .or(page.getByTestId("promise-open"))
      .or(page.getByTestId("promise-unavailable"))
      .first()
      .waitFor();

    const before = await apiGet(page, "/me/account-options");
    const { account } = await apiGet(page, "/me/dashboard");
    assert.ok(before.promised_payment_max, "demo offers promised payments");
    let taken = false;
    if (!before.open_promised_payment && (account.status === "active" || account.status === "blocked")) {
      // More than the ISP allows: caught in the form.
      await page.getByTestId("promise-amount").fill(String(before.promised_payment_max.minor / 100 + 1));
      await page.getByTestId("promise-submit").click();
      await page.getByTestId("promise-amount-error").waitFor();

      await page.getByTestId("promise-amount").fill(PROMISE.amount);
      await page.getByTestId("promise-submit").click();
      // One promised payment a month: a run earlier this month may have used it up.
      await page.getByTestId("promise-open").or(page.getByTestId("error-notice")).first().waitFor();
      if ((await page.getByTestId("promise-open").count()) > 0) {
        taken = true;
      } else {
        assert.equal(await page.getByTestId("error-notice").getAttribute("data-code"), "promise_limit_reached");
      }
    }

    const options = await apiGet(page, "/me/account-options");
    if (options.open_promised_payment) {
      if (taken) assert.equal(options.open_promised_payment.amount.minor, Number(PROMISE.amount) * 100);
      assert.match(await page.getByTestId("promise-open").innerText(), /\d/);
      await page.getByTestId("nav-overview").click();
      const callout = page.getByTestId("dashboard-promise");
      await callout.waitFor();
      assert.ok(
        (await callout.innerText()).includes(await pageDate(page, options.open_promised_payment.due_at, "medium")),
        "the dashboard names the due date",
      );
      const session = await page.context().storageState();
      await screenshots(`${PROMISE.slug}-dashboard-promise`, urlFor(PROMISE.slug, "/"), session, (p) =>
        p.getByTestId("dashboard-promise").waitFor(),
      );
      await screenshots(`${PROMISE.slug}-account-promise`, urlFor(PROMISE.slug, "/account"), session, (p) =>
        p.getByTestId("promise-open").waitFor(),
      );
    }

    // Taken now or earlier this month: the credit is among the payments.
    await page.getByTestId("nav-payments").click();
    await page.waitForURL("**/payments");
    await page.locator('[data-testid="ledger-row"][data-kind="promised_credit"]').first().waitFor();
  });
});

// A card top-up through Stripe Checkout (the fake Stripe's hosted page, on its own origin), the
// card saved by it, and auto-pay switched on for that card. Every run pays again: the balance only
// grows, and auto-pay's threshold stays far below it, so it never charges during a run.
const CARD = {
  slug: "demo",
  subscriber: "100001",
  amount: "250",
  amountMinor: 25_000,
  last4: "4242",
  autopay: { threshold: "100", thresholdMinor: 10_000, amount: "500", amountMinor: 50_000 },
  // Checkout's answer arrives by webhook; the page polls for it up to a minute.
  settleTimeout: 60_000,
};

describe(`${CARD.slug}: a card top-up through Stripe Checkout, then auto-pay`, { concurrency: false }, () => {
  const c = {};
  const f = flow("card");

  after(async () => {
    await closePage(c.page);
  });

  f.step("subscriber pays by card on the Checkout page and sees the balance go up", async () => {
    const page = (c.page = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(CARD.slug, "/"), CARD.subscriber);
    await page.getByTestId("dashboard-balance").waitFor();
    await page.getByTestId("nav-payments").click();
    await page.waitForURL("**/payments");
    await page.getByTestId("topup-form").waitFor();
    const options = await apiGet(page, "/me/payment-options");
    assert.equal(options.online, true, "demo takes cards online");
    c.session = await page.context().storageState();
    await screenshots(`${CARD.slug}-payments-card`, urlFor(CARD.slug, "/payments"), c.session, (p) =>
      p.getByTestId("topup-form").waitFor(),
    );

    // Below the ISP's minimum: caught in the form, nothing is sent.
    await page.getByTestId("topup-amount").fill(String((options.min_amount.minor - 1) / 100).replace(".", ","));
    await page.getByTestId("topup-submit").click();
    await page.getByTestId("topup-amount-error").waitFor();

    const before = (await apiGet(page, "/me/dashboard")).account.balance.minor;
    await page.getByTestId("topup-amount").fill(CARD.amount);
    await page.getByTestId("topup-save-card").check();
    await page.getByTestId("topup-submit").click();

    // Stripe's hosted page, on another origin; its own "Pay" button.
    await page.waitForURL(/\/checkout\/pay\/cs_/);
    assert.notEqual(new URL(page.url()).origin, new URL(urlFor(CARD.slug)).origin, "Checkout is Stripe's page");
    await page.screenshot({ path: `${SCREENSHOTS}${CARD.slug}-stripe-checkout-desktop.png`, fullPage: true });
    await page.locator('form[action^="/checkout/pay/"] button[type="submit"]').click();

    // Back on the payments page: checking, then received.
    const banner = page.getByTestId("payment-return");
    await banner.waitFor({ timeout: NAVIGATION_TIMEOUT });
    assert.equal(new URL(page.url()).origin, new URL(urlFor(CARD.slug)).origin, "back from Checkout");
    await page
      .locator('[data-testid="payment-return"]:not([data-status="checking"])')
      .waitFor({ timeout: CARD.settleTimeout });
    assert.equal(await banner.getAttribute("data-status"), "succeeded");
    c.paymentId = await banner.getAttribute("data-payment-id");
    assert.ok(c.paymentId, "the banner names the payment");
    const payment = await apiGet(page, `/me/payments/online/${c.paymentId}`);
    assert.equal(payment.status, "succeeded");
    assert.equal(payment.amount.minor, CARD.amountMinor);
    assert.equal(payment.purpose, "top_up");

    const after = (await apiGet(page, "/me/dashboard")).account.balance.minor;
    assert.equal(after - before, CARD.amountMinor, "the balance grew by exactly the payment");
    assert.equal(Number(await page.getByTestId("payments-balance").getAttribute("data-minor")), after, "the header shows it");
    assert.match(await banner.innerText(), new RegExp(moneyPattern(CARD.amountMinor)), "the banner names the amount");
    // Settled: the address loses the query, so a reload does not show the banner again.
    await page.waitForFunction(() => !new URLSearchParams(location.search).has("payment"));

    const card = page.getByTestId("saved-card");
    await card.waitFor();
    assert.equal(await card.getAttribute("data-last4"), CARD.last4);
    assert.match(await card.innerText(), new RegExp(CARD.last4));
    await page
      .locator(`[data-testid="online-payment-row"][data-payment-id="${c.paymentId}"][data-status="succeeded"]`)
      .waitFor();
    c.session = await page.context().storageState();
  });

  f.step("subscriber turns auto-pay on for the saved card", async () => {
    const page = c.page;
    const form = page.getByTestId("autopay-form");
    await form.waitFor();
    await page.getByTestId("autopay-enabled").check();
    await page.getByTestId("autopay-threshold").fill(CARD.autopay.threshold);
    await page.getByTestId("autopay-amount").fill(CARD.autopay.amount);
    await page.getByTestId("autopay-submit").click();
    await page.getByTestId("autopay-saved").waitFor();
    await page.locator('[data-testid="autopay-rule"][data-enabled="true"]').waitFor();

    const { autopay } = await apiGet(page, "/me/payment-options");
    assert.equal(autopay.enabled, true);
    assert.equal(autopay.threshold.minor, CARD.autopay.thresholdMinor);
    assert.equal(autopay.amount.minor, CARD.autopay.amountMinor);
    assert.equal(autopay.card?.last4, CARD.last4);
    assert.equal(autopay.paused_reason, undefined);

    await screenshots(`${CARD.slug}-payments-autopay`, urlFor(CARD.slug, "/payments"), c.session, (p) =>
      p.locator('[data-testid="autopay-rule"][data-enabled="true"]').waitFor(),
    );
    // The page Checkout returns to, for a payment that has settled.
    await screenshots(
      `${CARD.slug}-payments-received`,
      urlFor(CARD.slug, `/payments?payment=${c.paymentId}`),
      c.session,
      (p) => p.locator('[data-testid="payment-return"][data-status="succeeded"]').waitFor(),
    );
  });

  f.step("subscriber finds the payment in the statement and downloads it as a PDF and CSV", async () => {
    const page = c.page;
    await page.getByTestId("nav-statement").click();
    await page.waitForURL("**/statement");
    await page.getByTestId("statement-closing").waitFor();
    // This month so far: the card payment is in it, and the closing balance is the balance now.
    const balance = (await apiGet(page, "/me/dashboard")).account.balance.minor;
    assert.equal(Number(await page.getByTestId("statement-closing").getAttribute("data-minor")), balance);
    await page
      .locator('[data-testid="ledger-row"][data-kind="payment"]')
      .filter({ hasText: new RegExp(moneyPattern(CARD.amountMinor)) })
      .first()
      .waitFor();

    const [pdf] = await Promise.all([page.waitForEvent("download"), page.getByTestId("statement-download-pdf").click()]);
    assert.match(pdf.suggestedFilename(), new RegExp(`^statement-${CARD.subscriber}-\\d{4}-\\d{2}-\\d{2}-\\d{4}-\\d{2}-\\d{2}\\.pdf$`));
    const pdfPath = await pdf.path();
    const { readFile } = await import("node:fs/promises");
    const bytes = await readFile(pdfPath);
    assert.equal(bytes.subarray(0, 5).toString("latin1"), "%PDF-", "a PDF document");
    assert.ok(bytes.length > 2_000 && bytes.length < 200_000, `a statement of sensible size (${bytes.length} bytes)`);

    const [csv] = await Promise.all([page.waitForEvent("download"), page.getByTestId("statement-download-csv").click()]);
    const text = await readFile(await csv.path(), "utf8");
    assert.match(text.split("\n")[0] ?? "", /^date,kind,description,reference,amount,currency/);
    assert.match(text, new RegExp(`,payment,.*,${(CARD.amountMinor / 100).toFixed(2)},RUB`));

    // Last month: an earlier period, a different opening balance, and the presets stay in the address.
    await page.getByTestId("statement-preset-lastMonth").click();
    await page.waitForURL(/\/statement\?from=\d{4}-\d{2}-01&to=/);
    await page.getByTestId("statement-closing").waitFor();
    await screenshots(`${CARD.slug}-statement`, urlFor(CARD.slug, "/statement"), c.session, (p) =>
      p.getByTestId("statement-closing").waitFor(),
    );
  });
});

// Equipment and news: staff publish a post in the console editor and the subscriber reads it on
// the dashboard; the subscriber rents a router (the price and the effect on the balance first,
// then the charge in the ledger and the order), staff confirm and deliver it. At the end staff
// take the router back (the rent stops) and the post down, so repeated runs leave no rentals
// charging and no posts piling up.
const EQUIPMENT = {
  slug: "demo",
  subscriber: "100001",
  staff: "owner@demo.example",
  item: "wifi6-router",
  rentMinor: 19_900,
  // The demo manifest's pinned offer.
  offerTitle: "Wi-Fi 6 роутер в аренду — 199 ₽ в месяц",
};

/** A JSON POST from the page's session, with its CSRF token; the status and body. */
const apiPost = (page, path, body) =>
  page.evaluate(
    async ([url, payload]) => {
      const session = await fetch("/api/v1/session").then((r) => r.json());
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrf_token },
        body: JSON.stringify(payload),
      });
      return { status: response.status, body: await response.json().catch(() => null) };
    },
    [`/api/v1${path}`, body],
  );

describe(`${EQUIPMENT.slug}: a router rented, news on the dashboard`, { concurrency: false }, () => {
  const e = { newsTitle: `E2E новость ${runId}` };
  const f = flow("equipment");
  const offer = (page) => page.locator(`[data-testid="equipment-offer"][data-code="${EQUIPMENT.item}"]`);

  after(async () => {
    await closePage(e.staff);
    await closePage(e.subscriber);
  });

  f.step("staff publish a post in the console's news editor", async () => {
    const page = (e.staff = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(EQUIPMENT.slug, "/console"), EQUIPMENT.staff);
    await page.getByTestId("nav-console-news").click();
    await page.getByTestId("news-admin-list").waitFor();
    await page.getByTestId("news-new").click();
    // An empty form is caught before anything is sent.
    await page.getByTestId("news-save").click();
    await page.locator(".field__error").first().waitFor();
    await page.getByTestId("news-title-input").fill(e.newsTitle);
    await page
      .getByTestId("news-body-input")
      .fill("Проверка браузерным тестом.\n\n- первый пункт\n- второй пункт с **важным**");
    await page.getByTestId("news-save").click();
    await page.getByTestId("news-saved").waitFor();
    await page.waitForURL(/\/console\/news\/[0-9a-f-]{36}$/);
    e.newsId = page.url().split("/").pop();
    await page.locator('[data-testid="news-state"]').filter({ hasText: /./ }).waitFor();
    e.staffSession = await page.context().storageState();
  });

  f.step("the subscriber sees the offer and the new post on the dashboard and reads it", async () => {
    const page = (e.subscriber = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(EQUIPMENT.slug, "/"), EQUIPMENT.subscriber);
    const news = page.getByTestId("dashboard-news");
    await news.waitFor();
    const cards = news.getByTestId("news-card");
    assert.ok((await cards.count()) <= 3, "the dashboard shows at most three posts");
    const first = cards.first();
    assert.equal(await first.getAttribute("data-kind"), "promotion", "the pinned offer comes first");
    assert.equal((await first.getByTestId("news-link").innerText()).trim(), EQUIPMENT.offerTitle);
    await first.getByTestId("news-promotion").waitFor();
    const mine = cards.filter({ hasText: e.newsTitle });
    await mine.waitFor();
    await mine.getByTestId("news-link").click();
    await page.waitForURL(`**/news/${e.newsId}`);
    assert.equal((await page.getByTestId("news-title").innerText()).trim(), e.newsTitle);
    assert.equal(await page.getByTestId("news-body").locator("li").count(), 2, "the list is rendered as one");
    assert.equal(await page.getByTestId("news-body").locator("strong").innerText(), "важным");
    e.session = await page.context().storageState();
  });

  f.step("the subscriber rents a router: the price and the balance after it first", async () => {
    const page = e.subscriber;
    await page.getByTestId("nav-equipment").click();
    await page.waitForURL("**/equipment");
    await offer(page).waitFor();
    assert.match(await offer(page).getByTestId("equipment-rent-price").innerText(), new RegExp(moneyPattern(EQUIPMENT.rentMinor)));

    // Earlier runs and the monthly charges move this balance: make sure the rent fits.
    const quote = await apiGet(page, `/me/equipment/${EQUIPMENT.item}/quote?mode=rent`);
    if (!quote.allowed) {
      const paid = await apiPost(e.staff, `/console/subscribers/${EQUIPMENT.subscriber}/payments`, {
        amount_minor: Math.ceil(quote.shortfall.minor / 10_000) * 10_000 + 10_000,
        method: "cash",
        reference: `E2E-RENT-${runId}`,
      });
      assert.equal(paid.status, 201);
    }
    const before = (await apiGet(page, "/me/dashboard")).account.balance.minor;

    await offer(page).getByTestId("equipment-rent").click();
    const dialog = page.getByTestId("order-dialog");
    await dialog.getByTestId("quote-charge-now").waitFor();
    assert.match(await dialog.getByTestId("quote-price").innerText(), new RegExp(moneyPattern(EQUIPMENT.rentMinor)));
    const shown = await apiGet(page, `/me/equipment/${EQUIPMENT.item}/quote?mode=rent`);
    assert.equal(shown.balance_after.minor, before - shown.charge_now.minor);
    assert.notEqual((await dialog.getByTestId("order-phone").inputValue()).trim(), "", "the profile's phone is filled in");
    await page.screenshot({ path: `${SCREENSHOTS}${EQUIPMENT.slug}-equipment-dialog-desktop.png` });

    // Nothing is ordered until the subscriber confirms: closing the dialog changes nothing.
    await dialog.getByRole("button", { name: /Отмена/ }).click();
    await dialog.waitFor({ state: "detached" });
    assert.equal((await apiGet(page, "/me/dashboard")).account.balance.minor, before);

    await offer(page).getByTestId("equipment-rent").click();
    await dialog.getByTestId("quote-charge-now").waitFor();
    await dialog.getByTestId("order-note").fill("Подъезд 2, домофон 12, после 18:00");
    await dialog.getByTestId("order-confirm").click();
    await page.getByTestId("order-placed").waitFor();

    const orders = await apiGet(page, "/me/equipment-orders");
    const order = orders.items[0];
    assert.equal(order.item_code, EQUIPMENT.item);
    assert.equal(order.mode, "rent");
    assert.equal(order.status, "new");
    assert.equal(order.charged.minor, shown.charge_now.minor, "charged exactly what was shown");
    e.order = order;
    const after = (await apiGet(page, "/me/dashboard")).account.balance.minor;
    assert.equal(after, before - order.charged.minor, "the balance went down by the charge, once");
    await page.locator(`[data-testid="my-order"][data-order-id="${order.id}"][data-status="new"]`).waitFor();

    // The charge is in the ledger, named after the order.
    await page.getByTestId("nav-payments").click();
    await page.waitForURL("**/payments");
    const row = page.locator(`[data-testid="ledger-row"][data-reference="order ${order.number}"]`);
    await row.first().waitFor();
    assert.equal(await row.first().getAttribute("data-kind"), "charge");
    assert.match(await row.first().innerText(), /Аренда/);
  });

  f.step("staff confirm and deliver the order from the console queue", async () => {
    const page = e.staff;
    await page.getByTestId("nav-console-orders").click();
    await page.getByTestId("orders-status-filter").selectOption("new");
    const row = page.locator(`[data-testid="console-order-row"][data-order-id="${e.order.id}"]`);
    await row.waitFor();
    await row.getByTestId("console-order-link").click();
    await page.waitForURL(`**/console/orders/${e.order.id}`);
    await page.getByTestId("order-to-confirmed").check();
    await page.getByTestId("order-status-note").fill("Привезём завтра с 10 до 14");
    await page.getByTestId("order-status-submit").click();
    await page.getByTestId("order-status-done").waitFor();
    await page.getByTestId("order-to-delivered").check();
    await page.getByTestId("order-status-submit").click();
    await page.getByTestId("order-status-done").filter({ hasText: /Доставлен/ }).waitFor();
    const detail = await apiGet(page, `/console/equipment-orders/${e.order.id}`);
    assert.equal(detail.status, "delivered");
    assert.deepEqual(
      detail.history.map((h) => h.status),
      ["new", "confirmed", "delivered"],
    );
    await page.screenshot({ path: `${SCREENSHOTS}${EQUIPMENT.slug}-console-order-desktop.png`, fullPage: true });
  });

  f.step("the subscriber follows the order: delivered, with its history", async () => {
    const page = e.subscriber;
    await page.goto(urlFor(EQUIPMENT.slug, `/equipment/orders/${e.order.id}`));
    await page.getByTestId("order-status").filter({ hasText: /Доставлен/ }).first().waitFor();
    const steps = page.getByTestId("order-history").locator("li");
    assert.equal(await steps.count(), 3);
    assert.match(await steps.nth(1).innerText(), /Привезём завтра/);
    assert.equal(await page.getByTestId("order-cancel").count(), 0, "a delivered order cannot be cancelled");
  });

  f.step("equipment screens at desktop and phone size", async () => {
    const rentDialog = async (p) => {
      await offer(p).getByTestId("equipment-rent").click();
      await p.getByTestId("quote-charge-now").waitFor();
    };
    await screenshots(`${EQUIPMENT.slug}-equipment`, urlFor(EQUIPMENT.slug, "/equipment"), e.session, (p) =>
      p.locator(`[data-testid="my-order"][data-order-id="${e.order.id}"]`).waitFor(),
    );
    await screenshots(`${EQUIPMENT.slug}-equipment-order-dialog`, urlFor(EQUIPMENT.slug, "/equipment"), e.session, rentDialog);
    await screenshots(
      `${EQUIPMENT.slug}-equipment-order`,
      urlFor(EQUIPMENT.slug, `/equipment/orders/${e.order.id}`),
      e.session,
      (p) => p.getByTestId("order-history").waitFor(),
    );
  });

  f.step("news and console screens at desktop and phone size", async () => {
    await screenshots(`${EQUIPMENT.slug}-dashboard-news`, urlFor(EQUIPMENT.slug, "/"), e.session, (p) =>
      p.getByTestId("dashboard-news").getByText(e.newsTitle).waitFor(),
    );
    await screenshots(`${EQUIPMENT.slug}-news`, urlFor(EQUIPMENT.slug, "/news"), e.session, (p) =>
      p.getByTestId("news-list").getByText(e.newsTitle).waitFor(),
    );
    await screenshots(`${EQUIPMENT.slug}-news-post`, urlFor(EQUIPMENT.slug, `/news/${e.newsId}`), e.session, (p) =>
      p.getByTestId("news-body").waitFor(),
    );
    await screenshots(`${EQUIPMENT.slug}-console-orders`, urlFor(EQUIPMENT.slug, "/console/orders"), e.staffSession, (p) =>
      p.locator(`[data-testid="console-order-row"][data-order-id="${e.order.id}"]`).waitFor(),
    );
    await screenshots(
      `${EQUIPMENT.slug}-console-order`,
      urlFor(EQUIPMENT.slug, `/console/orders/${e.order.id}`),
      e.staffSession,
      (p) => p.getByTestId("order-status-form").waitFor(),
    );
    await screenshots(`${EQUIPMENT.slug}-console-news`, urlFor(EQUIPMENT.slug, "/console/news"), e.staffSession, (p) =>
      p.locator(`[data-testid="news-admin-row"][data-news-id="${e.newsId}"]`).waitFor(),
    );
    await screenshots(
      `${EQUIPMENT.slug}-console-news-editor`,
      urlFor(EQUIPMENT.slug, `/console/news/${e.newsId}`),
      e.staffSession,
      (p) => p.getByTestId("news-title-input").waitFor(),
    );
  });

  f.step("staff take the router back and the post down: the rent stops, the post is gone", async () => {
    const page = e.staff;
    await page.goto(urlFor(EQUIPMENT.slug, `/console/orders/${e.order.id}`));
    await page.getByTestId("order-to-returned").check();
    await page.getByTestId("order-refund-warning").waitFor();
    await page.getByTestId("order-status-submit").click();
    await page.getByTestId("order-final").waitFor();
    const detail = await apiGet(page, `/console/equipment-orders/${e.order.id}`);
    assert.equal(detail.status, "returned");
    assert.ok(detail.rent_ended_at, "the rent has stopped");

    await page.getByTestId("nav-console-news").click();
    const row = page.locator(`[data-testid="news-admin-row"][data-news-id="${e.newsId}"]`);
    await row.getByTestId("news-unpublish").click();
    await page.locator(`[data-testid="news-admin-row"][data-news-id="${e.newsId}"][data-state="unpublished"]`).waitFor();
    const feed = await apiGet(e.subscriber, "/me/news?limit=100");
    assert.ok(!feed.items.some((p) => p.id === e.newsId), "the post left the subscriber's feed");
  });
});

describe("tenant isolation", () => {
  test("northnet neither lists nor opens demo's ticket", { timeout: STEP_TIMEOUT }, async () => {
    const demo = state.demo;
    assert.ok(demo?.ticketId, "the demo flow created a ticket");
    const page = await newPage(DESKTOP);
    try {
      await signIn(page, urlFor("northnet", "/console"), "owner@northnet.example");
      assert.equal(await findInQueue(page, demo.subject), null, "demo's ticket is not in northnet's queue");
      assert.equal(await page.getByText(demo.subject).count(), 0);

      const status = await page.evaluate(
        (id) => fetch(`/api/v1/console/tickets/${id}`).then((r) => r.status),
        demo.ticketId,
      );
      assert.equal(status, 404, "another ISP's ticket is simply not found");

      await page.goto(urlFor("northnet", `/console/tickets/${demo.ticketId}`));
      await page.getByTestId("error-notice").waitFor();
      assert.equal(await page.getByTestId("error-notice").getAttribute("data-code"), "not_found");
    } finally {
      await closePage(page);
    }
  });
});

describe("operator", () => {
  test("the operator lists every ISP", { timeout: STEP_TIMEOUT }, async () => {
    await screenshots("admin-signin", urlFor(PLATFORM.slug, "/"), undefined, (p) => p.getByTestId("login-form").waitFor());
    const page = await newPage(DESKTOP);
    try {
      await signIn(page, urlFor(PLATFORM.slug, "/"), PLATFORM.operator);
      await page.getByTestId("tenant-table").waitFor();
      for (const isp of ISPS) {
        await page.locator(`[data-testid="tenant-row"][data-slug="${isp.slug}"]`).waitFor();
      }
      const session = await page.context().storageState();
      await screenshots("admin-tenants", urlFor(PLATFORM.slug, "/"), session, (p) => p.getByTestId("tenant-table").waitFor());
    } finally {
      await closePage(page);
    }
  });
});

/** RFC 4648 base32 (no padding) → bytes. */
function base32Decode(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of text.replace(/[\s=]/g, "").toUpperCase()) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The code an authenticator app shows at `unixSeconds` (RFC 6238: HMAC-SHA1, 30 s, 6 digits). */
function totp(secretBase32, unixSeconds = Math.floor(Date.now() / 1000)) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac("sha1", base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, "0");
}

// Two-factor sign-in: a subscriber turns TOTP on in the profile, signs out, and signs back in with
// the password and a code (and, on a phone, with a recovery code); then turns it off again, so a
// later run (and the other flows, which sign in with the password alone) find the account as
// before. If a step fails half-way, `after` turns it off through the API with a recovery code.
const TWO_FACTOR = { slug: "demo", subscriber: "100001" };

describe(`${TWO_FACTOR.slug}: two-factor sign-in`, { concurrency: false }, () => {
  const tf = {};
  const f = flow("two-factor");

  after(async () => {
    if (tf.enabled && tf.codes?.length) {
      const page = await newPage(DESKTOP);
      try {
        await page.goto(urlFor(TWO_FACTOR.slug, "/api/v1/site"));
        const result = await page.evaluate(
          async ({ login, password, code }) => {
            const post = (path, body, csrf) =>
              fetch(`/api/v1${path}`, {
                method: "POST",
                headers: { "Content-Type": "application/json", ...(csrf ? { "X-CSRF-Token": csrf } : {}) },
                body: JSON.stringify(body),
              });
            const first = await (await post("/auth/subscriber/login", { login, password })).json();
            const session =
              first.outcome === "second_factor_required"
                ? await (await post("/auth/login/second-factor", { challenge: first.challenge, code })).json()
                : first;
            return (await post("/me/two-factor/disable", { password }, session.csrf_token)).status;
          },
          { login: TWO_FACTOR.subscriber, password: PASSWORD, code: tf.codes[tf.codes.length - 1] },
        );
        assert.equal(result, 204, "two-factor authentication turned off after a failed run");
      } finally {
        await closePage(page);
      }
    }
    await closePage(tf.page);
  });

  f.step("subscriber turns on two-factor authentication with a QR code and a first code", async () => {
    const page = (tf.page = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(TWO_FACTOR.slug, "/"), TWO_FACTOR.subscriber);
    await page.getByTestId("dashboard-balance").waitFor();
    await page.getByTestId("profile-link").click();
    await page.waitForURL("**/profile");
    const card = page.getByTestId("two-factor-card");
    await card.waitFor();
    assert.equal(await page.getByTestId("two-factor-state").getAttribute("class"), "badge badge--neutral", "off at first");

    await page.getByTestId("two-factor-enable").click();
    // The password is asked again; a wrong one is refused in place.
    await page.getByTestId("two-factor-password").fill("not-my-password");
    await page.getByTestId("two-factor-start-submit").click();
    await card.getByTestId("error-notice").waitFor();
    assert.equal(await card.getByTestId("error-notice").getAttribute("data-code"), "wrong_current_password");
    await page.getByTestId("two-factor-password").fill(PASSWORD);
    await page.getByTestId("two-factor-start-submit").click();

    const setup = page.getByTestId("two-factor-setup");
    await setup.waitFor();
    await page.waitForFunction(() => {
      const img = document.querySelector('[data-testid="two-factor-qr"]');
      return img instanceof HTMLImageElement && img.complete && img.naturalWidth > 0;
    });
    tf.secret = await page.getByTestId("two-factor-secret").getAttribute("data-secret");
    assert.match(tf.secret ?? "", /^[A-Z2-7]{32}$/, "a 160-bit base32 secret");
    await setup.screenshot({ path: `${SCREENSHOTS}${TWO_FACTOR.slug}-two-factor-setup-desktop.png` });

    // A wrong code first, then the app's current one.
    await page.getByTestId("two-factor-code").fill("000000");
    await page.getByTestId("two-factor-confirm").click();
    await setup.getByTestId("error-notice").waitFor();
    assert.equal(await setup.getByTestId("error-notice").getAttribute("data-code"), "invalid_two_factor_code");
    tf.confirmedAt = Math.floor(Date.now() / 1000);
    await page.getByTestId("two-factor-code").fill(totp(tf.secret, tf.confirmedAt));
    await page.getByTestId("two-factor-confirm").click();

    const codes = page.getByTestId("recovery-codes");
    await codes.waitFor();
    tf.enabled = true;
    tf.codes = (await codes.locator("code").allInnerTexts()).map((c) => c.trim());
    assert.equal(tf.codes.length, 10, "ten recovery codes");
    for (const code of tf.codes) assert.match(code, /^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/);
    await page.getByTestId("two-factor-codes").screenshot({ path: `${SCREENSHOTS}${TWO_FACTOR.slug}-two-factor-codes-desktop.png` });
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("recovery-codes-download").click()]);
    const { readFile } = await import("node:fs/promises");
    const saved = await readFile(await download.path(), "utf8");
    for (const code of tf.codes) assert.ok(saved.includes(code), "the downloaded file lists every code");

    await page.getByTestId("recovery-codes-saved").click();
    await page.getByTestId("two-factor-enabled").waitFor();
    assert.equal(await page.getByTestId("two-factor-state").getAttribute("class"), "badge badge--success");
    assert.equal(await page.getByTestId("two-factor-codes-left").getAttribute("data-count"), "10");
    const status = await apiGet(page, "/me/two-factor");
    assert.equal(status.enabled, true);
    tf.session = await page.context().storageState();
    await screenshots(`${TWO_FACTOR.slug}-profile-two-factor`, urlFor(TWO_FACTOR.slug, "/profile"), tf.session, async (p) => {
      await p.locator('[data-testid="two-factor-state"].badge--success').waitFor();
      await p.getByTestId("profile-account-number").waitFor();
      await p.getByTestId("session-list").waitFor();
    });
  });

  f.step("after signing out, the password alone asks for the code; a wrong one is refused, the app's works", async () => {
    const page = tf.page;
    await page.getByTestId("sign-out").click();
    await page.getByTestId("login-form").waitFor();
    await signIn(page, urlFor(TWO_FACTOR.slug, "/"), TWO_FACTOR.subscriber);
    await page.getByTestId("second-factor").waitFor();
    assert.equal(
      (await page.context().cookies()).filter((c) => c.name.endsWith("kabinet_session")).length,
      0,
      "no session cookie before the code",
    );
    await page.screenshot({ path: `${SCREENSHOTS}${TWO_FACTOR.slug}-signin-second-factor-desktop.png`, fullPage: true });

    // Not six digits: caught in the form.
    await page.getByTestId("second-factor-code").fill("12");
    await page.getByTestId("second-factor-submit").click();
    await page.getByTestId("second-factor-problem").waitFor();
    await page.getByTestId("second-factor-code").fill("000000");
    await page.getByTestId("second-factor-submit").click();
    await page.getByTestId("error-notice").waitFor();
    assert.equal(await page.getByTestId("error-notice").getAttribute("data-code"), "invalid_second_factor");

    // The next step's code: the confirming one is spent (a code works once).
    await page.getByTestId("second-factor-code").fill(totp(tf.secret, tf.confirmedAt + 30));
    await page.getByTestId("second-factor-submit").click();
    await page.getByTestId("dashboard-balance").waitFor();
  });

  f.step("on a phone, the second step in both forms; a recovery code signs in once", async () => {
    const page = await newPage(PHONE);
    f.pages.push(page);
    try {
      await signIn(page, urlFor(TWO_FACTOR.slug, "/"), TWO_FACTOR.subscriber);
      await page.getByTestId("second-factor").waitFor();
      await page.evaluate(() => document.fonts.ready);
      await page.screenshot({ path: `${SCREENSHOTS}${TWO_FACTOR.slug}-signin-second-factor-phone.png`, fullPage: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the second step is ${overflow}px wider than the phone`);
      assert.equal(await page.getByTestId("second-factor-code").getAttribute("inputmode"), "numeric");
      assert.equal(await page.getByTestId("second-factor-code").getAttribute("autocomplete"), "one-time-code");

      await page.getByTestId("second-factor-toggle").click();
      await page.locator('[data-testid="second-factor-code"][name="recovery-code"]').waitFor();
      await page.screenshot({ path: `${SCREENSHOTS}${TWO_FACTOR.slug}-signin-recovery-code-phone.png`, fullPage: true });
      tf.recoveryUsed = tf.codes[0];
      await page.getByTestId("second-factor-code").fill(tf.recoveryUsed.toLowerCase());
      await page.getByTestId("second-factor-submit").click();
      await page.getByTestId("dashboard-balance").waitFor();
      const status = await apiGet(page, "/me/two-factor");
      assert.equal(status.recovery_codes_left, 9, "the recovery code is spent");
    } finally {
      await closePage(page);
    }
  });

  f.step("subscriber turns two-factor authentication off with the password", async () => {
    const page = tf.page;
    await page.getByTestId("profile-link").click();
    await page.waitForURL("**/profile");
    await page.getByTestId("two-factor-disable").click();
    await page.getByTestId("two-factor-disable-password").fill(PASSWORD);
    await page.getByTestId("two-factor-disable-submit").click();
    await page.getByTestId("two-factor-disabled").waitFor();
    const status = await apiGet(page, "/me/two-factor");
    assert.equal(status.enabled, false);
    tf.enabled = false;
  });

  f.step("staff find the same card on the console's security page", async () => {
    const page = await newPage(DESKTOP);
    f.pages.push(page);
    try {
      await signIn(page, urlFor(TWO_FACTOR.slug, "/console"), "agent@demo.example");
      await page.getByTestId("profile-link").click();
      await page.waitForURL("**/console/security");
      await page.getByTestId("two-factor-card").waitFor();
      await page.getByTestId("two-factor-enable").waitFor();
      const status = await apiGet(page, "/console/me/two-factor");
      assert.equal(status.enabled, false);
      const session = await page.context().storageState();
      await screenshots(`${TWO_FACTOR.slug}-console-security`, urlFor(TWO_FACTOR.slug, "/console/security"), session, (p) =>
        p.getByTestId("two-factor-enable").waitFor(),
      );
    } finally {
      await closePage(page);
    }
  });

  f.step("forgotten password: the request page, the same answer for anyone, and the reset page", async () => {
    await screenshots(`${TWO_FACTOR.slug}-forgot-password`, urlFor(TWO_FACTOR.slug, "/forgot-password"), undefined, (p) =>
      p.getByTestId("forgot-password-form").waitFor(),
    );
    const page = await newPage(DESKTOP);
    f.pages.push(page);
    try {
      await page.goto(urlFor(TWO_FACTOR.slug, "/"));
      await page.getByTestId("forgot-password-link").click();
      await page.waitForURL("**/forgot-password");
      // An account that does not exist, unique per run (so its request limit never fills up).
      await page.getByTestId("forgot-password-login").fill(`nobody-${runId}`);
      await page.getByTestId("forgot-password-submit").click();
      await page.getByTestId("reset-requested").waitFor();
      await page.screenshot({ path: `${SCREENSHOTS}${TWO_FACTOR.slug}-forgot-password-sent-desktop.png`, fullPage: true });

      // A link that is not (or no longer) valid: the token leaves the address bar, the error says so.
      await page.goto(urlFor(TWO_FACTOR.slug, `/reset-password?token=${"x".repeat(43)}`));
      await page.getByTestId("reset-password-form").waitFor();
      await page.waitForFunction(() => !location.search.includes("token"));
      await page.getByTestId("reset-new").fill("a brand new password");
      await page.getByTestId("reset-repeat").fill("a brand new password");
      await page.getByTestId("reset-submit").click();
      await page.getByTestId("error-notice").waitFor();
      assert.equal(await page.getByTestId("error-notice").getAttribute("data-code"), "invalid_reset_token");
      await page.getByTestId("reset-request-new").waitFor();
    } finally {
      await closePage(page);
    }
    await screenshots(`${TWO_FACTOR.slug}-reset-password`, urlFor(TWO_FACTOR.slug, `/reset-password?token=${"y".repeat(43)}`), undefined, (p) =>
      p.getByTestId("reset-password-form").waitFor(),
    );
  });
});
