// Subscribers in the console, in a real browser: staff find a seeded subscriber by part of the
// name, import a small CSV (a first attempt with an error shows the per-line report and saves
// nothing; the fixed file is checked, then imported), find the new subscriber, and block and
// unblock them. Every run imports its own account numbers, so it works on a fresh and on a used
// database. Screenshots at 1280x800 and 390x844 go to e2e/screenshots/subscribers-*.png.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/subscribers.spec.mjs
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import {
  closePage, DESKTOP, flow, newPage, PHONE, runId, SCREENSHOTS, screenshots, signIn, urlFor, useBrowser,
} from "./support.mjs";

useBrowser();

const SLUG = "demo";
const STAFF = "owner@demo.example";
// Account numbers allow letters, digits and dashes: the run id keeps them unique.
const tag = runId.replace(/[^0-9a-z-]/g, "");
const ACCOUNTS = [`E2E-${tag}-1`, `E2E-${tag}-2`];
const header = "account_number;name;email;phone;address;tariff;balance";
const withError = [
  header,
  `${ACCOUNTS[0]};Импортов Первый ${tag};first-${tag}@example.com;;г. Тест, ул. Браузерная, 1;home-100;100,50`,
  `${ACCOUNTS[1]};Импортова Вторая ${tag};not-an-email;;;home-500;0`,
].join("\n");
const fixed = withError.replace("not-an-email", `second-${tag}@example.com`);

/** Chooses the CSV on the import page and checks it (a dry run); returns the report. */
async function check(page, csv) {
  await page.getByTestId("import-file").setInputFiles({
    name: "subscribers.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(csv, "utf8"),
  });
  await page.getByTestId("import-check").click();
  const report = page.getByTestId("import-report");
  await report.waitFor();
  return report;
}

describe("demo: subscriber search and CSV import", { concurrency: false }, () => {
  const s = {};
  const f = flow("subscribers");
  after(async () => {
    await closePage(s.staff);
  });

  f.step("staff find a seeded subscriber by part of the name", async () => {
    const page = (s.staff = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/console"), STAFF);
    await page.getByTestId("nav-console-subscribers").click();
    await page.getByTestId("subscriber-search-input").fill("петро");
    // The box searches after a pause and puts the text in the address; only then are the
    // results the search's (the list before it shows everyone).
    await page.waitForURL(/[?&]q=/);
    await page.locator('[data-testid="subscriber-row"][data-account="100001"]').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="subscriber-row"]').length === 1);
    s.session = await page.context().storageState();
    await screenshots("subscribers-search", urlFor(SLUG, "/console/subscribers?q=%D0%BB%D0%B5%D1%81%D0%BD%D0%B0%D1%8F"), s.session, (p) =>
      p.getByTestId("subscriber-results").waitFor(),
    );
  });

  f.step("a file with an error is reported line by line and nothing is saved", async () => {
    const page = s.staff;
    await page.goto(urlFor(SLUG, "/console/subscribers/import"));
    const report = await check(page, withError);
    assert.equal(await report.getAttribute("data-outcome"), "errors");
    const problem = page.locator('[data-testid="import-error"][data-line="3"]');
    assert.equal(await problem.getAttribute("data-code"), "invalid_email");
    assert.ok(await page.getByTestId("import-commit").isDisabled(), "import stays off while the file has errors");
    await page.screenshot({ path: `${SCREENSHOTS}subscribers-import-errors-desktop.png`, fullPage: true });
    // The same on a phone: no horizontal overflow.
    const phone = await newPage(PHONE, s.session);
    try {
      await phone.goto(urlFor(SLUG, "/console/subscribers/import"));
      await check(phone, withError);
      await phone.evaluate(() => document.fonts.ready);
      await phone.screenshot({ path: `${SCREENSHOTS}subscribers-import-errors-phone.png`, fullPage: true });
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `import report on a phone is ${overflow}px too wide`);
    } finally {
      await closePage(phone);
    }
    await page.goto(urlFor(SLUG, `/console/subscribers?q=${encodeURIComponent(tag)}`));
    await page.getByTestId("subscriber-search-empty").waitFor();
  });

  f.step("the fixed file passes the dry run and is imported", async () => {
    const page = s.staff;
    await page.goto(urlFor(SLUG, "/console/subscribers/import"));
    const report = await check(page, fixed);
    assert.equal(await report.getAttribute("data-outcome"), "checked");
    assert.equal(await page.getByTestId("import-created").innerText(), "2");
    await page.getByTestId("import-commit").click();
    await page.locator('[data-testid="import-report"][data-outcome="committed"]').waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}subscribers-import-done-desktop.png`, fullPage: true });
  });

  f.step("the new subscriber is found, opened, blocked and unblocked", async () => {
    const page = s.staff;
    await page.goto(urlFor(SLUG, "/console/subscribers"));
    await page.getByTestId("subscriber-search-input").fill(`Первый ${tag}`);
    await page.waitForURL(/[?&]q=/);
    const row = page.locator(`[data-testid="subscriber-row"][data-account="${ACCOUNTS[0]}"]`);
    await row.waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="subscriber-row"]').length === 1);
    await row.getByTestId("subscriber-link").click();
    await page.getByTestId("subscriber-profile").waitFor();
    assert.match(await page.getByTestId("subscriber-address").innerText(), /Браузерная/);
    await page.getByTestId("subscriber-block").click();
    await page.getByTestId("subscriber-staff-blocked").waitFor();
    await page.locator('[data-testid="subscriber-summary"][data-status="blocked"]').waitFor();
    await page.getByTestId("subscriber-unblock").click();
    await page.getByTestId("subscriber-block").waitFor();
    await page.locator('[data-testid="subscriber-summary"][data-status="active"]').waitFor();
    await screenshots(
      "subscribers-subscriber",
      urlFor(SLUG, `/console/subscribers/${ACCOUNTS[0]}`),
      s.session,
      (p) => p.getByTestId("subscriber-profile").waitFor(),
    );
  });
});
