// The ISP's own ticket categories in a real browser: under Настройки the owner adds a category
// (kind "No connection"), renames it and moves it up; the subscriber picks it on the new-ticket
// form and sees the new name on the ticket; the owner switches it off, after which the form no
// longer offers it while the old ticket keeps its name. The queue's filter lists it too.
// Screenshots at 1280x800 and 390x844 go to e2e/screenshots/ticket-categories-*.png and
// new-ticket-categories-*.png.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/categories.spec.mjs
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import { closePage, DESKTOP, flow, newPage, runId, screenshots, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

const SLUG = "demo";
const STAFF = "owner@demo.example";
const SUBSCRIBER = "100001";
const CODE = `e2e_${runId.replace(/-/g, "_")}`;
const NAME = `Дача ${runId}`;
const RENAMED = `Связь на даче ${runId}`;
const SUBJECT = `Своя категория ${runId}`;

describe("demo: the ISP's own ticket categories", { concurrency: false }, () => {
  const s = {};
  const f = flow("categories");
  after(async () => {
    await closePage(s.staff);
    await closePage(s.subscriber);
  });

  f.step("the owner adds a category under Настройки, renames it and moves it up", async () => {
    const page = (s.staff = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/console"), STAFF);
    await page.getByTestId("nav-console-settings").click();
    await page.getByTestId("settings-ticket-categories").click();
    await page.getByTestId("ticket-categories-list").waitFor();
    const builtIns = await page.getByTestId("ticket-category-row").count();
    assert.ok(builtIns >= 9, "the nine built-ins are listed");

    await page.getByTestId("ticket-category-code").fill(CODE);
    await page.getByTestId("ticket-category-kind").selectOption("connectivity");
    await page.getByTestId("ticket-category-new-ru").fill(NAME);
    await page.getByTestId("ticket-category-create").click();
    const row = page.locator(`[data-testid="ticket-category-row"][data-code="${CODE}"]`);
    await row.getByTestId("ticket-category-name").filter({ hasText: NAME }).waitFor();

    await row.getByTestId("ticket-category-rename").click();
    await row.getByTestId("ticket-category-name-ru").fill(RENAMED);
    await row.getByTestId("ticket-category-save").click();
    await row.getByTestId("ticket-category-name").filter({ hasText: RENAMED }).waitFor();

    const codes = () =>
      page.getByTestId("ticket-category-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-code")));
    const before = (await codes()).indexOf(CODE);
    await row.getByTestId("ticket-category-up").click();
    await page.waitForFunction(
      ([code, index]) =>
        [...document.querySelectorAll('[data-testid="ticket-category-row"]')].findIndex(
          (r) => r.getAttribute("data-code") === code,
        ) === index,
      [CODE, before - 1],
    );
    // The order survives a reload.
    await page.reload();
    await page.getByTestId("ticket-categories-list").waitFor();
    await page.locator(`[data-testid="ticket-category-row"][data-code="${CODE}"]`).waitFor();
    assert.equal((await codes()).indexOf(CODE), before - 1);
    s.session = await page.context().storageState();
    await screenshots("ticket-categories", urlFor(SLUG, "/console/settings/ticket-categories"), s.session, (p) =>
      p.locator(`[data-testid="ticket-category-row"][data-code="${CODE}"]`).waitFor(),
    );
  });

  f.step("the subscriber opens a ticket in it and sees its name", async () => {
    const page = (s.subscriber = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/"), SUBSCRIBER);
    await page.getByTestId("dashboard-new-ticket").click();
    const picker = page.getByTestId("new-ticket-category");
    await picker.locator(`option[value="${CODE}"]`).waitFor({ state: "attached" });
    assert.equal((await picker.locator(`option[value="${CODE}"]`).textContent())?.trim(), RENAMED);
    await picker.selectOption(CODE);
    await page.getByTestId("new-ticket-subject").fill(SUBJECT);
    await page.getByTestId("new-ticket-description").fill(`Created by the browser test, run ${runId}.`);
    await page.getByTestId("new-ticket-submit").click();
    await page.getByTestId("ticket-subject").filter({ hasText: SUBJECT }).waitFor();
    await page.getByTestId("ticket-category").filter({ hasText: RENAMED }).waitFor();
    s.ticketUrl = page.url();
    s.subscriberSession = await page.context().storageState();
    await screenshots("new-ticket-categories", urlFor(SLUG, "/tickets/new"), s.subscriberSession, (p) =>
      p.locator(`[data-testid="new-ticket-category"] option[value="${CODE}"]`).waitFor({ state: "attached" }),
    );
  });

  f.step("staff filter the queue by it", async () => {
    const page = s.staff;
    await page.goto(urlFor(SLUG, "/console/tickets"));
    const filter = page.getByTestId("queue-category-filter");
    await filter.locator(`option[value="${CODE}"]`).waitFor({ state: "attached" });
    await filter.selectOption(CODE);
    const row = page.getByTestId("console-ticket-row").filter({ hasText: SUBJECT });
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(RENAMED));
    assert.equal(await page.getByTestId("console-ticket-row").count(), 1);
  });

  f.step("switched off: gone from the form, kept by the old ticket", async () => {
    const staff = s.staff;
    await staff.goto(urlFor(SLUG, "/console/settings/ticket-categories"));
    const row = staff.locator(`[data-testid="ticket-category-row"][data-code="${CODE}"]`);
    await row.getByTestId("ticket-category-toggle").click();
    await row.getByTestId("ticket-category-off").waitFor();

    const page = s.subscriber;
    await page.goto(urlFor(SLUG, "/tickets/new"));
    const picker = page.getByTestId("new-ticket-category");
    await picker.locator('option[value="connectivity"]').waitFor({ state: "attached" });
    // The list is fetched fresh on a new page load.
    await page.waitForLoadState("networkidle");
    assert.equal(await picker.locator(`option[value="${CODE}"]`).count(), 0);
    await page.goto(s.ticketUrl);
    await page.getByTestId("ticket-category").filter({ hasText: RENAMED }).waitFor();
  });
});
