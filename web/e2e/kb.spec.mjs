// The knowledge base and ticket search, in a real browser: staff write and publish an article;
// a subscriber typing a matching subject on the new-ticket form sees it suggested, opens it
// (recorded as a deflection), then sends the ticket anyway; staff find that ticket by another
// form of a word in it, with the match highlighted. Every run uses its own token, so it works
// on a fresh and on a used database. Screenshots at 1280x800 and 390x844 go to
// e2e/screenshots/kb-*.png.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/kb.spec.mjs
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import { apiGet, closePage, DESKTOP, flow, newPage, runId, screenshots, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

const SLUG = "demo";
const STAFF = "agent@demo.example";
const SUBSCRIBER = "100001";
// One word the search engine keeps as it is (letters and digits), unique to this run.
const token = `kb${runId.replace(/[^0-9a-z]/g, "")}`;
const TITLE = `Мигает красная лампочка LOS ${token}`;

describe("demo: knowledge base, deflection and ticket search", { concurrency: false }, () => {
  const s = {};
  const f = flow("kb");
  after(async () => {
    await closePage(s.staff);
    await closePage(s.subscriber);
  });

  f.step("staff write and publish an article", async () => {
    const page = (s.staff = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/console"), STAFF);
    await page.getByTestId("nav-console-kb").click();
    await page.getByTestId("kb-new").click();
    await page.getByTestId("kb-title").fill(TITLE);
    await page
      .getByTestId("kb-body")
      .fill(`Красная лампочка **LOS** значит, что до терминала не доходит сигнал.\n\n- Проверьте, не перегнут ли оптический кабель\n- Перезагрузите терминал\n\nКод статьи: ${token}`);
    await page.getByTestId("kb-category").selectOption("connectivity");
    await page.getByTestId("kb-publish").click();
    await page.getByTestId("kb-unpublish").waitFor();
    s.staffSession = await page.context().storageState();
    s.statsBefore = await apiGet(page, "/console/tickets/deflection-stats");
    await page.getByTestId("nav-console-kb").click();
    const row = page.getByTestId("kb-admin-row").filter({ hasText: TITLE });
    await row.waitFor();
    assert.equal(await row.getAttribute("data-state"), "published");
    await screenshots("kb-editor", page.url(), s.staffSession, (p) => p.getByTestId("kb-admin-list").waitFor());
  });

  f.step("a subscriber typing the problem sees the article suggested and opens it", async () => {
    const page = (s.subscriber = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/"), SUBSCRIBER);
    await page.getByTestId("nav-tickets").waitFor();
    s.subscriberSession = await page.context().storageState();
    await page.goto(urlFor(SLUG, "/tickets/new"));
    await page.getByTestId("new-ticket-category").selectOption("connectivity");
    await page.getByTestId("new-ticket-subject").fill(`Горит лампочка LOS ${token}`);
    const suggestion = page.getByTestId("kb-suggestion").filter({ hasText: TITLE });
    await suggestion.waitFor();
    assert.ok((await suggestion.getByTestId("search-mark").count()) > 0, "the snippet marks what matched");
    const [article] = await Promise.all([
      page.context().waitForEvent("page"),
      suggestion.getByTestId("kb-suggestion-link").click(),
    ]);
    await article.getByTestId("kb-article-title").waitFor();
    assert.equal(await article.getByTestId("kb-article-title").textContent(), TITLE);
    await article.close();
    for (const [name, url, ready] of [
      [
        "kb-suggestions",
        urlFor(SLUG, "/tickets/new"),
        async (p) => {
          await p.getByTestId("new-ticket-subject").fill(`Горит лампочка LOS ${token}`);
          await p.getByTestId("kb-suggestion").first().waitFor();
        },
      ],
      ["kb-article", urlFor(SLUG, "/kb"), (p) => p.getByTestId("kb-list").waitFor()],
    ]) {
      await screenshots(name, url, s.subscriberSession, ready);
    }
  });

  f.step("the subscriber sends the ticket anyway; staff find it by a word form, highlighted", async () => {
    const page = s.subscriber;
    await page.getByTestId("new-ticket-description").fill(`Нет подключения с утра, лампочка горит. ${token}`);
    await page.getByTestId("new-ticket-submit").click();
    await page.waitForURL(/\/tickets\/[0-9a-f-]{36}$/);

    const stats = await apiGet(s.staff, "/console/tickets/deflection-stats");
    assert.equal(stats.tickets, s.statsBefore.tickets + 1, "the ticket counts");
    assert.ok(stats.tickets_with_suggestions > s.statsBefore.tickets_with_suggestions, "with its suggestions");

    const staff = s.staff;
    await staff.goto(urlFor(SLUG, "/console/tickets"));
    await staff.getByTestId("ticket-search").fill(`подключение ${token}`);
    await staff.getByTestId("ticket-search-submit").click();
    const hit = staff.getByTestId("ticket-search-hit").filter({ hasText: token });
    await hit.waitFor();
    const marks = await hit.getByTestId("search-mark").allTextContents();
    assert.ok(marks.map((m) => m.toLowerCase()).includes("подключения"), `highlighted: ${marks.join(", ")}`);
    await screenshots("kb-ticket-search", staff.url(), s.staffSession, (p) =>
      p.getByTestId("ticket-search-hit").first().waitFor(),
    );
  });
});
