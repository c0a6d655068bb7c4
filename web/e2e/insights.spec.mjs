// Satisfaction ratings and desk analytics, in a real browser: a subscriber opens a ticket, an
// agent resolves it, the subscriber rates it 1–5 with a comment on the ticket page; staff see
// the rating in the ticket view and the desk's figures (cards, daily chart, per-agent table,
// CSV) on the analytics page. The ticket carries this run's token and is closed at the end.
// Screenshots at 1280x800 and 390x844 go to e2e/screenshots/insights-*.png.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/insights.spec.mjs
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import { apiGet, closePage, DESKTOP, findInQueue, flow, newPage, runId, screenshots, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

const SLUG = "demo";
const AGENT = "agent@demo.example";
const OWNER = "owner@demo.example";
const SUBSCRIBER = "100001";
const SUBJECT = `Пропадает интернет вечером ${runId}`;
const COMMENT = `Починили быстро, спасибо! ${runId}`;

describe("demo: satisfaction ratings and desk analytics", { concurrency: false }, () => {
  const s = {};
  const f = flow("insights");
  after(async () => {
    await closePage(s.subscriber);
    await closePage(s.agent);
    await closePage(s.owner);
  });

  f.step("a subscriber opens a ticket and an agent resolves it", async () => {
    const sub = (s.subscriber = await newPage(DESKTOP));
    f.pages.push(sub);
    await signIn(sub, urlFor(SLUG, "/"), SUBSCRIBER);
    await sub.getByTestId("nav-tickets").waitFor();
    s.subscriberSession = await sub.context().storageState();
    await sub.goto(urlFor(SLUG, "/tickets/new"));
    await sub.getByTestId("new-ticket-category").selectOption("connectivity");
    await sub.getByTestId("new-ticket-subject").fill(SUBJECT);
    await sub.getByTestId("new-ticket-description").fill("Каждый вечер после 21:00 пропадает связь на 10 минут.");
    await sub.getByTestId("new-ticket-submit").click();
    await sub.waitForURL(/\/tickets\/[0-9a-f-]{36}$/);
    s.ticketId = new URL(sub.url()).pathname.split("/").pop();
    // Not resolved yet: no rating form.
    await sub.getByTestId("ticket").waitFor();
    assert.equal(await sub.getByTestId("csat-form").count(), 0);

    const agent = (s.agent = await newPage(DESKTOP));
    f.pages.push(agent);
    await signIn(agent, urlFor(SLUG, "/console"), AGENT);
    await agent.getByTestId("nav-console-tickets").waitFor();
    // Agents do not see desk analytics.
    assert.equal(await agent.getByTestId("nav-console-analytics").count(), 0);
    const row = await findInQueue(agent, SUBJECT);
    assert.ok(row, "the ticket is in the queue");
    await agent.goto(urlFor(SLUG, `/console/tickets/${s.ticketId}`));
    await agent.getByTestId("desk-status").selectOption("resolved");
    await agent.waitForFunction(() => document.querySelector('[data-testid="desk-status"]')?.value === "resolved");
  });

  f.step("the subscriber rates the resolved ticket", async () => {
    const sub = s.subscriber;
    await sub.goto(urlFor(SLUG, `/tickets/${s.ticketId}`));
    await sub.getByTestId("csat-form").waitFor();
    await screenshots("insights-rate", sub.url(), s.subscriberSession, (p) => p.getByTestId("csat-form").waitFor());
    await sub.getByTestId("csat-score-5").check();
    await sub.getByTestId("csat-comment").fill(COMMENT);
    await sub.getByTestId("csat-submit").click();
    const given = sub.getByTestId("csat-given");
    await given.waitFor();
    assert.match(await given.textContent(), /★★★★★/);
    assert.match(await given.textContent(), new RegExp(runId));
    const mine = await apiGet(sub, `/me/tickets/${s.ticketId}/rating`);
    assert.equal(mine.rating.score, 5);
    await screenshots("insights-rated", sub.url(), s.subscriberSession, (p) => p.getByTestId("csat-given").waitFor());
  });

  f.step("staff see the rating in the ticket view", async () => {
    const agent = s.agent;
    await agent.goto(urlFor(SLUG, `/console/tickets/${s.ticketId}`));
    const rating = agent.getByTestId("ticket-rating");
    await rating.waitFor();
    assert.match(await rating.textContent(), new RegExp(runId));
    s.agentSession = await agent.context().storageState();
    await screenshots("insights-ticket", agent.url(), s.agentSession, (p) => p.getByTestId("ticket-rating").waitFor());
  });

  f.step("the owner reads the desk analytics and downloads them as CSV", async () => {
    const owner = (s.owner = await newPage(DESKTOP));
    f.pages.push(owner);
    await signIn(owner, urlFor(SLUG, "/console"), OWNER);
    await owner.getByTestId("nav-console-analytics").click();
    await owner.getByTestId("analytics-cards").waitFor();
    const tickets = Number(await owner.getByTestId("card-tickets").locator("strong").textContent());
    assert.ok(tickets >= 1, `tickets opened: ${tickets}`);
    assert.ok((await owner.getByTestId("analytics-bar").count()) >= 28, "a bar per day of the last 30");
    await owner.getByTestId("analytics-team-row").waitFor();
    const csat = await owner.getByTestId("card-csat").locator("strong").textContent();
    assert.notEqual(csat, "—", "today's rating counts");
    const href = await owner.getByTestId("analytics-csv").getAttribute("href");
    assert.ok(href, "the CSV link");
    const csv = await owner.evaluate(async (url) => {
      const response = await fetch(url);
      return {
        type: response.headers.get("Content-Type"),
        disposition: response.headers.get("Content-Disposition"),
        body: await response.text(),
      };
    }, href);
    assert.match(csv.type, /^text\/csv/);
    assert.match(csv.disposition, /^attachment; filename="desk-analytics-/);
    assert.match(csv.body.split("\r\n")[0], /^agent,tickets,/);
    s.ownerSession = await owner.context().storageState();
    await screenshots("insights-analytics", owner.url(), s.ownerSession, (p) => p.getByTestId("analytics-cards").waitFor());
  });

  f.step("clean up: the ticket is closed", async () => {
    const agent = s.agent;
    await agent.goto(urlFor(SLUG, `/console/tickets/${s.ticketId}`));
    await agent.getByTestId("desk-status").selectOption("closed");
    await agent.getByTestId("desk-status").waitFor({ state: "detached" });
  });
});
