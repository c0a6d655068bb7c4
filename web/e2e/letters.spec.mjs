// The ISP's letters and SLA targets by category in a real browser: the owner rewrites the
// English "staff replied" letter, the preview shows the new wording filled with sample data,
// saving marks it as the ISP's own, and a reset brings the built-in letter back (also when a
// step fails, so later specs and reruns see the default). On the SLA page the owner gives a
// category its own targets, which survive a reload, and removes them again.
// Screenshots at 1280x800 and 390x844 go to e2e/screenshots/letters-*.png and sla-overrides-*.png.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/letters.spec.mjs
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import { closePage, DESKTOP, flow, newPage, runId, screenshots, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

const SLUG = "demo";
const STAFF = "owner@demo.example";
const SUBJECT = `News on your ticket #{{ticket.number}} (${runId})`;
const BODY = `Dear {{subscriber.name}},\n\nWe have answered "{{ticket.subject}}" — ${runId}.`;

async function resetLetter(page) {
  await page.goto(urlFor(SLUG, "/console/settings/letters"));
  await page.getByTestId("letter-ticket_reply-en").click();
  const reset = page.getByTestId("letter-reset");
  if (await reset.isVisible().catch(() => false)) {
    page.once("dialog", (dialog) => {
      void dialog.accept();
    });
    await reset.click();
    await reset.waitFor({ state: "detached" });
  }
}

describe("demo: the ISP's own letters and SLA targets by category", { concurrency: false }, () => {
  const s = {};
  const f = flow("letters");
  after(async () => {
    if (s.staff && !s.reset) await resetLetter(s.staff).catch(() => undefined);
    await closePage(s.staff);
  });

  f.step("the owner rewrites a letter and previews it", async () => {
    const page = (s.staff = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/console"), STAFF);
    await page.getByTestId("nav-console-settings").click();
    await page.getByTestId("settings-hub").waitFor();
    await screenshots("settings-hub", urlFor(SLUG, "/console/settings"), await page.context().storageState(), (p) =>
      p.getByTestId("settings-hub").waitFor(),
    );
    await page.getByTestId("nav-console-letters").click();
    await page.getByTestId("letter-ticket_reply-en").click();
    await page.getByTestId("letter-subject").fill(SUBJECT);
    await page.getByTestId("letter-body").fill(BODY);
    await page.getByTestId("letter-preview").click();
    const subject = page.getByTestId("letter-preview-subject");
    await subject.filter({ hasText: runId }).waitFor();
    assert.equal(await subject.textContent(), `News on your ticket #1234 (${runId})`);
    const frame = page.frameLocator('[data-testid="letter-preview-html"]');
    await frame.getByText(`Dear Ivan Petrov,`).waitFor();
    await frame.getByText(`We have answered "No internet" — ${runId}.`).waitFor();

    await page.getByTestId("letter-save").click();
    await page.getByRole("status").filter({ hasText: "Сохранено" }).waitFor();
    await page.getByTestId("letter-ticket_reply-en").filter({ hasText: "свой текст" }).waitFor();
    s.session = await page.context().storageState();
    await screenshots("letters", urlFor(SLUG, "/console/settings/letters"), s.session, async (p) => {
      await p.getByTestId("letter-ticket_reply-en").click();
      await p.getByTestId("letter-subject").waitFor();
      assert.equal(await p.getByTestId("letter-subject").inputValue(), SUBJECT);
      await p.getByTestId("letter-preview").click();
      await p.getByTestId("letter-preview-subject").filter({ hasText: runId }).waitFor();
      await p.frameLocator('[data-testid="letter-preview-html"]').getByText("Dear Ivan Petrov,").waitFor();
    });
  });

  f.step("a bad placeholder is refused; a reset brings the built-in letter back", async () => {
    const page = s.staff;
    await page.goto(urlFor(SLUG, "/console/settings/letters"));
    await page.getByTestId("letter-ticket_reply-en").click();
    await page.getByTestId("letter-body").fill("Hello {{subscriber.nick}}");
    await page.getByTestId("letter-save").click();
    await page.getByText("subscriber.nick").first().waitFor();
    await resetLetter(page);
    s.reset = true;
    assert.match(await page.getByTestId("letter-subject").inputValue(), /^New reply to your ticket #\{\{ticket\.number\}\}/);
    await page.getByTestId("letter-ticket_reply-en").filter({ hasText: "стандартное" }).waitFor();
  });

  f.step("a category gets its own SLA targets", async () => {
    const page = s.staff;
    await page.goto(urlFor(SLUG, "/console/tickets/settings"));
    await page.getByTestId("sla-settings").waitFor();
    const rows = page.locator('[data-testid^="sla-override-"]:not([data-testid="sla-override-add"])');
    const before = await rows.count();
    await page.getByTestId("sla-override-add").click();
    const row = page.getByTestId(`sla-override-${before}`);
    await row.locator("select").first().selectOption("connectivity");
    await row.locator("select").nth(1).selectOption("urgent");
    await row.locator('input[type="number"]').first().fill("15");
    await row.locator('input[type="number"]').nth(1).fill("90");
    await page.getByTestId("sla-save").click();
    await page.getByRole("status").waitFor();
    await page.reload();
    const saved = page.getByTestId(`sla-override-${before}`);
    await saved.waitFor();
    assert.equal(await saved.locator("select").first().inputValue(), "connectivity");
    assert.equal(await saved.locator('input[type="number"]').first().inputValue(), "15");
    s.session = await page.context().storageState();
    await screenshots("sla-overrides", urlFor(SLUG, "/console/tickets/settings"), s.session, (p) =>
      p.getByTestId(`sla-override-${before}`).waitFor(),
    );
    // Removed again: the demo keeps its built-in targets.
    await saved.getByRole("button").click();
    await page.getByTestId("sla-save").click();
    await page.getByRole("status").waitFor();
    assert.equal(await rows.count(), before);
  });
});
