// The catalogue editor in a real browser: the demo ISP's owner creates a tariff in the console
// (a bad price is caught on the form first), the subscriber sees it on their tariff page on the
// same ISP host, the owner changes its price and the subscriber sees the new one; archiving
// takes it off the subscriber's page again (also when a step fails, so reruns start clean).
// Screenshots at 1280x800 and 390x844 go to e2e/screenshots/catalogue-*.png.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/catalogue.spec.mjs
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import { closePage, DESKTOP, flow, moneyPattern, newPage, runId, screenshots, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

const SLUG = "demo";
const STAFF = "owner@demo.example";
const SUBSCRIBER = "100001";
const CODE = `e2e-${runId}`.toLowerCase().replace(/[^a-z0-9_-]/g, "-").slice(0, 64);
const NAME = `Гига ${runId}`;

async function archive(page) {
  await page.goto(urlFor(SLUG, "/console/catalogue"));
  const mine = page.locator(`[data-testid="catalogue-tariff-row"][data-code="${CODE}"][data-active="true"]`);
  await page.getByTestId("catalogue-tariffs").waitFor();
  if ((await mine.count()) > 0) {
    await mine.getByTestId("catalogue-archive").click();
    await page.locator(`[data-testid="catalogue-tariff-row"][data-code="${CODE}"][data-active="false"]`).waitFor();
  }
}

describe("demo: tariffs edited in the console reach the subscriber's tariff page", { concurrency: false }, () => {
  const s = {};
  const f = flow("catalogue");
  after(async () => {
    if (s.staff && !s.archived) await archive(s.staff).catch(() => undefined);
    await closePage(s.staff);
    await closePage(s.subscriber);
  });

  f.step("the owner creates a tariff in the catalogue", async () => {
    const page = (s.staff = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/console"), STAFF);
    await page.getByTestId("nav-console-catalogue").click();
    await page.getByTestId("catalogue-tariffs").waitFor();
    await page.getByTestId("catalogue-new-tariff").click();
    await page.getByTestId("catalogue-code").fill(CODE);
    await page.getByTestId("catalogue-name").fill(NAME);
    await page.getByTestId("catalogue-price").fill("12,345");
    await page.getByTestId("catalogue-speed").fill("1000");
    await page.getByTestId("catalogue-save").click();
    // Three decimals are caught on the form, before anything is sent.
    await page.getByTestId("catalogue-tariff-form").locator(".field__error").first().waitFor();
    await page.getByTestId("catalogue-price").fill("1 299,00");
    await page.getByTestId("catalogue-upload").fill("500");
    await page.getByTestId("catalogue-save").click();
    await page.getByTestId("catalogue-saved").waitFor();
    const row = page.locator(`[data-testid="catalogue-tariff-row"][data-code="${CODE}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), new RegExp(moneyPattern(1299_00)));
    assert.match(await row.textContent(), /1000 \/ 500/);
    s.session = await page.context().storageState();
    await screenshots("catalogue", urlFor(SLUG, "/console/catalogue"), s.session, (p) =>
      p.locator(`[data-testid="catalogue-tariff-row"][data-code="${CODE}"]`).waitFor(),
    );
  });

  f.step("the subscriber sees the new tariff on the same ISP host", async () => {
    const page = (s.subscriber = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/"), SUBSCRIBER);
    await page.getByTestId("nav-tariff").click();
    const offer = page.locator(`[data-testid="tariff-offer"][data-code="${CODE}"]`);
    await offer.waitFor();
    assert.match(await offer.textContent(), new RegExp(NAME));
    assert.match(await offer.getByTestId("tariff-price").textContent(), new RegExp(moneyPattern(1299_00)));
  });

  f.step("a new price shows to the subscriber; the edit form and the add-ons tab fit a phone", async () => {
    const page = s.staff;
    await page.goto(urlFor(SLUG, "/console/catalogue"));
    const row = page.locator(`[data-testid="catalogue-tariff-row"][data-code="${CODE}"]`);
    await row.getByTestId("catalogue-edit").click();
    assert.equal(await page.getByTestId("catalogue-code").isDisabled(), true);
    await page.getByTestId("catalogue-price").fill("999");
    await page.getByTestId("catalogue-save").click();
    await page.getByTestId("catalogue-saved").waitFor();
    await row.filter({ hasText: new RegExp(moneyPattern(999_00)) }).waitFor();

    await s.subscriber.reload();
    const offer = s.subscriber.locator(`[data-testid="tariff-offer"][data-code="${CODE}"]`);
    await offer.getByTestId("tariff-price").filter({ hasText: new RegExp(moneyPattern(999_00)) }).waitFor();

    await screenshots("catalogue-edit", urlFor(SLUG, "/console/catalogue"), s.session, async (p) => {
      await p.locator(`[data-testid="catalogue-tariff-row"][data-code="${CODE}"]`).getByTestId("catalogue-edit").click();
      await p.getByTestId("catalogue-tariff-form").waitFor();
    });
    await screenshots("catalogue-addons", urlFor(SLUG, "/console/catalogue/addons"), s.session, (p) =>
      p.getByTestId("catalogue-addons").waitFor(),
    );
    await screenshots("catalogue-equipment", urlFor(SLUG, "/console/catalogue/equipment"), s.session, (p) =>
      p.getByTestId("catalogue-equipment").waitFor(),
    );
  });

  f.step("archived, the tariff leaves the subscriber's page", async () => {
    await archive(s.staff);
    s.archived = true;
    await s.subscriber.reload();
    await s.subscriber.getByTestId("tariff-offer").first().waitFor();
    assert.equal(await s.subscriber.locator(`[data-testid="tariff-offer"][data-code="${CODE}"]`).count(), 0);
  });
});
