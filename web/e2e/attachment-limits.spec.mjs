// The ISP's own attachment limits in a real browser: the owner opens Настройки → Вложения,
// sees the platform's limits and the storage in use, sets 1 MB a file and 2 MB a message;
// the subscriber's new-ticket form then says so, marks a 1.5 MB file as too large before
// sending, and the server refuses the same file with `attachment_over_file_limit`. The limits
// go back to the platform's at the end (also when a step fails), so other specs see defaults.
// Screenshots at 1280x800 and 390x844 go to e2e/screenshots/attachment-limits-*.png.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/attachment-limits.spec.mjs
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import { closePage, DESKTOP, flow, newPage, runId, screenshots, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

const SLUG = "demo";
const OWNER = "owner@demo.example";
const MIB = 1024 * 1024;
// Plain text, 1.5 MiB: over the ISP's 1 MB, well under the platform's 10 MB.
const BIG = Buffer.alloc(1.5 * MIB, "a");

/** PUT the limits with the page's staff session (the API the console page uses). */
async function putLimits(page, maxFile, maxMessage) {
  return page.evaluate(
    async ([file, message]) => {
      const session = await (await fetch("/api/v1/session")).json();
      const r = await fetch("/api/v1/console/settings/attachments", {
        method: "PUT",
        headers: { "content-type": "application/json", "x-csrf-token": session.csrf_token },
        body: JSON.stringify({ max_file_bytes: file, max_message_bytes: message }),
      });
      return r.status;
    },
    [maxFile, maxMessage],
  );
}

describe("demo: the ISP's own attachment limits", { concurrency: false }, () => {
  const s = {};
  const f = flow("attachment-limits");
  after(async () => {
    if (s.staff) await putLimits(s.staff, 10 * MIB, 25 * MIB).catch(() => undefined);
    await closePage(s.staff);
    await closePage(s.subscriber);
  });

  f.step("the owner sets 1 MB a file and 2 MB a message", async () => {
    const page = (s.staff = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/console"), OWNER);
    await page.getByTestId("nav-console-settings").click();
    await page.getByTestId("settings-hub").waitFor();
    await page.getByTestId("settings-attachments").click();
    await page.getByTestId("attachment-settings-page").waitFor();
    // The storage in use, as the plan counts it.
    await page.getByTestId("attachment-storage-used").filter({ hasText: "Занято" }).waitFor();
    const file = page.getByTestId("attachment-max-file");
    const message = page.getByTestId("attachment-max-message");
    // A file larger than the message: refused in the form.
    await file.fill("3");
    await message.fill("2");
    assert.ok(await page.getByTestId("attachment-limits-save").isDisabled());
    await file.fill("1");
    await page.getByTestId("attachment-limits-save").click();
    await page.getByTestId("attachment-limits-saved").waitFor();
    await page.locator('[data-testid="attachment-limits-state"][data-customised="true"]').waitFor();
    await page.reload();
    await page.getByTestId("attachment-settings-page").waitFor();
    assert.equal(await page.getByTestId("attachment-max-file").inputValue(), "1");
    assert.equal(await page.getByTestId("attachment-max-message").inputValue(), "2");
    s.staffSession = await page.context().storageState();
    await screenshots("attachment-limits-console", urlFor(SLUG, "/console/settings/attachments"), s.staffSession, (p) =>
      p.locator('[data-testid="attachment-limits-state"][data-customised="true"]').waitFor(),
    );
  });

  f.step("the subscriber's form shows the limits and the server enforces them", async () => {
    const page = (s.subscriber = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/"), "100001");
    await page.getByTestId("nav-tickets").waitFor();
    await page.goto(urlFor(SLUG, "/tickets/new"));
    const hint = page.getByTestId("attach-limits");
    await hint.filter({ hasText: "1.0 MB" }).waitFor();
    assert.match(await hint.innerText(), /2\.0 MB/);
    const name = `big-${runId}.txt`;
    await page.getByTestId("attach-files").setInputFiles({ name, mimeType: "text/plain", buffer: BIG });
    await page.getByRole("alert").filter({ hasText: name }).waitFor();
    // The server says the same to a client that sends it anyway.
    const refused = await page.evaluate(
      async ([fileName, size]) => {
        const session = await (await fetch("/api/v1/session")).json();
        const form = new FormData();
        form.append("category", "other");
        form.append("subject", `Limits ${fileName}`);
        form.append("description", "Too large for this provider");
        form.append("files", new Blob(["a".repeat(size)], { type: "text/plain" }), fileName);
        const r = await fetch("/api/v1/me/tickets", {
          method: "POST",
          headers: { "x-csrf-token": session.csrf_token },
          body: form,
        });
        return { status: r.status, body: await r.json() };
      },
      [name, BIG.length],
    );
    assert.equal(refused.status, 413);
    assert.equal(refused.body.code, "attachment_over_file_limit");
    assert.match(refused.body.detail, /1 MiB/);
    s.session = await page.context().storageState();
    await screenshots("attachment-limits-new-ticket", urlFor(SLUG, "/tickets/new"), s.session, async (p) => {
      await p.getByTestId("attach-limits").filter({ hasText: "1.0 MB" }).waitFor();
      await p.getByTestId("attach-files").setInputFiles({ name, mimeType: "text/plain", buffer: BIG });
      await p.getByRole("alert").filter({ hasText: name }).waitFor();
    });
  });

  f.step("back to the platform's limits", async () => {
    assert.equal(await putLimits(s.staff, 10 * MIB, 25 * MIB), 200);
    await s.staff.goto(urlFor(SLUG, "/console/settings/attachments"));
    await s.staff.getByTestId("attachment-settings-page").waitFor();
    assert.equal(await s.staff.getByTestId("attachment-max-file").inputValue(), "10");
  });
});
