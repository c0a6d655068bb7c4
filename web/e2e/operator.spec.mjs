// Operator support in a real browser: the operator enters the demo ISP's console from the
// operator console with a reason and a time box, lands in the console with the banner on every
// page, and ends the visit; the ISP's owner then finds it in «Визиты поддержки». Screenshots at
// 1280x800 and 390x844 go to e2e/screenshots/operator-*.png.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/operator.spec.mjs
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import { apiGet, closePage, DESKTOP, flow, newPage, runId, screenshots, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

const SLUG = "demo";
const OWNER = "owner@demo.example";
const REASON = `Обращение E2E ${runId}: не открываются тарифы`;

describe("operator support: impersonation with a banner, visible to the owner", { concurrency: false }, () => {
  const s = {};
  const f = flow("operator");
  after(async () => {
    await closePage(s.operator);
    await closePage(s.owner);
  });

  f.step("the operator enters the ISP's console with a reason and a time box", async () => {
    const page = (s.operator = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor("admin", "/"), "operator@kabinet.example");
    const row = page.locator(`[data-testid="tenant-row"][data-slug="${SLUG}"]`);
    await row.getByTestId("tenant-impersonate").click();
    const confirm = page.getByTestId("impersonate-confirm");
    // Without a reason there is nothing to submit.
    assert.equal(await confirm.isDisabled(), true);
    await page.getByTestId("impersonate-reason").fill(REASON);
    await page.getByTestId("impersonate-minutes").selectOption("30");
    await page.screenshot({ path: new URL("./screenshots/operator-impersonate-dialog-desktop.png", import.meta.url).pathname });
    await confirm.click();
    // The browser goes to the ISP's host and the token is exchanged for a console session.
    await page.waitForURL((url) => url.hostname.startsWith(`${SLUG}.`) && url.pathname === "/console/tickets");
    assert.equal(new URL(page.url()).hash, "", "the token does not stay in the address bar");
    const banner = page.getByTestId("impersonation-banner");
    await banner.waitFor();
    const text = await banner.innerText();
    assert.match(text, /оператор платформы/);
    assert.ok(text.includes(REASON), "the banner names the reason");
    const session = await apiGet(page, "/session");
    assert.equal(session.impersonation.reason, REASON);
    assert.equal(session.impersonation.access, "read_only");
    assert.ok(!session.permissions.includes("staff.manage"));
    // The banner stays on every page.
    await page.getByTestId("nav-console-subscribers").click();
    await page.waitForURL((url) => url.pathname.startsWith("/console/subscribers"));
    await banner.waitFor();
    s.visit = await page.context().storageState();
    await screenshots("operator-banner", urlFor(SLUG, "/console/tickets"), s.visit, (p) =>
      p.getByTestId("impersonation-banner").waitFor(),
    );
  });

  f.step("the operator ends the visit from the banner", async () => {
    const page = s.operator;
    await page.getByTestId("impersonation-end").click();
    await page.getByTestId("login-identifier").waitFor();
    const status = await page.evaluate(async () => (await fetch("/api/v1/session")).status);
    assert.equal(status, 401);
  });

  f.step("the owner sees the visit in the list", async () => {
    const page = (s.owner = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/console"), OWNER);
    await page.getByTestId("nav-console-settings").click();
    await page.getByTestId("nav-console-impersonations").click();
    const row = page.getByTestId("impersonation-row").filter({ hasText: REASON });
    await row.waitFor();
    assert.equal(await row.getAttribute("data-active"), "false");
    assert.match(await row.getByTestId("impersonation-state").innerText(), /вышел/);
    const log = await apiGet(page, `/console/audit?action=impersonation.start`);
    assert.ok(log.items.some((e) => e.details.reason === REASON && e.actor.kind === "operator"));
    await screenshots("operator-visits", urlFor(SLUG, "/console/impersonations"), await page.context().storageState(), (p) =>
      p.getByTestId("impersonation-row").first().waitFor(),
    );
  });
});
