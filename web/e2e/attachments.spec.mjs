// Ticket attachments and notifications in a real browser: a subscriber opens a ticket with a
// screenshot (PNG) attached, staff see the file in the console and download it, staff reply,
// and the subscriber's bell shows the unread notification that leads back to the ticket.
// Screenshots at desktop and phone size go to e2e/screenshots/.
//
// Makes its own uniquely named ticket per run, so it works on a fresh and on a used database.
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import { closePage, DESKTOP, findInQueue, flow, newPage, runId, screenshots, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

// A 1×1 PNG: enough for the server to sniff the type and strip nothing.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

describe("demo: a ticket with a screenshot, answered, and the bell", { concurrency: false }, () => {
  const s = {
    subject: `E2E attachment ${runId}`,
    reply: `We looked at your screenshot ${runId}`,
    fileName: `screenshot-${runId}.png`,
  };
  const f = flow("attachments");

  after(async () => {
    await closePage(s.subscriber);
    await closePage(s.staff);
  });

  f.step("the subscriber opens a ticket with a PNG attached", async () => {
    const page = (s.subscriber = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor("demo", "/"), "100001");
    await page.getByTestId("nav-tickets").waitFor();
    await page.goto(urlFor("demo", "/tickets/new"));
    await page.getByTestId("new-ticket-category").selectOption("connectivity");
    await page.getByTestId("new-ticket-subject").fill(s.subject);
    await page.getByTestId("new-ticket-description").fill(`The router's lights, see the screenshot. Run ${runId}.`);
    await page.getByTestId("attach-files").setInputFiles({ name: s.fileName, mimeType: "image/png", buffer: PNG });
    await page.getByTestId("attached-files").filter({ hasText: s.fileName }).waitFor();
    await page.getByTestId("new-ticket-submit").click();

    await page.getByTestId("ticket-subject").filter({ hasText: s.subject }).waitFor();
    s.ticketId = await page.getByTestId("ticket").getAttribute("data-ticket-id");
    s.ticketUrl = page.url();
    const file = page.getByTestId("attachment").filter({ hasText: s.fileName });
    await file.waitFor();
    assert.equal(await file.getAttribute("data-content-type"), "image/png");
    s.session = await page.context().storageState();
  });

  f.step("staff see the file in the console and download it", async () => {
    const page = (s.staff = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor("demo", "/console"), "agent@demo.example");
    const row = await findInQueue(page, s.subject);
    assert.ok(row, "the ticket is in the queue");
    await row.getByTestId("console-ticket-link").click();
    const file = page.getByTestId("attachment").filter({ hasText: s.fileName });
    await file.waitFor();
    const href = await file.getByTestId("attachment-link").getAttribute("href");
    assert.match(href, new RegExp(`^/api/v1/console/tickets/${s.ticketId}/attachments/`));
    const download = await page.evaluate(async (url) => {
      const r = await fetch(url);
      const bytes = new Uint8Array(await r.arrayBuffer());
      return {
        status: r.status,
        type: r.headers.get("content-type"),
        disposition: r.headers.get("content-disposition"),
        nosniff: r.headers.get("x-content-type-options"),
        bytes: Array.from(bytes),
      };
    }, href);
    assert.equal(download.status, 200);
    assert.equal(download.type, "image/png");
    assert.equal(download.nosniff, "nosniff");
    assert.ok(download.disposition.startsWith("attachment;"), download.disposition);
    assert.deepEqual(Buffer.from(download.bytes), PNG);
    // The browser's own download of the link works too.
    const [saved] = await Promise.all([page.waitForEvent("download"), file.getByTestId("attachment-link").click()]);
    assert.equal(saved.suggestedFilename(), s.fileName);
    s.staffSession = await page.context().storageState();
  });

  f.step("staff reply and the subscriber's bell shows it", async () => {
    const page = s.staff;
    await page.getByTestId("reply-body").fill(s.reply);
    await page.getByTestId("reply-submit").click();
    await page.getByTestId("message-body").filter({ hasText: s.reply }).waitFor();

    const sub = s.subscriber;
    await sub.goto(urlFor("demo", "/"));
    const count = sub.getByTestId("notification-count");
    await count.waitFor();
    assert.ok(Number.parseInt(await count.innerText(), 10) >= 1, "an unread notification is counted");
    await sub.getByTestId("notification-bell").click();
    const item = sub.locator(
      `[data-testid="notification"][data-kind="ticket_reply"][href="/tickets/${s.ticketId}"]`,
    );
    await item.waitFor();
    assert.equal(await item.getAttribute("data-read"), "false");
    await sub.screenshot({ path: new URL(`./screenshots/attachments-bell-open-desktop.png`, import.meta.url).pathname });
    await item.click();
    await sub.getByTestId("message-body").filter({ hasText: s.reply }).waitFor();
    assert.equal(new URL(sub.url()).pathname, `/tickets/${s.ticketId}`);
    s.session = await sub.context().storageState();
  });

  f.step("screens at desktop and phone size", async () => {
    const withFile = (p) => p.getByTestId("attachment").filter({ hasText: s.fileName }).waitFor();
    await screenshots("attachments-ticket", s.ticketUrl, s.session, withFile);
    await screenshots("attachments-console-ticket", urlFor("demo", `/console/tickets/${s.ticketId}`), s.staffSession, withFile);
    await screenshots("attachments-new-ticket", urlFor("demo", "/tickets/new"), s.session, async (p) => {
      await p.getByTestId("attach-files").setInputFiles({ name: s.fileName, mimeType: "image/png", buffer: PNG });
      await p.getByTestId("attached-files").waitFor();
    });
    await screenshots("attachments-bell", urlFor("demo", "/"), s.session, async (p) => {
      await p.getByTestId("notification-bell").click();
      await p.getByTestId("notification-panel").waitFor();
    });
  });
});
