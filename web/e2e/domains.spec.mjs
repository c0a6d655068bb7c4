// Custom domains in a real browser: the owner adds a domain, sees the exact TXT and CNAME records
// to create, presses «Проверить» and is told the record is not found; then (when a DNS server is
// wired in, see below) the record appears, the check succeeds, and the portal answers at that
// domain. The domain is removed at the end.
//
// The success path needs the served app to resolve through this spec's own tiny DNS responder:
// run the app with KABINET_DNS_RESOLVER=127.0.0.1:<port> and the spec with
// KABINET_E2E_DNS_PORT=<port>. Without them only the "not found" path runs (the app then asks
// the system's resolver, which knows nothing of the made-up domain).
// Screenshots at 1280x800 and 390x844 go to e2e/screenshots/domains-*.png.
//
// Run: cd web && KABINET_URL_TEMPLATE="http://{slug}.localhost:<port>" node --test e2e/domains.spec.mjs
import assert from "node:assert/strict";
import dgram from "node:dgram";
import http from "node:http";
import { after, before, describe } from "node:test";
import { closePage, DESKTOP, flow, newPage, runId, screenshots, signIn, urlFor, useBrowser } from "./support.mjs";

useBrowser();

const SLUG = "demo";
const STAFF = "owner@demo.example";
const DOMAIN = `lk-${runId}.demo-isp.ru`;
const DNS_PORT = process.env.KABINET_E2E_DNS_PORT ? Number(process.env.KABINET_E2E_DNS_PORT) : null;

/**
 * A minimal authoritative DNS responder over UDP: TXT answers from `records` (name → value),
 * NXDOMAIN for every other name. Enough for the app's resolver (hickory) to verify a domain.
 */
function startDns(port, records) {
  const socket = dgram.createSocket("udp4");
  socket.on("message", (query, peer) => {
    if (query.length < 12) return;
    let offset = 12;
    const labels = [];
    while (offset < query.length && query[offset] !== 0) {
      const length = query[offset];
      labels.push(query.subarray(offset + 1, offset + 1 + length).toString("ascii"));
      offset += length + 1;
    }
    const questionEnd = offset + 5; // the root label, QTYPE, QCLASS
    if (questionEnd > query.length) return;
    const qtype = query.readUInt16BE(offset + 1);
    const name = labels.join(".").toLowerCase();
    const value = records.get(name);
    const answers = [];
    if (value !== undefined && qtype === 16) {
      const text = Buffer.from(value, "utf8");
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
      rr.writeUInt16BE(16, 2); // TXT
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(0, 6); // TTL
      rr.writeUInt16BE(text.length + 1, 10);
      answers.push(rr, Buffer.from([text.length]), text);
    }
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // the id
    const rcode = value === undefined ? 3 : 0; // NXDOMAIN : NOERROR
    header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | rcode, 2); // QR, AA, RD echoed
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length ? 1 : 0, 6);
    socket.send(Buffer.concat([header, query.subarray(12, questionEnd), ...answers]), peer.port, peer.address);
  });
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, "127.0.0.1", () => {
      resolve(socket);
    });
  });
}

/** GET `path` from the app with `Host: host` (the browser cannot resolve the made-up domain). */
function getWithHost(host, path) {
  const app = new URL(urlFor(SLUG, "/"));
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: app.port || 80, path, headers: { host: `${host}:${app.port}` } },
      (res) => {
        let body = "";
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => {
          resolve({ status: res.statusCode, body });
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("demo: a custom domain from adding to serving", { concurrency: false }, () => {
  const s = {};
  const records = new Map();
  const f = flow("domains");
  before(async () => {
    if (DNS_PORT) s.dns = await startDns(DNS_PORT, records);
  });
  after(async () => {
    if (s.staff && s.added && !s.removed) {
      await s.staff.goto(urlFor(SLUG, "/console/settings/domains")).catch(() => undefined);
      const remove = s.staff.getByTestId("domain-item").filter({ hasText: DOMAIN }).getByTestId("domain-remove");
      if (await remove.isVisible().catch(() => false)) {
        s.staff.once("dialog", (dialog) => {
          void dialog.accept();
        });
        await remove.click();
      }
    }
    await closePage(s.staff);
    s.dns?.close();
  });

  f.step("the owner adds a domain and sees the records to create", async () => {
    const page = (s.staff = await newPage(DESKTOP));
    f.pages.push(page);
    await signIn(page, urlFor(SLUG, "/console"), STAFF);
    await page.getByTestId("nav-console-settings").click();
    await page.getByTestId("nav-console-domains").click();
    await page.getByTestId("domains-platform").waitFor();
    // Bad input is refused with the page's own words.
    await page.getByTestId("domain-input").fill("10.0.0.1");
    await page.getByTestId("domain-add").click();
    await page.getByTestId("domain-error").filter({ hasText: "Это не доменное имя" }).waitFor();
    await page.getByTestId("domain-input").fill(DOMAIN.toUpperCase());
    await page.getByTestId("domain-add").click();
    const item = page.getByTestId("domain-item").filter({ hasText: DOMAIN });
    await item.waitFor();
    s.added = true;
    assert.equal(await page.getByTestId("domain-input").inputValue(), "");
    assert.equal(await item.getAttribute("data-status"), "pending");
    assert.equal(await item.getByTestId("domain-status").textContent(), "Ждёт проверки");
    assert.equal(await item.getByTestId("domain-txt-name").textContent(), `_kabinet-challenge.${DOMAIN}`);
    s.txtValue = await item.getByTestId("domain-txt-value").textContent();
    assert.match(s.txtValue ?? "", /^kabinet-verification=[0-9a-f]{32}$/);
    assert.equal(await item.getByTestId("domain-cname-name").textContent(), DOMAIN);
    assert.match((await item.getByTestId("domain-cname-value").textContent()) ?? "", /^demo\./);
    await item.getByTestId("domain-txt-value-copy").waitFor();
    // Not served before it is proven.
    assert.equal((await getWithHost(DOMAIN, "/api/v1/site")).status, 404);
  });

  f.step("«Проверить» says the record is not found", async () => {
    const page = s.staff;
    const item = page.getByTestId("domain-item").filter({ hasText: DOMAIN });
    await item.getByTestId("domain-verify").click();
    const failure = item.getByTestId("domain-failure");
    await failure.waitFor({ timeout: 20_000 });
    if (DNS_PORT) {
      assert.equal(await failure.getAttribute("data-failure"), "nxdomain");
      await failure.filter({ hasText: "Запись не найдена" }).waitFor();
    }
    assert.equal(await item.getAttribute("data-status"), "failed");
    assert.equal(await item.getByTestId("domain-status").textContent(), "Не подтверждён");
    s.staffSession = await page.context().storageState();
    await screenshots("domains-not-found", urlFor(SLUG, "/console/settings/domains"), s.staffSession, (p) =>
      p.getByTestId("domain-item").filter({ hasText: DOMAIN }).getByTestId("domain-failure").waitFor(),
    );
  });

  f.step("with the TXT record in place the check succeeds and the portal answers there", async () => {
    // Without a DNS responder wired in (KABINET_E2E_DNS_PORT) there is nothing to prove it with.
    if (!DNS_PORT) return;
    records.set(`_kabinet-challenge.${DOMAIN}`, s.txtValue);
    const page = s.staff;
    const item = page.getByTestId("domain-item").filter({ hasText: DOMAIN });
    await item.getByTestId("domain-verify").click();
    await page.getByTestId("domain-item").filter({ hasText: DOMAIN }).and(page.locator('[data-status="verified"]')).waitFor();
    assert.equal(await item.getByTestId("domain-status").textContent(), "Подтверждён");
    await item.getByTestId("domain-verified-note").waitFor();
    const site = await getWithHost(DOMAIN, "/api/v1/site");
    assert.equal(site.status, 200, site.body);
    assert.equal(JSON.parse(site.body).branding.slug, SLUG);
    await screenshots("domains-verified", urlFor(SLUG, "/console/settings/domains"), s.staffSession, (p) =>
      p.getByTestId("domain-item").filter({ hasText: DOMAIN }).and(p.locator('[data-status="verified"]')).waitFor(),
    );
  });

  f.step("removing the domain stops serving it", async () => {
    const page = s.staff;
    const item = page.getByTestId("domain-item").filter({ hasText: DOMAIN });
    page.once("dialog", (dialog) => {
      void dialog.accept();
    });
    await item.getByTestId("domain-remove").click();
    await item.waitFor({ state: "detached" });
    s.removed = true;
    assert.equal((await getWithHost(DOMAIN, "/api/v1/site")).status, 404);
  });
});
