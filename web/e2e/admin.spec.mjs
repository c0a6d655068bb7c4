// Staff, roles and the audit log in a real browser: the owner builds a custom role from the
// permission catalogue, gives it to a colleague, finds both actions in the audit log (with the
// hash chain reported intact) and exports the log as CSV; then gives the colleague their
// built-in role back, so the demo stays as seeded. The role's name is unique per run, so this
// works on a fresh and on a used database. Screenshots at 1280x800 and 390x844 go to
// e2e/screenshots/admin-*.png.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/admin.spec.mjs
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, describe } from "node:test";
import { apiGet, closePage, DESKTOP, flow, newPage, runId, screenshots, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

const SLUG = "demo";
const OWNER = "owner@demo.example";
const COLLEAGUE = "viewer@demo.example";
const ROLE = `E2E reader ${runId}`;
// The read-only role's permissions: the colleague can do the same as before while holding it.
const PERMISSIONS = ["tickets.read", "subscribers.read", "billing.read", "orders.read"];

describe("demo: custom role, assignment, audit log and export", { concurrency: false }, () => {
  const s = {};
  const f = flow("admin");
  after(async () => {
    await closePage(s.owner);
  });

  f.step("the owner creates a custom role from the permission catalogue", async () => {
    const page = (s.owner = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/console"), OWNER);
    await page.getByTestId("nav-console-staff").click();
    await page.getByTestId("staff-list").waitFor();
    await page.getByTestId("role-new").click();
    await page.getByTestId("role-name").fill(ROLE);
    await page.getByTestId("role-description").fill("Created by the browser test");
    for (const permission of PERMISSIONS) {
      await page.locator(`[data-testid="role-permission"][data-permission="${permission}"]`).check();
    }
    await page.getByTestId("role-save").click();
    const role = page.locator(`[data-testid="custom-role"][data-role-name="${ROLE}"]`);
    await role.waitFor();
    const roles = await apiGet(page, "/console/roles");
    s.role = roles.custom.find((r) => r.name === ROLE);
    assert.ok(s.role, "the role is listed by the API");
    assert.deepEqual([...s.role.permissions].sort(), [...PERMISSIONS].sort());
  });

  f.step("the owner gives the role to a colleague", async () => {
    const page = s.owner;
    const row = page.locator(`[data-testid="staff-row"][data-email="${COLLEAGUE}"]`);
    const select = row.getByTestId("staff-role-select");
    await select.selectOption(`custom:${s.role.id}`);
    await page.waitForFunction(
      async ([email, id]) => {
        const response = await fetch("/api/v1/console/staff");
        const list = await response.json();
        return list.items.some((p) => p.email === email && p.custom_roles.some((r) => r.id === id));
      },
      [COLLEAGUE, s.role.id],
    );
    const staff = await apiGet(page, "/console/staff");
    s.colleague = staff.items.find((p) => p.email === COLLEAGUE);
    assert.equal(s.colleague.custom_roles[0].name, ROLE);
    s.session = await page.context().storageState();
    await screenshots("admin-staff", urlFor(SLUG, "/console/staff"), s.session, (p) =>
      p.locator(`[data-testid="custom-role"][data-role-name="${ROLE}"]`).waitFor(),
    );
  });

  f.step("the audit log shows both actions and an intact chain", async () => {
    const page = s.owner;
    await page.getByTestId("nav-console-audit").click();
    const chain = page.getByTestId("audit-chain");
    await chain.waitFor();
    assert.equal(await chain.getAttribute("data-state"), "intact");
    await page.getByTestId("audit-filter-target").fill(s.role.id);
    await page.getByTestId("audit-search").click();
    await page.locator('[data-testid="audit-entry"][data-action="role.create"]').waitFor();
    await page.getByTestId("audit-filter-target").fill(`staff:${s.colleague.id}`);
    await page.getByTestId("audit-filter-action").fill("staff.role");
    await page.getByTestId("audit-search").click();
    const assigned = page.locator('[data-testid="audit-entry"][data-action="staff.role"]').first();
    await assigned.waitFor();
    assert.match(await assigned.innerText(), new RegExp(`staff:${s.colleague.id}`));
    // The checkpoint shown (the chain's head), entered back as a saved one, matches; the same
    // number with another hash does not.
    const seq = (await page.getByTestId("audit-checkpoint-seq").innerText()).replace(/\D/g, "");
    const hash = (await page.getByTestId("audit-checkpoint-hash").innerText()).trim();
    assert.match(hash, /^[0-9a-f]{64}$/);
    await page.getByTestId("audit-checkpoint-input-seq").fill(seq);
    await page.getByTestId("audit-checkpoint-input-hash").fill(hash);
    await page.getByTestId("audit-checkpoint-check").click();
    const result = page.getByTestId("audit-checkpoint-result");
    await page.locator('[data-testid="audit-checkpoint-result"][data-result="matches"]').waitFor();
    const forged = (hash[0] === "0" ? "1" : "0") + hash.slice(1);
    await page.getByTestId("audit-checkpoint-input-hash").fill(forged);
    await page.getByTestId("audit-checkpoint-check").click();
    await page.locator('[data-testid="audit-checkpoint-result"][data-result="differs"]').waitFor();
    assert.ok((await result.innerText()).length > 0);
    await screenshots("admin-audit", urlFor(SLUG, "/console/audit"), s.session, (p) =>
      p.getByTestId("audit-entry").first().waitFor(),
    );
  });

  f.step("the owner exports the log as CSV", async () => {
    const page = s.owner;
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("audit-export").click()]);
    assert.match(download.suggestedFilename(), /^audit-.*\.csv$/);
    const csv = await readFile(await download.path(), "utf8");
    const lines = csv.trim().split("\n");
    assert.ok(lines[0].startsWith("seq,at,actor_kind"), lines[0]);
    assert.ok(lines.some((line) => line.includes("staff.role") && line.includes(s.colleague.id)), "the assignment is exported");
  });

  f.step("the colleague gets their built-in role back and the role can go", async () => {
    const page = s.owner;
    await page.getByTestId("nav-console-staff").click();
    const row = page.locator(`[data-testid="staff-row"][data-email="${COLLEAGUE}"]`);
    await row.getByTestId("staff-role-select").selectOption("built_in:read_only");
    const role = page.locator(`[data-testid="custom-role"][data-role-name="${ROLE}"]`);
    const remove = role.getByTestId("role-delete");
    await page.waitForFunction(
      (name) =>
        [...document.querySelectorAll('[data-testid="custom-role"]')].some(
          (el) => el.getAttribute("data-role-name") === name && !el.querySelector('[data-testid="role-delete"]').disabled,
        ),
      ROLE,
    );
    await remove.click();
    await role.waitFor({ state: "detached" });
    const staff = await apiGet(page, "/console/staff");
    assert.deepEqual(staff.items.find((p) => p.email === COLLEAGUE).roles, ["read_only"]);
  });
});
