// The walking skeleton, end to end in a real browser, for two ISPs and the operator on one
// deployment: a subscriber opens a ticket, that ISP's staff answers it, the subscriber reads the
// answer, a read-only colleague may look but not answer, the other ISP never sees it, and the
// operator lists both ISPs. Billing: staff records a payment for a blocked subscriber, which
// lifts the block, and the subscriber sees it among their payments. Screenshots of every screen at 1280x800 and 390x844 go to
// e2e/screenshots/ (git-ignored; keep them as CI artifacts).
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
import { access, mkdir, readdir, rm } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { chromium } from "playwright-core";

const URL_TEMPLATE = process.env.KABINET_URL_TEMPLATE ?? "http://{slug}.localhost:8080";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = new URL("./screenshots/", import.meta.url).pathname;
const PASSWORD = "demo-password";
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const VIEWPORTS = { desktop: DESKTOP, phone: PHONE };
// Bounded everywhere: one browser action, one navigation, one step.
const ACTION_TIMEOUT = 15_000;
const NAVIGATION_TIMEOUT = 20_000;
const STEP_TIMEOUT = 90_000;

const ISPS = [
  { slug: "demo", subscriber: "100001", staff: "owner@demo.example", viewer: "viewer@demo.example" },
  { slug: "northnet", subscriber: "200001", staff: "owner@northnet.example" },
];
const PLATFORM = { slug: "admin", operator: "operator@kabinet.example" };
// Seeded blocked with a debt of 120.00; a payment of 500 lifts the block. Payments are the only
// balance movements the API can make, so on a used database the balance is only ever higher.
const BILLING = {
  slug: "demo",
  account: "100002",
  staff: "owner@demo.example",
  viewer: "viewer@demo.example",
  agent: "agent@demo.example",
};

const urlFor = (slug, path = "/") => URL_TEMPLATE.replace("{slug}", slug) + path;
const runId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

/** @type {import("playwright-core").Browser} */
let browser;
const openContexts = new Set();

before(async () => {
  // Only this run's screenshots, so a stale one never passes for the current state.
  await mkdir(SCREENSHOTS, { recursive: true });
  for (const name of await readdir(SCREENSHOTS)) {
    if (name.endsWith(".png")) await rm(`${SCREENSHOTS}${name}`);
  }
  await access(CHROMIUM).catch(() => {
    throw new Error(`no Chromium at ${CHROMIUM}; set CHROMIUM_PATH`);
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    timeout: 30_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  // Fail fast and say why when nothing answers, rather than timing out on a sign-in form.
  const page = await newPage(DESKTOP);
  try {
    const url = urlFor(ISPS[0].slug, "/api/v1/site");
    const response = await page.goto(url, { timeout: 10_000 }).catch((error) => {
      throw new Error(`backend not reachable at ${url} (${error.message.split("\n")[0]}); start \`kabinet serve\``);
    });
    assert.equal(response?.status(), 200, `GET ${url} answers 200`);
  } finally {
    await closePage(page);
  }
});

after(async () => {
  await Promise.allSettled([...openContexts].map((c) => c.close()));
  await browser?.close();
});

async function newPage(viewport, storageState) {
  const phone = viewport.width < 600;
  const context = await browser.newContext({
    viewport,
    storageState,
    isMobile: phone,
    hasTouch: phone,
    deviceScaleFactor: phone ? 2 : 1,
    locale: "ru-RU",
    timezoneId: "Europe/Moscow",
  });
  context.setDefaultTimeout(ACTION_TIMEOUT);
  context.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT);
  openContexts.add(context);
  context.on("close", () => openContexts.delete(context));
  return context.newPage();
}

async function closePage(page) {
  await page?.context().close();
}

async function signIn(page, url, identifier, password = PASSWORD) {
  await page.goto(url);
  await page.getByTestId("login-identifier").fill(identifier);
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
}

/** The queue is paged; follow "load more" until the row shows up or the queue ends. */
async function findInQueue(page, subject) {
  const row = page.getByTestId("console-ticket-row").filter({ hasText: subject });
  await page.getByTestId("ticket-queue").or(page.getByTestId("queue-empty")).first().waitFor();
  for (let pages = 0; pages < 50; pages++) {
    if ((await row.count()) > 0) return row.first();
    const more = page.getByTestId("queue-load-more");
    if ((await more.count()) === 0) return null;
    const shown = await page.getByTestId("console-ticket-row").count();
    await more.click();
    await page.getByTestId("console-ticket-row").nth(shown).waitFor();
  }
  return null;
}

/**
 * Opens `url` at both sizes with the given session (a storage state; none = signed out), waits
 * for `ready`, and saves `<name>-desktop.png` and `<name>-phone.png`.
 */
async function screenshots(name, url, storageState, ready) {
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    const page = await newPage(viewport, storageState);
    try {
      await page.goto(url);
      await ready(page);
      await page.evaluate(() => document.fonts.ready);
      await page.screenshot({ path: `${SCREENSHOTS}${name}-${size}.png`, fullPage: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${name} at ${size}: page is ${overflow}px wider than the screen`);
    } finally {
      await closePage(page);
    }
  }
}

/**
 * A test in a flow whose steps build on each other: once one fails, the rest are skipped (not
 * failed with follow-on errors), and the failing page is saved as `FAILED-<flow>-<n>.png`.
 */
function flow(name) {
  let broken = false;
  let n = 0;
  const pages = [];
  return {
    pages,
    step(title, fn) {
      const index = ++n;
      test(title, { timeout: STEP_TIMEOUT }, async (t) => {
        if (broken) {
          t.skip("an earlier step of this flow failed");
          return;
        }
        try {
          await fn();
        } catch (error) {
          broken = true;
          await Promise.allSettled(
            pages
              .filter((p) => p && !p.isClosed())
              .map((p, i) => p.screenshot({ path: `${SCREENSHOTS}FAILED-${name}-${index}-${i}.png`, fullPage: true })),
          );
          throw error;
        }
      });
    },
  };
}

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

    // A typo is caught in the form, before anything is sent.
    await page.getByTestId("payment-amount").fill("500,505");
    await page.getByTestId("payment-reference").fill(b.reference);
    await page.getByTestId("payment-submit").click();
    await page.getByTestId("payment-amount-error").waitFor();
    assert.equal(await page.getByTestId("payment-result").count(), 0, "nothing was recorded");

    await page.getByTestId("payment-amount").fill("500");
    await page.getByTestId("payment-method").selectOption("cash");
    await page.getByTestId("payment-submit").click();
    const result = page.locator('[data-testid="payment-result"][data-created="true"]');
    await result.waitFor();
    assert.equal(await page.getByTestId("payment-result-status").getAttribute("data-status"), "active");
    await rowOf(page).waitFor();
    assert.match(await rowOf(page).getByTestId("ledger-amount").innerText(), /^\+500,00\s*₽$/);
    await page.screenshot({ path: `${SCREENSHOTS}${BILLING.slug}-console-payment-recorded-desktop.png`, fullPage: true });

    // The same receipt again (a double click, a retry) changes nothing, and says so.
    await page.getByTestId("payment-amount").fill("500");
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
    assert.match(await rowOf(page).getByTestId("ledger-amount").innerText(), /^\+500,00\s*₽$/);
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
