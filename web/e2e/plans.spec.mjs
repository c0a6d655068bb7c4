// SaaS plans in a real browser: the operator creates a plan whose subscriber limit is what the
// demo ISP has now, edits it in the price list, and moves the demo ISP onto it; the ISP's owner
// then sees the plan page with the limit full and a warning banner across the console. The demo
// ISP goes back to its seeded plan at the end (also when a step fails), so later specs can still
// create subscribers. Then the owner adds the card the Kabinet subscription is charged to on the
// fake Stripe's hosted page (Checkout in setup mode) and comes back to "Visa •••• 4242", and the
// operator's tenant list shows each ISP's billing without a request per row. Screenshots at
// 1280x800 and 390x844 go to e2e/screenshots/plans-*.png.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/plans.spec.mjs
import assert from "node:assert/strict";
import { after, describe } from "node:test";
import { apiGet, closePage, DESKTOP, flow, newPage, PASSWORD, runId, screenshots, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

const SLUG = "demo";
const OWNER = "owner@demo.example";
const OPERATOR = "operator@kabinet.example";
const CODE = `e2e-${runId}`.slice(0, 32);
const NAME = `E2E ${runId}`;

/** A JSON request with the page's session and CSRF token; the response status and body. */
const apiSend = (page, method, path, body) =>
  page.evaluate(
    async ([m, url, payload]) => {
      const session = await fetch("/api/v1/session").then((r) => r.json());
      const response = await fetch(url, {
        method: m,
        headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrf_token },
        body: JSON.stringify(payload),
      });
      return { status: response.status, body: await response.json().catch(() => null) };
    },
    [method, `/api/v1${path}`, body],
  );

describe("the operator's price list and the ISP's plan page", { concurrency: false }, () => {
  const s = {};
  const f = flow("plans");
  after(async () => {
    if (s.operator && s.seededPlan) {
      await apiSend(s.operator, "PUT", `/platform/tenants/${SLUG}/plan`, { plan: s.seededPlan }).catch(() => undefined);
    }
    await closePage(s.operator);
    await closePage(s.owner);
  });

  f.step("the owner's plan page shows the seeded plan and its usage", async () => {
    const page = (s.owner = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/console"), OWNER);
    await page.getByTestId("nav-console-settings").click();
    await page.getByTestId("nav-console-plan").click();
    await page.getByTestId("console-plan").waitFor();
    s.before = await apiGet(page, "/console/plan");
    s.seededPlan = s.before.plan.code;
    s.used = s.before.usage.find((u) => u.limit === "subscribers").used;
    assert.ok(s.used > 0, "demo has subscribers");
  });

  f.step("the operator creates a plan, edits it and moves the ISP onto it", async () => {
    const page = (s.operator = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor("admin", "/"), OPERATOR, PASSWORD);
    await page.getByTestId("nav-platform-plans").click();
    await page.getByTestId("plan-table").waitFor();
    await page.getByTestId("plan-new").click();
    await page.getByTestId("plan-code").fill(CODE);
    await page.getByTestId("plan-name").fill(`${NAME} draft`);
    await page.getByTestId("plan-price").fill("9.50");
    await page.getByTestId("plan-subscribers").fill(String(s.used + 100));
    await page.getByTestId("plan-seats").fill("10");
    await page.getByTestId("plan-storage").fill("1");
    await page.getByTestId("plan-save").click();
    const row = page.locator(`[data-testid="plan-row"][data-code="${CODE}"]`);
    await row.waitFor();
    // The edit: the real name, and the subscriber limit down to what the ISP has now.
    await row.getByTestId("plan-edit").click();
    await page.getByTestId("plan-name").fill(NAME);
    await page.getByTestId("plan-subscribers").fill(String(s.used));
    await page.getByTestId("plan-save").click();
    await page.getByTestId("plan-form").waitFor({ state: "detached" });
    await row.filter({ hasText: NAME }).waitFor();
    const plans = await apiGet(page, "/platform/plans");
    const plan = plans.items.find((p) => p.code === CODE);
    assert.equal(plan.name, NAME);
    assert.equal(plan.max_subscribers, s.used);
    assert.equal(plan.price_per_subscriber, 950);
    await page.getByTestId("plan-move-tenant").selectOption(SLUG);
    await page.getByTestId("plan-move-plan").selectOption(CODE);
    await page.getByTestId("plan-move-save").click();
    await page.getByTestId("plan-move-done").waitFor();
    const tenants = await apiGet(page, "/platform/tenants");
    assert.equal(tenants.items.find((t) => t.slug === SLUG).saas_plan, CODE);
    await screenshots("plans-operator", urlFor("admin", "/plans"), await page.context().storageState(), (p) =>
      p.locator(`[data-testid="plan-row"][data-code="${CODE}"]`).waitFor(),
    );
  });

  f.step("the ISP's console warns that the plan is full and shows the plan page", async () => {
    const page = s.owner;
    await page.goto(urlFor(SLUG, "/console/plan"));
    await page.getByTestId("console-plan-name").filter({ hasText: NAME }).waitFor();
    const banner = page.getByTestId("plan-banner");
    await banner.waitFor();
    assert.equal(await banner.getAttribute("data-kind"), "critical");
    const subscribers = page.locator('[data-testid="plan-usage"][data-limit="subscribers"]');
    assert.equal(await subscribers.getAttribute("data-warning"), "critical");
    // The banner follows the owner across the console.
    await page.getByTestId("nav-console-tickets").click();
    await page.getByTestId("plan-banner").waitFor();
    // And the limit holds: one more subscriber is refused with the plan's problem.
    const refused = await apiSend(page, "POST", "/console/subscribers", {
      account_number: `99${Date.now().toString().slice(-6)}`,
      full_name: "Сверх лимита",
    });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, "plan_limit_reached");
    assert.deepEqual(refused.body.plan_limit, { limit: "subscribers", max: s.used, current: s.used + 1 });
    await screenshots("plans-console", urlFor(SLUG, "/console/plan"), await page.context().storageState(), (p) =>
      p.getByTestId("plan-banner").waitFor(),
    );
  });

  f.step("the ISP goes back to its seeded plan and the warning goes away", async () => {
    const page = s.operator;
    const moved = await apiSend(page, "PUT", `/platform/tenants/${SLUG}/plan`, { plan: s.seededPlan });
    assert.equal(moved.status, 200);
    const owner = s.owner;
    await owner.goto(urlFor(SLUG, "/console/plan"));
    await owner.getByTestId("console-plan").waitFor();
    const plan = await apiGet(owner, "/console/plan");
    assert.equal(plan.plan.code, s.seededPlan);
    assert.equal(plan.warning, s.before.warning);
  });

  f.step("the owner adds the subscription's card on Stripe's page and comes back to it", async () => {
    const page = s.owner;
    await page.goto(urlFor(SLUG, "/console/plan"));
    const card = page.getByTestId("saas-card");
    await card.waitFor();
    await card.getByTestId("saas-card-set").click();
    // Stripe's hosted page (the fake's), on the platform account: save a card.
    await page.waitForURL(/\/checkout\/pay\/cs_/);
    assert.match(await page.locator("body").innerText(), /Save a card/);
    await page.locator("#card").fill("4242 4242 4242 4242");
    await page.getByRole("button", { name: "Save card" }).click();
    // Back in the console, which asks Stripe for the result and shows the card.
    await page.waitForURL(/\/console\/plan/);
    await page.getByTestId("saas-card-saved").waitFor();
    const summary = page.getByTestId("saas-card-summary");
    assert.equal(await summary.getAttribute("data-last4"), "4242");
    assert.match(await summary.innerText(), /Visa •••• 4242, до \d{2}\/\d{2}/);
    assert.ok(!page.url().includes("card_session"), "the marker leaves the address");
    const billing = await apiGet(page, "/console/plan/billing");
    assert.equal(billing.card.brand, "visa");
    assert.equal(billing.card.last4, "4242");
    await screenshots("plans-card", urlFor(SLUG, "/console/plan"), await page.context().storageState(), (p) =>
      p.getByTestId("saas-card-summary").waitFor(),
    );
  });

  f.step("the operator's tenant list shows each ISP's billing from the list answer alone", async () => {
    const page = s.operator;
    const perRow = [];
    page.on("request", (request) => {
      if (/\/api\/v1\/platform\/tenants\/[^/]+\/billing/.test(request.url())) perRow.push(request.url());
    });
    await page.goto(urlFor("admin", "/"));
    const row = page.locator('[data-testid="tenant-billing"]').first();
    await row.waitFor();
    const tenants = await apiGet(page, "/platform/tenants");
    const demo = tenants.items.find((t) => t.slug === SLUG);
    assert.equal(demo.billing.has_card, true);
    assert.ok(tenants.items.every((t) => t.billing), "every row carries its billing");
    await page.locator('[data-testid="tenant-billing-card"][data-card="true"]').first().waitFor();
    assert.deepEqual(perRow, [], "no billing request per row");
    await screenshots("plans-tenants", urlFor("admin", "/"), await page.context().storageState(), (p) =>
      p.locator('[data-testid="tenant-billing"]').first().waitFor(),
    );
  });
});
