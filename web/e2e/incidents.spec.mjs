// Outage incidents in a real browser: staff declare an outage for a street, the affected
// subscriber sees it on the dashboard and in the new-ticket self-diagnosis, their ticket about it
// is linked automatically, the update staff post reaches it, and closing the incident resolves
// it. The incident is closed at the end (also when a step fails), so later specs see no outage.
// Screenshots at 1280x800 and 390x844 go to e2e/screenshots/incidents-*.png.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/incidents.spec.mjs
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import { closePage, DESKTOP, flow, newPage, runId, screenshots, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

const SLUG = "demo";
const STAFF = "owner@demo.example";
// Мария Смирнова, "Москва, ул. Лесная, д. 7, кв. 3".
const SUBSCRIBER = "100002";
const TITLE = `Лесная, 7: нет связи ${runId}`;
const SUBJECT = `Пропал интернет ${runId}`;
const UPDATE = `Меняем коммутатор в подъезде, ${runId}`;

describe("demo: an outage from declaration to close", { concurrency: false }, () => {
  const s = {};
  const f = flow("incidents");
  after(async () => {
    // Leave no active outage behind for the specs that follow.
    if (s.staff && s.incidentUrl && !s.closed) {
      await s.staff.goto(s.incidentUrl).catch(() => undefined);
      const close = s.staff.getByTestId("incident-close");
      if (await close.isVisible().catch(() => false)) {
        s.staff.once("dialog", (dialog) => {
          void dialog.accept();
        });
        await close.click();
        await s.staff.getByTestId("incident-closed-at").waitFor().catch(() => undefined);
      }
    }
    await closePage(s.staff);
    await closePage(s.subscriber);
  });

  f.step("staff declare an outage for a house", async () => {
    const page = (s.staff = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/console"), STAFF);
    await page.getByTestId("nav-console-incidents").click();
    await page.getByTestId("incident-title").fill(TITLE);
    await page.getByTestId("incident-message").fill("Повреждён кабель, бригада уже на месте.");
    await page.getByTestId("incident-fragments").fill("ул. Лесная, д. 7");
    await page.getByTestId("incident-submit").click();
    await page.getByTestId("incident-heading").filter({ hasText: TITLE }).waitFor();
    s.incidentUrl = page.url();
    assert.equal(await page.getByTestId("incident-affected").textContent(), "1");
    s.staffSession = await page.context().storageState();
    await screenshots("incidents-console", urlFor(SLUG, "/console/incidents"), s.staffSession, (p) =>
      p.getByTestId("incident-row").filter({ hasText: TITLE }).waitFor(),
    );
  });

  f.step("the subscriber sees it on the dashboard and before writing", async () => {
    const page = (s.subscriber = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/"), SUBSCRIBER);
    await page.getByTestId("dashboard-outage").filter({ hasText: TITLE }).waitFor();
    s.subscriberSession = await page.context().storageState();
    await screenshots("incidents-dashboard", urlFor(SLUG, "/"), s.subscriberSession, (p) =>
      p.getByTestId("dashboard-outage").filter({ hasText: TITLE }).waitFor(),
    );
    await page.goto(urlFor(SLUG, "/tickets/new"));
    await page.getByTestId("diagnosis-outage").filter({ hasText: TITLE }).waitFor();
    await screenshots("incidents-new-ticket", urlFor(SLUG, "/tickets/new"), s.subscriberSession, (p) =>
      p.getByTestId("diagnosis-outage").filter({ hasText: TITLE }).waitFor(),
    );
    // Writing anyway: the ticket joins the incident.
    await page.getByTestId("new-ticket-category").selectOption("connectivity");
    await page.getByTestId("new-ticket-subject").fill(SUBJECT);
    await page.getByTestId("new-ticket-description").fill("С утра нет интернета.");
    await page.getByTestId("new-ticket-submit").click();
    await page.getByTestId("ticket-subject").filter({ hasText: SUBJECT }).waitFor();
    s.ticketUrl = page.url();
  });

  f.step("staff see the linked ticket and post an update", async () => {
    const page = s.staff;
    await page.goto(s.incidentUrl);
    await page.getByTestId("incident-ticket").filter({ hasText: SUBJECT }).waitFor();
    await page.getByTestId("incident-update-body").fill(UPDATE);
    await page.getByTestId("incident-update-submit").click();
    await page.getByTestId("incident-update-posted").waitFor();
    await page.getByTestId("incident-update").filter({ hasText: UPDATE }).waitFor();
    await screenshots("incidents-detail", s.incidentUrl, s.staffSession, (p) =>
      p.getByTestId("incident-update").filter({ hasText: UPDATE }).waitFor(),
    );
  });

  f.step("the update reaches the subscriber's ticket", async () => {
    const page = s.subscriber;
    await page.goto(s.ticketUrl);
    await page.getByText(UPDATE).first().waitFor();
  });

  f.step("closing the incident resolves the ticket", async () => {
    const page = s.staff;
    await page.goto(s.incidentUrl);
    await page.getByTestId("incident-close-message").fill("Кабель заменён.");
    page.once("dialog", (dialog) => {
      void dialog.accept();
    });
    await page.getByTestId("incident-close").click();
    await page.getByTestId("incident-closed-at").waitFor();
    s.closed = true;
    const status = page.getByTestId("incident-ticket").filter({ hasText: SUBJECT }).getByTestId("incident-ticket-status");
    await status.filter({ hasText: /Решено|Resolved/ }).waitFor();
    const sub = s.subscriber;
    await sub.goto(urlFor(SLUG, "/"));
    await sub.getByTestId("dashboard").waitFor();
    assert.equal(await sub.getByTestId("dashboard-outage").filter({ hasText: TITLE }).count(), 0);
  });
});
