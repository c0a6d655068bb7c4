// The walking skeleton, end to end in a real browser, for two ISPs on one deployment:
// a subscriber opens a ticket, that ISP's staff answers it, the subscriber reads the answer,
// and the other ISP's staff never sees it.
//
//   npm run test:e2e                       (backend on :8080 serving web/dist)
//   KABINET_URL_TEMPLATE=http://{slug}.localhost:5173 npm run test:e2e   (against vite dev)
//
// Chromium resolves *.localhost to loopback by itself, so no /etc/hosts entries are needed.
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { chromium } from "playwright-core";

const URL_TEMPLATE = process.env.KABINET_URL_TEMPLATE ?? "http://{slug}.localhost:8080";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = new URL("./screenshots/", import.meta.url).pathname;
const PASSWORD = "demo-password";
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

const ISPS = [
  { slug: "demo", subscriber: "100001", staff: "owner@demo.example" },
  { slug: "northnet", subscriber: "200001", staff: "owner@northnet.example" },
];

const urlFor = (slug, path = "/") => URL_TEMPLATE.replace("{slug}", slug) + path;
const runId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

/** @type {import("playwright-core").Browser} */
let browser;

before(async () => {
  await mkdir(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
});

after(async () => {
  await browser?.close();
});

async function newPage(viewport, storageState) {
  const context = await browser.newContext({
    viewport,
    storageState,
    isMobile: viewport.width < 600,
    hasTouch: viewport.width < 600,
    deviceScaleFactor: viewport.width < 600 ? 2 : 1,
    locale: "ru-RU",
  });
  context.setDefaultTimeout(15_000);
  return context.newPage();
}

async function signIn(page, url, identifier) {
  await page.goto(url);
  await page.getByTestId("login-identifier").fill(identifier);
  await page.getByTestId("login-password").fill(PASSWORD);
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

async function screenshot(page, name) {
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
}

/** Per ISP: what the steps hand to each other. */
const state = {};

for (const isp of ISPS) {
  describe(`${isp.slug}: subscriber ticket answered by staff`, { concurrency: false }, () => {
    const s = (state[isp.slug] = {
      subject: `E2E ${isp.slug} ${runId}`,
      reply: `Staff reply for ${isp.slug} ${runId}`,
    });

    after(async () => {
      await s.subscriber?.context().close();
      await s.staff?.context().close();
    });

    test("subscriber signs in and sees balance, tariff and the ISP's name", async () => {
      const page = (s.subscriber = await newPage(DESKTOP));
      await signIn(page, urlFor(isp.slug, "/"), isp.subscriber);

      const balance = page.getByTestId("dashboard-balance");
      await balance.waitFor();
      assert.match(await balance.innerText(), /\d/, "balance shows an amount");
      assert.notEqual((await page.getByTestId("dashboard-tariff").innerText()).trim(), "", "tariff is shown");

      const site = await page.evaluate(() => fetch("/api/v1/site").then((r) => r.json()));
      assert.equal(site.kind, "tenant");
      assert.equal(site.branding.slug, isp.slug);
      assert.equal((await page.getByTestId("brand-name").innerText()).trim(), site.branding.name);
      await screenshot(page, `${isp.slug}-dashboard-desktop`);
    });

    test("subscriber opens a ticket and finds it in the list", async () => {
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

    test("staff finds the ticket in the console queue and replies", async () => {
      const page = (s.staff = await newPage(DESKTOP));
      await signIn(page, urlFor(isp.slug, "/console"), isp.staff);

      const row = await findInQueue(page, s.subject);
      assert.ok(row, `ticket "${s.subject}" is in ${isp.slug}'s queue`);
      await screenshot(page, `${isp.slug}-console-desktop`);
      await row.getByTestId("console-ticket-link").click();

      await page.getByTestId("ticket-subject").filter({ hasText: s.subject }).waitFor();
      assert.notEqual((await page.getByTestId("ticket-subscriber-name").innerText()).trim(), "");
      await page.getByTestId("reply-body").fill(s.reply);
      await page.getByTestId("reply-submit").click();
      await page.getByTestId("message-body").filter({ hasText: s.reply }).waitFor();
    });

    test("subscriber reloads the ticket and reads the reply", async () => {
      const page = s.subscriber;
      await page.goto(s.ticketUrl);
      await page.getByTestId("message-body").filter({ hasText: s.reply }).waitFor();
    });

    test("dashboard and console look right on a phone", async () => {
      const phone = await newPage(PHONE, await s.subscriber.context().storageState());
      await phone.goto(urlFor(isp.slug, "/"));
      await phone.getByTestId("dashboard-balance").waitFor();
      await screenshot(phone, `${isp.slug}-dashboard-phone`);
      await phone.context().close();

      const staffPhone = await newPage(PHONE, await s.staff.context().storageState());
      await staffPhone.goto(urlFor(isp.slug, "/console"));
      await staffPhone.getByTestId("console-ticket-row").first().waitFor();
      await screenshot(staffPhone, `${isp.slug}-console-phone`);
      await staffPhone.context().close();
    });
  });
}

describe("tenant isolation", () => {
  test("northnet staff neither list nor open demo's ticket", async () => {
    const demo = state.demo;
    assert.ok(demo?.ticketId, "the demo flow created a ticket");
    const page = await newPage(DESKTOP);
    try {
      await signIn(page, urlFor("northnet", "/console"), "owner@northnet.example");
      assert.equal(await findInQueue(page, demo.subject), null, "demo's ticket is not in northnet's queue");
      assert.equal(await page.getByText(demo.subject).count(), 0);

      const status = await page.evaluate(
        (id) => fetch(`/api/v1/console/tickets/${id}`, { credentials: "include" }).then((r) => r.status),
        demo.ticketId,
      );
      assert.equal(status, 404, "another ISP's ticket is simply not found");
    } finally {
      await page.context().close();
    }
  });
});
