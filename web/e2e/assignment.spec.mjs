// Auto-assignment in a real browser: an agent creates a group for equipment tickets with
// themself in it, goes on shift from the queue header, a subscriber opens an equipment ticket,
// and it is in the agent's "mine" queue at once, assigned to them. The group is deleted and the
// shift ended at the end (also when a step fails), so later specs see no auto-assignment.
// Screenshots at 1280x800 and 390x844 go to e2e/screenshots/assignment-*.png.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/assignment.spec.mjs
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import { closePage, DESKTOP, findInQueue, flow, newPage, runId, screenshots, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

const SLUG = "demo";
const AGENT = "agent@demo.example";
const AGENT_NAME = "Сергей Агентов";
const SUBSCRIBER = "100001";
const GROUP = `Оборудование ${runId}`;
const SUBJECT = `Роутер мигает красным ${runId}`;

describe("demo: a ticket is assigned to the agent on shift", { concurrency: false }, () => {
  const s = {};
  const f = flow("assignment");
  after(async () => {
    // Leave no group and no open shift behind for the specs that follow.
    const page = s.agent;
    if (page && !page.isClosed()) {
      await page.goto(urlFor(SLUG, "/console/tickets/groups")).catch(() => undefined);
      const row = page.getByTestId("group-row").filter({ hasText: GROUP });
      if (await row.isVisible().catch(() => false)) {
        page.once("dialog", (dialog) => {
          void dialog.accept();
        });
        await row.getByTestId("group-delete").click();
        await row.waitFor({ state: "detached" }).catch(() => undefined);
      }
      const sw = page.getByTestId("shift-switch");
      if ((await sw.getAttribute("aria-checked").catch(() => null)) === "true") {
        await sw.click();
        await page.locator('[data-testid="shift-switch"][aria-checked="false"]').waitFor().catch(() => undefined);
      }
    }
    await closePage(s.agent);
    await closePage(s.subscriber);
  });

  f.step("an agent creates a group for equipment tickets", async () => {
    const page = (s.agent = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/console"), AGENT);
    await page.getByTestId("queue-groups").click();
    await page.getByTestId("group-new").click();
    await page.getByTestId("group-name").fill(GROUP);
    await page.getByTestId("group-mode").selectOption("least_loaded");
    await page.getByTestId("group-category-equipment").check();
    await page.locator(`[data-testid="group-member-option"][data-name="${AGENT_NAME}"]`).check();
    await page.getByTestId("group-save").click();
    const row = page.getByTestId("group-row").filter({ hasText: GROUP });
    await row.waitFor();
    await row.getByTestId("group-member").filter({ hasText: AGENT_NAME }).waitFor();
    assert.equal(await row.getByTestId("group-member").getAttribute("data-on-shift"), "false");
  });

  f.step("the agent goes on shift from the queue", async () => {
    const page = s.agent;
    await page.goto(urlFor(SLUG, "/console/tickets"));
    const sw = page.getByTestId("shift-switch");
    await sw.waitFor();
    assert.equal(await sw.getAttribute("aria-checked"), "false");
    await sw.click();
    await page.locator('[data-testid="shift-switch"][aria-checked="true"]').waitFor();
    await page.getByTestId("shift-since").waitFor();
    // Who is on shift is read again after the switch: the agent counts now.
    await page.locator('[data-testid="shift-count"]:not([data-count="0"])').waitFor();
    s.agentSession = await page.context().storageState();
  });

  f.step("a subscriber opens an equipment ticket", async () => {
    const page = (s.subscriber = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/"), SUBSCRIBER);
    await page.getByTestId("dashboard").waitFor();
    await page.goto(urlFor(SLUG, "/tickets/new"));
    await page.getByTestId("new-ticket-category").selectOption("equipment");
    await page.getByTestId("new-ticket-subject").fill(SUBJECT);
    await page.getByTestId("new-ticket-description").fill("Индикатор WAN горит красным со вчерашнего вечера.");
    await page.getByTestId("new-ticket-submit").click();
    await page.getByTestId("ticket-subject").filter({ hasText: SUBJECT }).waitFor();
  });

  f.step("it is in the agent's own queue, assigned to them", async () => {
    const page = s.agent;
    await page.goto(urlFor(SLUG, "/console/tickets?assignee=me"));
    const row = await findInQueue(page, SUBJECT);
    assert.ok(row, "the ticket is in the agent's own queue");
    await row.getByRole("link", { name: SUBJECT }).click();
    const assignee = page.getByTestId("desk-assignee");
    await assignee.waitFor();
    // The agents list arrives separately: wait until the chosen option is the agent.
    await assignee.locator("option:checked").filter({ hasText: AGENT_NAME }).waitFor({ state: "attached" });
    await screenshots("assignment-queue", urlFor(SLUG, "/console/tickets?assignee=me"), s.agentSession, (p) =>
      p.locator('[data-testid="shift-switch"][aria-checked="true"]').waitFor(),
    );
    await screenshots("assignment-groups", urlFor(SLUG, "/console/tickets/groups"), s.agentSession, (p) =>
      p.getByTestId("group-row").filter({ hasText: GROUP }).getByTestId("group-member").filter({ hasText: AGENT_NAME }).waitFor(),
    );
    await screenshots("assignment-group-form", urlFor(SLUG, "/console/tickets/groups"), s.agentSession, async (p) => {
      await p.getByTestId("group-row").filter({ hasText: GROUP }).getByTestId("group-edit").click();
      await p.getByTestId("group-form").waitFor();
      await p.getByTestId("group-category-equipment").isChecked().then((checked) => assert.ok(checked));
    });
    const row2 = page.getByTestId("group-row").filter({ hasText: GROUP });
    await page.goto(urlFor(SLUG, "/console/tickets/groups"));
    assert.equal(await row2.getByTestId("group-member").getAttribute("data-on-shift"), "true");
  });
});
