// Shift schedules in a real browser: the owner goes from the agent groups page to "Смены",
// sees who is on shift now and each agent's week, gives the agent a Monday day shift and a
// Friday night shift (ending the next morning), saves and sees the week; an overlapping span
// is refused with a message. The agent's week is emptied at the end (also when a step fails),
// so later specs see no schedule. Screenshots at 1280x800 and 390x844 go to
// e2e/screenshots/shifts-*.png.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/shifts.spec.mjs
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import { closePage, DESKTOP, flow, newPage, screenshots, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

const SLUG = "demo";
const OWNER = "owner@demo.example";
const AGENT_NAME = "Сергей Агентов";

const agentWeek = (page) => page.locator(`[data-testid="agent-week"][data-name="${AGENT_NAME}"]`);

async function emptyWeek(page) {
  await page.goto(urlFor(SLUG, "/console/tickets/shifts"));
  const card = agentWeek(page);
  await card.waitFor();
  await card.getByTestId("week-edit").click();
  const editor = page.getByTestId("week-editor");
  while ((await editor.getByTestId("span-remove").count()) > 0) {
    await editor.getByTestId("span-remove").first().click();
  }
  await editor.getByTestId("week-save").click();
  await editor.waitFor({ state: "detached" });
}

describe("demo: the agents' weekly shift schedule", { concurrency: false }, () => {
  const s = {};
  const f = flow("shifts");
  after(async () => {
    if (s.owner && !s.owner.isClosed() && s.changed) await emptyWeek(s.owner).catch(() => undefined);
    await closePage(s.owner);
  });

  f.step("the owner opens the shifts from the agent groups page", async () => {
    const page = (s.owner = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/console"), OWNER);
    await page.getByTestId("queue-groups").click();
    await page.getByTestId("shifts-link").click();
    await page.getByTestId("shifts-page").waitFor();
    await page.getByTestId("on-shift-now").waitFor();
    assert.match((await page.getByTestId("shifts-zone").textContent()) ?? "", /Europe\//);
    await agentWeek(page).waitFor();
  });

  f.step("a day shift and a night shift are saved and shown in the week", async () => {
    const page = s.owner;
    await agentWeek(page).getByTestId("week-edit").click();
    const editor = page.getByTestId("week-editor");
    await editor.waitFor();
    s.changed = true;
    await editor.getByTestId("span-add-1").click();
    const monday = editor.getByTestId("day-1").getByTestId("span-row").last();
    await monday.getByTestId("span-end").fill("17:30");
    await editor.getByTestId("span-add-5").click();
    const friday = editor.getByTestId("day-5").getByTestId("span-row").last();
    await friday.getByTestId("span-start").fill("22:00");
    await friday.getByTestId("span-end").fill("06:00");
    await friday.getByText("до следующего дня").waitFor();
    await editor.getByTestId("week-holidays").check();
    await editor.getByTestId("week-save").click();
    await editor.waitFor({ state: "detached" });
    const card = agentWeek(page);
    await card.getByTestId("week-day-1").filter({ hasText: "09:00–17:30" }).waitFor();
    await card.getByTestId("week-day-5").filter({ hasText: "22:00–06:00" }).waitFor();
    assert.equal(await card.getByTestId("week-day-3").textContent(), "—");
    await card.getByText("В праздники не работает").waitFor();

    // Survives a reload.
    await page.reload();
    await agentWeek(page).getByTestId("week-day-5").filter({ hasText: "22:00–06:00" }).waitFor();
    const session = await page.context().storageState();
    await screenshots("shifts", urlFor(SLUG, "/console/tickets/shifts"), session, async (p) => {
      await agentWeek(p).getByTestId("week-day-1").filter({ hasText: "09:00–17:30" }).waitFor();
    });
    await screenshots("shifts-editor", urlFor(SLUG, "/console/tickets/shifts"), session, async (p) => {
      await agentWeek(p).getByTestId("week-edit").click();
      await p.getByTestId("week-editor").getByTestId("day-5").getByTestId("span-row").waitFor();
    });
  });

  f.step("an overlapping span is refused with a message", async () => {
    const page = s.owner;
    await agentWeek(page).getByTestId("week-edit").click();
    const editor = page.getByTestId("week-editor");
    await editor.getByTestId("span-add-1").click();
    const second = editor.getByTestId("day-1").getByTestId("span-row").last();
    await second.getByTestId("span-start").fill("17:00");
    await second.getByTestId("span-end").fill("20:00");
    await editor.getByTestId("week-save").click();
    await editor.getByTestId("error-notice").waitFor();
    assert.match((await editor.getByTestId("error-notice").textContent()) ?? "", /пересекаются/);
    await editor.getByTestId("span-remove").last().click();
  });
});
