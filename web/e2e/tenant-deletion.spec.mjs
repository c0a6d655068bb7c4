// Exporting and deleting an ISP in a real browser: the operator exports all of northnet's data
// (the archive is built in the background and downloadable), schedules the deletion with a
// reason (northnet is suspended at once, the row shows the countdown) and cancels it (northnet is
// active again). The ISP owner downloads the manifest from the console's settings. Screenshots at
// 1280x800 and 390x844 go to e2e/screenshots/tenant-deletion-*.png.
//
// Other specs use northnet: whatever fails, `after` cancels a deletion still scheduled and puts
// northnet's status back to what it was when the spec started. Node cannot resolve
// *.localhost, so every request to northnet's host goes through a browser page.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/tenant-deletion.spec.mjs
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import { apiGet, closePage, DESKTOP, flow, newPage, runId, screenshots, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

const SLUG = "northnet";
const OPERATOR = "operator@kabinet.example";
const REASON = `E2E ${runId}: договор расторгнут по заявлению`;
const rowSelector = `[data-testid="tenant-row"][data-slug="${SLUG}"]`;

/** The status northnet's portal answers with, asked from a browser page. */
async function portalStatus() {
  const page = await newPage(DESKTOP);
  try {
    const response = await page.goto(urlFor(SLUG, "/api/v1/site"));
    return response?.status() ?? 0;
  } finally {
    await closePage(page);
  }
}

/** Waits (up to 10 s: nodes drop their host cache on a notification) until `ok(status)`. */
async function waitForPortal(ok, what) {
  let status = 0;
  for (let i = 0; i < 40; i++) {
    status = await portalStatus();
    if (ok(status)) return status;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.fail(`the portal answers ${status}, expected ${what}`);
}

/** Northnet's row in the operator's tenant list, as the API gives it. */
async function tenantRow(page) {
  const list = await apiGet(page, `/platform/tenants?q=${SLUG}`);
  const row = list.items.find((item) => item.slug === SLUG);
  assert.ok(row, `${SLUG} is in the operator's tenant list`);
  return row;
}

/**
 * Puts northnet back as `initial` found it: cancels a deletion still scheduled (which restores
 * the status it had before), then resumes or suspends it if its status still differs.
 */
async function restore(page, initial) {
  await page.evaluate(
    async ({ slug, status, reason }) => {
      const session = await (await fetch("/api/v1/session")).json();
      const headers = { "content-type": "application/json", "x-csrf-token": session.csrf_token };
      const base = `/api/v1/platform/tenants/${slug}`;
      const deletion = await (await fetch(`${base}/deletion`)).json();
      if (deletion.deletion?.state === "scheduled") {
        const r = await fetch(`${base}/deletion`, { method: "DELETE", headers });
        if (!r.ok) throw new Error(`cancel the deletion: ${r.status}`);
      }
      const list = await (await fetch(`/api/v1/platform/tenants?q=${slug}`)).json();
      const now = list.items.find((item) => item.slug === slug);
      if (now.status === status) return;
      const r =
        status === "active"
          ? await fetch(`${base}/resume`, { method: "POST", headers })
          : await fetch(`${base}/suspend`, { method: "POST", headers, body: JSON.stringify({ reason }) });
      if (!r.ok) throw new Error(`put ${slug} back to ${status}: ${r.status}`);
    },
    { slug: SLUG, status: initial.status, reason: initial.suspended_reason ?? "E2E: restored" },
  );
  const after = await tenantRow(page);
  assert.equal(after.status, initial.status, `${SLUG} is ${initial.status} again`);
  assert.equal(after.suspended_reason ?? null, initial.suspended_reason ?? null);
}

describe("tenant export and deletion with a grace period", { concurrency: false }, () => {
  const s = {};
  const f = flow("tenant-deletion");
  after(async () => {
    // Never leave northnet scheduled for deletion or suspended, whatever failed; a page of its
    // own, since the flow's page may be broken.
    const page = await newPage(DESKTOP);
    try {
      await signIn(page, urlFor("admin", "/"), OPERATOR);
      await page.getByTestId("tenant-table").waitFor();
      if (s.initial) await restore(page, s.initial);
    } finally {
      await closePage(page);
      await closePage(s.operator);
      await closePage(s.owner);
    }
  });

  f.step("the operator exports all of the ISP's data", async () => {
    const page = (s.operator = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor("admin", "/"), OPERATOR);
    const row = page.locator(rowSelector);
    const schedule = row.getByTestId("tenant-deletion-schedule");
    await schedule.waitFor();
    s.initial = await tenantRow(page);
    assert.equal(s.initial.status, "active", `${SLUG} starts active`);
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
    const row = page.locator(rowSelector);
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
    await page.locator(`${rowSelector}[data-status="suspended"]`).waitFor();
    const status = await apiGet(page, `/platform/tenants/${SLUG}/deletion`);
    assert.equal(status.deletion.state, "scheduled");
    assert.equal(status.deletion.reason, REASON);
    // The portal is closed at once.
    await waitForPortal((status) => status >= 400, "a refusal");
    await screenshots("tenant-deletion-scheduled", urlFor("admin", "/"), await page.context().storageState(), (p) =>
      p.locator(`[data-testid="tenant-row"][data-slug="${SLUG}"] [data-testid="tenant-deletion-scheduled"]`).waitFor(),
    );
  });

  f.step("the operator cancels the deletion; the ISP is active again", async () => {
    const page = s.operator;
    const row = page.locator(rowSelector);
    await row.getByTestId("tenant-deletion-cancel").click();
    await page.waitForFunction(
      (slug) => document.querySelector(`[data-testid="tenant-row"][data-slug="${slug}"]`)?.getAttribute("data-status") === "active",
      SLUG,
    );
    // The list and the deletion state are fetched again separately: wait for both.
    await row.getByTestId("tenant-deletion-scheduled").waitFor({ state: "detached" });
    const status = await apiGet(page, `/platform/tenants/${SLUG}/deletion`);
    assert.equal(status.deletion.state, "cancelled");
    await waitForPortal((status) => status === 200, "200");
    const now = await tenantRow(page);
    assert.equal(now.suspended_reason ?? null, s.initial.suspended_reason ?? null);
  });

  f.step("the ISP's owner downloads the manifest from the settings", async () => {
    const page = (s.owner = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/console"), `owner@${SLUG}.example`);
    await page.getByTestId("nav-console-settings").click();
    const link = page.getByTestId("settings-manifest-download");
    await link.waitFor();
    // Northnet's portal speaks English by default (`default_locale = "en"` in its manifest).
    assert.match(await link.innerText(), /Download manifest|Скачать манифест/);
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
