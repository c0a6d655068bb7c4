// Self-serve onboarding in a real browser, from nothing to a subscriber signed in: a new ISP
// signs up on the platform host, follows the confirmation link from the letter (a real SMTP
// peer: e2e/smtp-sink.mjs), sets its branding, imports its subscribers from CSV, publishes the
// portal; a subscriber sets a password through the "forgot password" letter, signs in on the
// ISP's subdomain and sees its name. Then the operator finds the ISP, suspends it (the portal
// shows the notice) and resumes it.
//
// Env: KABINET_E2E_MAILBOX (the sink's HTTP address, set by tests/run.sh); without it this flow
// is skipped, since nothing could read the letters.
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import {
  closePage, DESKTOP, flow, linkFromMail, MAILBOX, newPage, PASSWORD, runId, screenshots, SCREENSHOTS, signIn, urlFor, useBrowser,
} from "./support.mjs";

useBrowser();

// Unique per run, so the flow works on a used deployment too (a slug is at most 32 characters).
const SLUG = `e2e-${runId}`.replace(/[^a-z0-9-]/g, "").slice(0, 32).replace(/-+$/, "");
const OWNER = `owner-${runId}@signup.example`;
const OWNER_PASSWORD = "a long owner password 9";
const ISP_NAME = `Связь ${runId}`;
const BRANDED_NAME = `Связь Плюс ${runId}`;
const SUBSCRIBER = { account: "900001", email: `abonent-${runId}@signup.example` };
const SUBSCRIBER_PASSWORD = "subscriber password 42";
// A 1×1 PNG: the logo upload.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

describe(`signup: a new ISP from the form to its first subscriber`, { concurrency: false, skip: !MAILBOX && "KABINET_E2E_MAILBOX is not set" }, () => {
  const f = flow("signup");
  const s = {};
  after(async () => {
    await closePage(s.owner);
    await closePage(s.subscriber);
    await closePage(s.operator);
  });

  f.step("the signup form checks the subdomain live and creates the ISP", async () => {
    await screenshots("signup", urlFor("admin", "/signup"), undefined, (p) => p.getByTestId("signup-form").waitFor());
    const page = (s.owner = await newPage(DESKTOP));
    f.pages.push(page);
    await page.goto(urlFor("admin", "/signup"));
    await page.getByTestId("signup-isp-name").fill(ISP_NAME);
    // The name is Cyrillic: no subdomain is suggested, so the ISP types one; a taken one is flagged.
    await page.getByTestId("signup-slug").fill("demo");
    await page.locator('[data-testid="signup-slug-state"][data-state="taken"]').waitFor();
    await page.getByTestId("signup-slug").fill(SLUG);
    await page.locator('[data-testid="signup-slug-state"][data-state="available"]').waitFor();
    await page.getByTestId("signup-owner-name").fill("Ольга Смирнова");
    await page.getByTestId("signup-email").fill(OWNER);
    await page.getByTestId("signup-password").fill(OWNER_PASSWORD);
    await page.getByTestId("signup-time-zone").selectOption("Asia/Yekaterinburg");
    // Card payments are a feature of Growth and up; this ISP connects Stripe further on.
    await page.getByTestId("signup-plan").selectOption("growth");
    await page.getByTestId("signup-submit").click();
    await page.getByTestId("signup-done").waitFor();
    assert.match(await page.getByTestId("signup-console-url").innerText(), new RegExp(`^http://${SLUG}\\.`));
    await page.screenshot({ path: `${SCREENSHOTS}signup-done-desktop.png` });
  });

  f.step("the link in the letter signs the owner in to the checklist", async () => {
    const page = s.owner;
    const link = await linkFromMail(OWNER, urlFor(SLUG, "/console/confirm?token="));
    await page.goto(link);
    await page.getByTestId("onboarding").waitFor();
    const steps = page.getByTestId("onboarding-step");
    assert.equal(await steps.count(), 6);
    assert.equal(await page.locator('[data-testid="onboarding-step"][data-done="true"]').count(), 0);
    await page.screenshot({ path: `${SCREENSHOTS}signup-onboarding-desktop.png`, fullPage: true });
  });

  f.step("branding: name, colour and logo, with a live preview", async () => {
    const page = s.owner;
    await page.goto(urlFor(SLUG, "/console/settings/branding"));
    await page.getByTestId("branding-form").waitFor();
    await page.getByTestId("branding-name").fill(BRANDED_NAME);
    await page.getByTestId("branding-primary").fill("#0a7d5a");
    await page.getByTestId("branding-logo").setInputFiles({ name: "logo.png", mimeType: "image/png", buffer: PNG });
    await page.getByTestId("branding-phone").fill("+7 (343) 200-00-00");
    assert.match(await page.getByTestId("branding-preview").innerText(), new RegExp(BRANDED_NAME));
    await page.getByTestId("branding-save").click();
    await page.getByTestId("branding-saved").waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}signup-branding-desktop.png`, fullPage: true });
    const phone = await newPage({ width: 390, height: 844 }, await page.context().storageState());
    try {
      await phone.goto(urlFor(SLUG, "/console/settings/branding"));
      await phone.getByTestId("branding-form").waitFor();
      await phone.screenshot({ path: `${SCREENSHOTS}signup-branding-phone.png`, fullPage: true });
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `branding page is ${overflow}px wider than the phone`);
    } finally {
      await closePage(phone);
    }
  });

  f.step("subscribers come from a CSV file", async () => {
    const page = s.owner;
    await page.goto(urlFor(SLUG, "/console/subscribers/import"));
    const csv = `account_number;name;email;balance\n${SUBSCRIBER.account};Пётр Иванов;${SUBSCRIBER.email};500,00\n900002;Мария Кузнецова;;0\n`;
    await page.getByTestId("import-file").setInputFiles({ name: "abonenty.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.getByTestId("import-check").click();
    await page.locator('[data-testid="import-report"][data-outcome="checked"]').waitFor();
    await page.getByTestId("import-commit").click();
    await page.locator('[data-testid="import-report"][data-outcome="committed"]').waitFor();
    assert.equal((await page.getByTestId("import-created").innerText()).trim(), "2");
  });

  f.step("card payments: the owner connects Stripe through its hosted onboarding", async () => {
    const page = s.owner;
    await page.goto(urlFor(SLUG, "/console/settings/payments"));
    await page.locator('[data-testid="card-payments-state"][data-state="not_connected"]').waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}signup-card-payments-desktop.png`, fullPage: true });
    assert.equal(await page.getByTestId("card-payments-country").inputValue(), "RU");
    await page.getByTestId("card-payments-connect").click();
    // Stripe's (the fake's) hosted form, then back to the console, which asks Stripe at once.
    await page.getByRole("button", { name: "Finish onboarding" }).click();
    await page.locator('[data-testid="card-payments-state"][data-state="enabled"]').waitFor();
    assert.match(page.url(), /\/console\/settings\/payments$/, "the return marker is dropped from the address");
    assert.match(await page.getByTestId("card-payments-account").innerText(), /^acct_/);
    await page.screenshot({ path: `${SCREENSHOTS}signup-card-payments-enabled-desktop.png`, fullPage: true });
    const phone = await newPage({ width: 390, height: 844 }, await page.context().storageState());
    try {
      await phone.goto(urlFor(SLUG, "/console/settings/payments"));
      await phone.locator('[data-testid="card-payments-state"][data-state="enabled"]').waitFor();
      await phone.screenshot({ path: `${SCREENSHOTS}signup-card-payments-phone.png`, fullPage: true });
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `card payments page is ${overflow}px wider than the phone`);
    } finally {
      await closePage(phone);
    }
  });

  f.step("the checklist shows progress and the owner publishes the portal", async () => {
    const page = s.owner;
    await page.goto(urlFor(SLUG, "/console/onboarding"));
    await page.locator('[data-testid="onboarding-step"][data-step="branding"][data-done="true"]').waitFor();
    await page.locator('[data-testid="onboarding-step"][data-step="subscribers"][data-done="true"]').waitFor();
    await page.locator('[data-testid="onboarding-step"][data-step="payments"][data-done="true"]').waitFor();
    await page.getByTestId("onboarding-publish").click();
    await page.getByTestId("onboarding-live").waitFor();
    await screenshots("signup-checklist", urlFor(SLUG, "/console/onboarding"), await page.context().storageState(), (p) =>
      p.getByTestId("onboarding-live").waitFor(),
    );
  });

  f.step("an imported subscriber sets a password by mail and sees the ISP's branding", async () => {
    const page = (s.subscriber = await newPage(DESKTOP));
    f.pages.push(page);
    await page.goto(urlFor(SLUG, "/forgot-password"));
    await page.getByTestId("forgot-password-login").fill(SUBSCRIBER.account);
    await page.getByTestId("forgot-password-submit").click();
    await page.getByTestId("reset-requested").waitFor();
    const link = await linkFromMail(SUBSCRIBER.email, urlFor(SLUG, "/reset-password?token="));
    await page.goto(link);
    await page.getByTestId("reset-new").fill(SUBSCRIBER_PASSWORD);
    await page.getByTestId("reset-repeat").fill(SUBSCRIBER_PASSWORD);
    await page.getByTestId("reset-submit").click();
    await page.getByTestId("reset-done").waitFor();
    await signIn(page, urlFor(SLUG, "/"), SUBSCRIBER.account, SUBSCRIBER_PASSWORD);
    await page.getByTestId("dashboard-balance").waitFor();
    assert.equal((await page.getByTestId("brand-name").innerText()).trim(), BRANDED_NAME);
    const primary = await page.evaluate(() =>
      getComputedStyle(document.documentElement).getPropertyValue("--brand-primary").trim(),
    );
    assert.equal(primary, "#0a7d5a", "the portal wears the ISP's colour");
    await page.screenshot({ path: `${SCREENSHOTS}signup-subscriber-desktop.png`, fullPage: true });
  });

  f.step("the operator finds the new ISP, suspends it and resumes it", async () => {
    const page = (s.operator = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor("admin", "/"), "operator@kabinet.example", PASSWORD);
    await page.getByTestId("tenant-table").waitFor();
    await page.getByTestId("tenant-search").fill(SLUG);
    const row = page.locator(`[data-testid="tenant-row"][data-slug="${SLUG}"]`);
    await row.waitFor();
    // The search narrows the list to the new ISP (the previous list shows while it loads).
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="tenant-row"]').length === 1);
    await page.screenshot({ path: `${SCREENSHOTS}operator-tenants-desktop.png`, fullPage: true });
    await row.getByTestId("tenant-suspend").click();
    await page.getByTestId("suspend-reason").fill("E2E: suspended and resumed by the browser test");
    await page.getByTestId("suspend-confirm").click();
    await page.locator(`[data-testid="tenant-row"][data-slug="${SLUG}"][data-status="suspended"]`).waitFor();

    // The subscriber's next page load meets the notice; data is kept.
    const portal = s.subscriber;
    const response = await portal.goto(urlFor(SLUG, "/"));
    assert.equal(response?.status(), 403);
    assert.match(await portal.locator("body").innerText(), /временно недоступен/);

    await row.getByTestId("tenant-resume").click();
    await page.locator(`[data-testid="tenant-row"][data-slug="${SLUG}"][data-status="active"]`).waitFor();
    await portal.goto(urlFor(SLUG, "/"));
    await portal.getByTestId("dashboard-balance").waitFor();
    await screenshots("operator-tenants", urlFor("admin", "/"), await page.context().storageState(), (p) =>
      p.getByTestId("tenant-table").waitFor(),
    );
  });
});
