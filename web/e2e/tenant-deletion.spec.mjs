// Exporting and deleting an ISP in a real browser: the operator exports all of northnet's data
// (the archive is built in the background and downloadable), schedules the deletion with a
// reason (northnet is suspended at once, the row shows the countdown) and cancels it (northnet is
// active again). The ISP owner downloads the manifest from the console's settings. Screenshots at
// 1280x800 and 390x844 go to e2e/screenshots/tenant-deletion-*.png.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/tenant-deletion.spec.mjs
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import { apiGet, closePage, DESKTOP, flow, newPage, runId, screenshots, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

const SLUG = "northnet";
const REASON = `E2E ${runId}: договор расторгнут по заявлению`;

describe("tenant export and deletion with a grace period", { concurrency: false }, () => {
  const s = {};
  const f = flow("tenant-deletion");
  after(async () => {
    // Never leave northnet scheduled for deletion, whatever failed.
    if (s.operator && !s.operator.isClosed()) {
      await s.operator.evaluate(async (slug) => {
        const session = await (await fetch("/api/v1/session")).json();
        await fetch(`/api/v1/platform/tenants/${slug}/deletion`, {
          method: "DELETE",
          headers: { "X-CSRF-Token": session.csrf_token },
        });
      }, SLUG);
    }
    await closePage(s.operator);
    await closePage(s.owner);
  });

  f.step("the operator exports all of the ISP's data", async () => {
    const page = (s.operator = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor("admin", "/"), "operator@kabinet.example");
    const row = page.locator(`[data-testid="tenant-row"][data-slug="${SLUG}"]`);
    const schedule = row.getByTestId("tenant-deletion-schedule");
    await schedule.waitFor();
    const before = await apiGet(page, `/platform/tenants/${SLUG}/deletion`);
    if (!before.can_schedule) assert.equal(await schedule.isDisabled(), true, "no deletion without an export");
    await row.getByTestId("tenant-export").click();
    const state = row.getByTestId("tenant-export-state");
    await page.waitForFunction(
      (slug) =>
        document
          .querySelector(`[data-testid="tenant-row"][data-slug="${slug}"] [data-testid="tenant-export-state"]`)
          ?.getAttribute("data-state") === "done",
      SLUG,
      { timeout: 30_000 },
    );
    assert.match(await state.innerText(), /готова/);
    const link = row.getByTestId("tenant-export-download");
    const href = await link.getAttribute("href");
    const download = await page.evaluate(async (url) => {
      const r = await fetch(url);
      const bytes = new Uint8Array(await r.arrayBuffer());
      return { status: r.status, type: r.headers.get("content-type"), magic: [bytes[0], bytes[1]], size: bytes.length };
    }, href);
    assert.equal(download.status, 200);
    assert.equal(download.type, "application/gzip");
    assert.deepEqual(download.magic, [0x1f, 0x8b], "a gzip archive");
    assert.ok(download.size > 1000);
    await page.waitForFunction(
      (slug) =>
        !document.querySelector(`[data-testid="tenant-row"][data-slug="${slug}"] [data-testid="tenant-deletion-schedule"]`)
          ?.disabled,
      SLUG,
    );
  });

  f.step("the operator schedules the deletion with a reason; the ISP is suspended", async () => {
    const page = s.operator;
    const row = page.locator(`[data-testid="tenant-row"][data-slug="${SLUG}"]`);
    await row.getByTestId("tenant-deletion-schedule").click();
    const confirm = page.getByTestId("deletion-confirm");
    await page.getByTestId("deletion-reason").fill("коротко");
    assert.equal(await confirm.isDisabled(), true, "a reason of at least 10 characters");
    await page.getByTestId("deletion-reason").fill(REASON);
    await page.getByTestId("deletion-days").fill("30");
    await page.screenshot({ path: new URL("./screenshots/tenant-deletion-dialog-desktop.png", import.meta.url).pathname });
    await confirm.click();
    await row.getByTestId("tenant-deletion-scheduled").waitFor();
    assert.match(await row.getByTestId("tenant-deletion-countdown").innerText(), /осталось дней: 30/);
    assert.equal(await row.getAttribute("data-status"), "suspended");
    const status = await apiGet(page, `/platform/tenants/${SLUG}/deletion`);
    assert.equal(status.deletion.state, "scheduled");
    assert.equal(status.deletion.reason, REASON);
    // The portal is closed at once.
    const portal = await page.context().request.get(urlFor(SLUG, "/api/v1/site"));
    assert.ok(portal.status() >= 400, `the portal answers ${portal.status()}`);
    await screenshots("tenant-deletion-scheduled", urlFor("admin", "/"), await page.context().storageState(), (p) =>
      p.locator(`[data-testid="tenant-row"][data-slug="${SLUG}"] [data-testid="tenant-deletion-scheduled"]`).waitFor(),
    );
  });

  f.step("the operator cancels the deletion; the ISP is active again", async () => {
    const page = s.operator;
    const row = page.locator(`[data-testid="tenant-row"][data-slug="${SLUG}"]`);
    await row.getByTestId("tenant-deletion-cancel").click();
    await page.waitForFunction(
      (slug) => document.querySelector(`[data-testid="tenant-row"][data-slug="${slug}"]`)?.getAttribute("data-status") === "active",
      SLUG,
    );
    assert.equal(await row.getByTestId("tenant-deletion-scheduled").count(), 0);
    const status = await apiGet(page, `/platform/tenants/${SLUG}/deletion`);
    assert.equal(status.deletion.state, "cancelled");
    const portal = await page.context().request.get(urlFor(SLUG, "/api/v1/site"));
    assert.equal(portal.status(), 200);
  });

  f.step("the ISP's owner downloads the manifest from the settings", async () => {
    const page = (s.owner = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/console"), `owner@${SLUG}.example`);
    await page.getByTestId("nav-console-settings").click();
    const link = page.getByTestId("settings-manifest-download");
    await link.waitFor();
    assert.match(await link.innerText(), /Скачать манифест/);
    const manifest = await page.evaluate(async (url) => {
      const r = await fetch(url);
      return { status: r.status, text: await r.text() };
    }, await link.getAttribute("href"));
    assert.equal(manifest.status, 200);
    assert.match(manifest.text, new RegExp(`slug = "${SLUG}"`));
    await screenshots("tenant-deletion-manifest", urlFor(SLUG, "/console/settings"), await page.context().storageState(), (p) =>
      p.getByTestId("settings-manifest-download").waitFor(),
    );
  });
});
