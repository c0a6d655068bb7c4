// Staff invitations in a real browser: the owner invites a new colleague by e-mail with a role;
// the letter (a real SMTP peer: e2e/smtp-sink.mjs) carries a link to the ISP's own host, which
// the invitee opens signed out in a fresh browser, sets a name and password and lands in the
// console with that role. The owner then sees them on the staff list and deactivates them again
// (each run invites its own address, so the demo ISP keeps only a deactivated extra). A used
// link says so. Screenshots at 1280x800 and 390x844 go to e2e/screenshots/invite-*.png.
//
// Env: KABINET_E2E_MAILBOX (the sink's HTTP address); without it this flow is skipped.
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import {
  closePage, DESKTOP, flow, linkFromMail, MAILBOX, newPage, runId, screenshots, signIn, urlFor, useBrowser,
} from "./support.mjs";

useBrowser();

const SLUG = "demo";
const OWNER = "owner@demo.example";
const INVITEE = `invitee-${runId}@invite.example`;
const INVITEE_NAME = `Новый Техник ${runId}`;
const INVITEE_PASSWORD = "an invitee password 7";

describe("demo: inviting a staff member by e-mail", { concurrency: false, skip: !MAILBOX && "KABINET_E2E_MAILBOX is not set" }, () => {
  const s = {};
  const f = flow("invite");
  after(async () => {
    await closePage(s.owner);
    await closePage(s.invitee);
  });

  f.step("the owner invites a technician", async () => {
    const page = (s.owner = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/console"), OWNER);
    await page.getByTestId("nav-console-staff").click();
    await page.getByTestId("invite-email").fill(INVITEE);
    await page.getByTestId("invite-role").selectOption("built_in:technician");
    await page.getByTestId("invite-send").click();
    await page.getByTestId("invite-sent").waitFor();
    const row = page.getByTestId("invitation").filter({ hasText: INVITEE });
    await row.waitFor();
    assert.match((await row.textContent()) ?? "", /Техник/);
    s.ownerSession = await page.context().storageState();
    await screenshots("invite-console", urlFor(SLUG, "/console/staff"), s.ownerSession, (p) =>
      p.getByTestId("invitation").filter({ hasText: INVITEE }).waitFor(),
    );
  });

  f.step("the invitee opens the link signed out, sets a password and lands in the console", async () => {
    s.link = await linkFromMail(INVITEE, urlFor(SLUG, "/console/invite?token="));
    await screenshots("invite-accept", s.link, undefined, (p) => p.getByTestId("invite-accept").waitFor());
    const page = (s.invitee = await newPage(DESKTOP));
    f.pages.push(page);
    await page.goto(s.link);
    await page.getByTestId("invite-accept").waitFor();
    assert.ok(!page.url().includes("token="), "the token leaves the address bar");
    assert.match((await page.getByTestId("invite-accept").textContent()) ?? "", /Демо Телеком/);
    assert.match((await page.getByTestId("invite-accept-role").textContent()) ?? "", /Техник/);
    await page.getByTestId("invite-accept-name").fill(INVITEE_NAME);
    await page.getByTestId("invite-accept-password").fill(INVITEE_PASSWORD);
    await page.getByTestId("invite-accept-repeat").fill(INVITEE_PASSWORD);
    await page.getByTestId("invite-accept-submit").click();
    await page.getByTestId("nav-console-tickets").waitFor();
    // A technician manages neither staff nor audit.
    assert.equal(await page.getByTestId("nav-console-staff").count(), 0);
    const session = await page.evaluate(() => fetch("/api/v1/session").then((r) => r.json()));
    assert.deepEqual(session.roles, ["technician"]);
    assert.equal(session.display_name, INVITEE_NAME);
  });

  f.step("a used link says so", async () => {
    await screenshots("invite-used", s.link, undefined, (p) => p.getByTestId("invite-dead").waitFor());
    const page = await newPage(DESKTOP);
    try {
      await page.goto(s.link);
      await page.getByTestId("invite-dead").waitFor();
      assert.equal(await page.getByTestId("invite-dead").getAttribute("data-code"), "invitation_accepted");
    } finally {
      await closePage(page);
    }
  });

  f.step("the owner sees them on the staff list and deactivates them", async () => {
    const page = s.owner;
    await page.goto(urlFor(SLUG, "/console/staff"));
    const row = page.getByTestId("staff-row").and(page.locator(`[data-email="${INVITEE}"]`));
    await row.waitFor();
    assert.match((await row.textContent()) ?? "", new RegExp(INVITEE_NAME));
    assert.equal(await page.getByTestId("invitation").filter({ hasText: INVITEE }).count(), 0);
    await row.getByTestId("staff-deactivate").click();
    await row.getByTestId("staff-activate").waitFor();
    // Their session ended at once.
    const status = await s.invitee.evaluate(() => fetch("/api/v1/console/tickets").then((r) => r.status));
    assert.equal(status, 401);
  });
});
