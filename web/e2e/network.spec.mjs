// Network integration in a real browser: staff register a NAS (its RADIUS secret is shown once
// and never in the list), give a subscriber a PPPoE service login on the subscriber page, and
// the subscriber opens "My connection" (sessions and traffic per day). Every run uses its own
// NAS address and login, so it works on a fresh and on a used database. Screenshots at
// 1280x800 and 390x844 go to e2e/screenshots/network-*.png.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/network.spec.mjs
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import { closePage, DESKTOP, flow, newPage, runId, screenshots, SCREENSHOTS, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

const SLUG = "demo";
const STAFF = "owner@demo.example";
const SUBSCRIBER = "100001";
const octet = () => 1 + Math.floor(Math.random() * 250);
// Documentation-free private space, random per run: NAS addresses are unique platform-wide.
const ADDRESS = `10.${octet()}.${octet()}.${octet()}`;
const NAS_NAME = `bras-${runId}`;
const LOGIN = `e2e-${runId}`;

describe("demo: NAS, service logins and the subscriber's connection", { concurrency: false }, () => {
  const s = {};
  const f = flow("network");
  after(async () => {
    await closePage(s.staff);
    await closePage(s.subscriber);
  });

  f.step("staff register a NAS and see its secret once", async () => {
    const page = (s.staff = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/console"), STAFF);
    await page.getByTestId("nav-console-network").click();
    await page.getByTestId("nas-name").fill(NAS_NAME);
    await page.getByTestId("nas-address").fill(ADDRESS);
    await page.getByTestId("nas-vendor").selectOption("mikrotik");
    await page.getByTestId("nas-area").fill("Центр");
    await page.getByTestId("nas-submit").click();
    const secret = (await page.getByTestId("nas-secret-value").textContent()) ?? "";
    assert.match(secret, /^[A-Za-z0-9]{24}$/);
    const row = page.getByTestId("nas-row").filter({ hasText: NAS_NAME });
    await row.waitFor();
    assert.ok((await row.textContent())?.includes(ADDRESS));
    assert.ok(!(await page.getByTestId("nas-list").textContent())?.includes(secret), "the list never shows the secret");
    s.staffSession = await page.context().storageState();
    await screenshots("network-console", urlFor(SLUG, "/console/network"), s.staffSession, (p) =>
      p.getByTestId("nas-list").waitFor(),
    );
  });

  f.step("staff give the subscriber a PPPoE login", async () => {
    const page = s.staff;
    await page.goto(urlFor(SLUG, `/console/subscribers/${SUBSCRIBER}`));
    await page.getByTestId("service-logins").waitFor();
    await page.getByTestId("service-login-kind").selectOption("pppoe");
    await page.getByTestId("service-login-username").fill(LOGIN);
    await page.getByTestId("service-login-password").fill(`pw-${runId}`);
    await page.getByTestId("service-login-submit").click();
    await page.getByTestId("service-login-row").filter({ hasText: LOGIN }).waitFor();
    await screenshots("network-subscriber", urlFor(SLUG, `/console/subscribers/${SUBSCRIBER}`), s.staffSession, (p) =>
      p.getByTestId("service-login-list").waitFor(),
    );
  });

  f.step("the subscriber opens their connection page", async () => {
    const page = (s.subscriber = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/"), SUBSCRIBER);
    await page.getByTestId("nav-network").click();
    await page.getByTestId("network-usage").waitFor();
    s.subscriberSession = await page.context().storageState();
    await screenshots("network-cabinet", urlFor(SLUG, "/network"), s.subscriberSession, (p) =>
      p.getByTestId("network-usage").waitFor(),
    );
  });

  f.step("staff edit the NAS, replace its secret and tune RADIUS", async () => {
    const page = s.staff;
    await page.goto(urlFor(SLUG, "/console/network"));
    const row = page.getByTestId("nas-row").filter({ hasText: NAS_NAME });
    await row.getByTestId("nas-edit").click();
    await page.getByTestId("nas-edit-form").waitFor();
    await page.getByTestId("nas-area").fill("Север");
    await page.getByTestId("nas-coa-port").fill("1700");
    await page.getByTestId("nas-submit").click();
    await page.getByTestId("nas-form").waitFor();
    await row.filter({ hasText: "Север" }).waitFor();

    const first = (await page.getByTestId("nas-secret-value").count()) ? await page.getByTestId("nas-secret-value").textContent() : null;
    page.once("dialog", (dialog) => {
      void dialog.accept();
    });
    await row.getByTestId("nas-rotate").click();
    await page.getByTestId("nas-secret").filter({ hasText: NAS_NAME }).waitFor();
    const rotated = (await page.getByTestId("nas-secret-value").textContent()) ?? "";
    assert.match(rotated, /^[A-Za-z0-9]{24}$/);
    assert.notEqual(rotated, first);

    // Debtors into a captive pool, a shorter session: saved, and still there after a reload.
    await page.getByTestId("radius-debtors-captive").check();
    await page.getByTestId("radius-pool").fill("pay-your-bill");
    await page.getByTestId("radius-session-timeout").fill("720");
    await page.getByTestId("radius-settings-save").click();
    await page.getByTestId("radius-settings-saved").waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}network-settings-desktop.png`, fullPage: true });
    await page.reload();
    assert.equal(await page.getByTestId("radius-pool").inputValue(), "pay-your-bill");
    assert.equal(await page.getByTestId("radius-session-timeout").inputValue(), "720");
    const phone = await newPage({ width: 390, height: 844 }, s.staffSession);
    try {
      await phone.goto(urlFor(SLUG, "/console/network"));
      await phone.getByTestId("radius-settings-form").waitFor();
      await phone.getByTestId("radius-settings").scrollIntoViewIfNeeded();
      await phone.screenshot({ path: `${SCREENSHOTS}network-settings-phone.png`, fullPage: true });
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `network page is ${overflow}px wider than the phone`);
    } finally {
      await closePage(phone);
    }
    // Back to the demo's defaults for the suites after this one.
    await page.getByTestId("radius-debtors-reject").check();
    await page.getByTestId("radius-session-timeout").fill("1440");
    await page.getByTestId("radius-settings-save").click();
    await page.getByTestId("radius-settings-saved").waitFor();
  });

  f.step("staff delete the NAS", async () => {
    const page = s.staff;
    await page.goto(urlFor(SLUG, "/console/network"));
    const row = page.getByTestId("nas-row").filter({ hasText: NAS_NAME });
    page.once("dialog", (dialog) => {
      void dialog.accept();
    });
    await row.getByTestId("nas-delete").click();
    await row.waitFor({ state: "detached" });
  });
});
