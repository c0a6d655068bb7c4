// The operator's platform view in a real browser: after traffic on a demo ISP's host, the view
// shows that ISP's requests within the flush interval (about ten seconds), the per-minute chart
// and the database size; the window switch refetches. Screenshots at 1280x800 and 390x844 go to
// e2e/screenshots/platform-*.png.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/platform.spec.mjs
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import { closePage, DESKTOP, flow, newPage, screenshots, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

describe("the operator's platform view", { concurrency: false }, () => {
  const s = {};
  const f = flow("platform");
  after(async () => {
    await closePage(s.operator);
  });

  f.step("requests on an ISP's host show up in the view", async () => {
    // Traffic the view must count: the northnet portal, then five more reads of its site.
    const portal = await newPage(DESKTOP);
    try {
      await portal.goto(urlFor("northnet", "/"));
      const statuses = await portal.evaluate(async () => {
        const out = [];
        for (let i = 0; i < 5; i += 1) out.push((await fetch("/api/v1/site")).status);
        return out;
      });
      assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
    } finally {
      await closePage(portal);
    }
    const page = (s.operator = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor("admin", "/"), "operator@kabinet.example");
    await page.getByTestId("nav-platform-metrics").click();
    await page.getByTestId("metrics-requests").waitFor();
    const row = page.locator('[data-testid="metrics-tenant"][data-slug="northnet"]');
    await row.waitFor();
    // The page refetches every 15 s; counts reach the database every 10 s.
    await page.waitForFunction(
      () => {
        const cell = document.querySelector('[data-testid="metrics-tenant"][data-slug="northnet"] [data-testid="metrics-tenant-requests"]');
        return cell && Number(cell.textContent.replace(/\D/g, "")) >= 5;
      },
      undefined,
      { timeout: 45_000 },
    );
    await page.getByTestId("metrics-chart").waitFor();
    assert.match(await page.getByTestId("metrics-database").innerText(), /[KMG]iB/);
    // Another window refetches and keeps the rows.
    await page.getByTestId("metrics-window-1440").click();
    assert.equal(await page.getByTestId("metrics-window-1440").getAttribute("aria-pressed"), "true");
    await row.waitFor();
    await screenshots("platform-metrics", urlFor("admin", "/metrics"), await page.context().storageState(), (p) =>
      p.getByTestId("metrics-chart").waitFor(),
    );
  });
});
