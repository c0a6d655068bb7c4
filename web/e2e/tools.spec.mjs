// Canned replies and merging duplicates, in a real browser: an agent writes a canned reply with
// placeholders on the settings page, inserts it into a reply (the server fills in the
// subscriber's name, balance and the ticket number), sends it, then merges the subscriber's
// duplicate ticket into the original; the subscriber opening the duplicate is told where it went.
// Every run uses its own token; the reply is deleted and both tickets closed at the end.
// Screenshots at 1280x800 and 390x844 go to e2e/screenshots/tools-*.png.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/tools.spec.mjs
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import { closePage, DESKTOP, flow, newPage, runId, screenshots, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

const SLUG = "demo";
const STAFF = "agent@demo.example";
const SUBSCRIBER = "100001";
const token = `tools${runId.replace(/[^0-9a-z]/g, "")}`;
const TITLE = `Баланс ${token}`;

/** Opens a ticket through the cabinet's form; its id from the page it lands on. */
async function openTicket(page, subject) {
  await page.goto(urlFor(SLUG, "/tickets/new"));
  await page.getByTestId("new-ticket-category").selectOption("payments");
  await page.getByTestId("new-ticket-subject").fill(subject);
  await page.getByTestId("new-ticket-description").fill(`Не понимаю списание. ${token}`);
  await page.getByTestId("new-ticket-submit").click();
  await page.waitForURL(/\/tickets\/[0-9a-f-]{36}$/);
  const id = page.url().split("/").pop();
  const number = await page.evaluate(async (ticket) => {
    const response = await fetch(`/api/v1/me/tickets/${ticket}`);
    return (await response.json()).number;
  }, id);
  return { id, number };
}

describe("demo: canned replies and merging duplicates", { concurrency: false }, () => {
  const s = {};
  const f = flow("tools");
  after(async () => {
    await closePage(s.staff);
    await closePage(s.subscriber);
  });

  f.step("an agent writes a canned reply with placeholders", async () => {
    const page = (s.staff = await newPage(DESKTOP));
    f.pages.push(page);
    page.on("dialog", (dialog) => void dialog.accept());
    await signIn(page, urlFor(SLUG, "/console"), STAFF);
    await page.getByTestId("nav-console-canned").click();
    await page.getByTestId("canned-new").click();
    await page.getByTestId("canned-title").fill(TITLE);
    await page.getByTestId("canned-category").fill("Оплата");
    // An unknown placeholder is refused with a clear message.
    await page.getByTestId("canned-body").fill("Ваш пароль: {{subscriber.password}}");
    await page.getByTestId("canned-save").click();
    const refusal = page.getByTestId("error-notice");
    await refusal.waitFor();
    assert.equal(await refusal.getAttribute("data-code"), "unknown_placeholder");
    await page.getByTestId("canned-body").fill("Здравствуйте, ");
    await page.getByTestId("canned-placeholder").filter({ hasText: "{{subscriber.name}}" }).click();
    await page.getByTestId("canned-body").press("End");
    await page
      .getByTestId("canned-body")
      .pressSequentially(`! Баланс: {{account.balance}}. Обращение №{{ticket.number}}. ${token}`);
    await page.getByTestId("canned-save").click();
    const row = page.getByTestId("canned-row").filter({ hasText: TITLE });
    await row.waitFor();
    assert.match(await row.textContent(), /\{\{subscriber\.name\}\}/);
    assert.match(await row.textContent(), /оплата/);
    s.staffSession = await page.context().storageState();
    await screenshots("tools-canned", urlFor(SLUG, "/console/canned-replies"), s.staffSession, async (p) => {
      await p.getByTestId("canned-row").first().waitFor();
      await p.getByTestId("canned-new").click();
      await p.getByTestId("canned-form").waitFor();
    });
  });

  f.step("the subscriber opens a ticket and, by mistake, its duplicate", async () => {
    const page = (s.subscriber = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/"), SUBSCRIBER);
    await page.getByTestId("nav-tickets").waitFor();
    s.subscriberSession = await page.context().storageState();
    s.original = await openTicket(page, `Списание ${token}`);
    s.duplicate = await openTicket(page, `Списание ещё раз ${token}`);
  });

  f.step("the agent inserts the canned reply, filled in, edits and sends it", async () => {
    const page = s.staff;
    await page.goto(urlFor(SLUG, `/console/tickets/${s.original.id}`));
    await page.getByTestId("canned-open").click();
    await page.getByTestId("canned-search").fill(token);
    const item = page.getByTestId("canned-item").filter({ hasText: TITLE });
    await item.waitFor();
    await item.click();
    const body = page.getByTestId("reply-body");
    await page.waitForFunction(() => document.querySelector('[data-testid="reply-body"]')?.value !== "");
    const text = await body.inputValue();
    assert.match(
      text,
      new RegExp(`^Здравствуйте, Иван Петров! Баланс: -?\\d+\\.\\d{2} RUB\\. Обращение №${s.original.number}\\. ${token}$`),
    );
    await body.fill(`${text}\nПроверили начисления.`);
    await page.getByTestId("reply-submit").click();
    await page.getByTestId("ticket-message").filter({ hasText: "Проверили начисления." }).waitFor();
    await screenshots("tools-picker", urlFor(SLUG, `/console/tickets/${s.original.id}`), s.staffSession, async (p) => {
      await p.getByTestId("canned-open").click();
      await p.getByTestId("canned-search").fill(token);
      await p.getByTestId("canned-item").first().waitFor();
    });
  });

  f.step("the agent merges the duplicate into the original", async () => {
    const page = s.staff;
    await page.goto(urlFor(SLUG, `/console/tickets/${s.duplicate.id}`));
    await page.getByTestId("merge-panel").locator("summary").click();
    await page.getByTestId("merge-target").selectOption(String(s.original.number));
    await page.getByTestId("merge-submit").click();
    await page.getByTestId("merged-into").waitFor();
    assert.match(await page.getByTestId("merged-into").textContent(), new RegExp(`#${s.original.number}`));
    await page.getByTestId("ticket-event").and(page.locator('[data-event-kind="merged_into"]')).waitFor();
    await page.getByTestId("merged-into-link").click();
    await page.waitForURL(new RegExp(`/console/tickets/${s.original.id}$`));
    await page.getByTestId("merged-from").waitFor();
    // Both descriptions and the reply now live in the original, in time order.
    const bodies = await page.getByTestId("message-body").allTextContents();
    assert.equal(bodies.length, 3, bodies.join(" | "));
    assert.match(bodies[2], /Проверили начисления\./);
    await screenshots("tools-merged", urlFor(SLUG, `/console/tickets/${s.original.id}`), s.staffSession, (p) =>
      p.getByTestId("merged-from").waitFor(),
    );
  });

  f.step("the subscriber opening the duplicate is sent to the original", async () => {
    const page = s.subscriber;
    await page.goto(urlFor(SLUG, `/tickets/${s.duplicate.id}`));
    const notice = page.getByTestId("my-ticket-merged");
    await notice.waitFor();
    assert.match(await notice.textContent(), new RegExp(`№${s.original.number}`));
    await screenshots("tools-subscriber", urlFor(SLUG, `/tickets/${s.duplicate.id}`), s.subscriberSession, (p) =>
      p.getByTestId("my-ticket-merged").waitFor(),
    );
    await page.getByTestId("my-ticket-merged-link").click();
    await page.waitForURL(new RegExp(`/tickets/${s.original.id}$`));
    await page.getByTestId("message-body").filter({ hasText: "Проверили начисления." }).waitFor();
  });

  f.step("clean up: the original is closed and the canned reply deleted", async () => {
    const page = s.staff;
    await page.goto(urlFor(SLUG, `/console/tickets/${s.original.id}`));
    await page.getByTestId("desk-status").selectOption("closed");
    await page.getByTestId("desk-panel").getByText(/Закрыт/).first().waitFor();
    await page.goto(urlFor(SLUG, "/console/canned-replies"));
    const row = page.getByTestId("canned-row").filter({ hasText: TITLE });
    await row.getByTestId("canned-delete").click();
    await row.waitFor({ state: "detached" });
  });
});
