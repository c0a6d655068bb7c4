// What every browser spec shares: the target URL, Chromium with its flags, pages at desktop and
// phone sizes, sign-in, screenshots (saved to e2e/screenshots/, cleared once per run by run.mjs)
// and flows whose steps build on each other.
//
// Env: KABINET_URL_TEMPLATE (default http://{slug}.localhost:8080; the operator is {slug}=admin),
//      CHROMIUM_PATH (default /usr/bin/chromium).
// Chromium resolves *.localhost to loopback by itself, so no /etc/hosts entries are needed.
import assert from "node:assert/strict";
import { access } from "node:fs/promises";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

export const URL_TEMPLATE = process.env.KABINET_URL_TEMPLATE ?? "http://{slug}.localhost:8080";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOTS = new URL("./screenshots/", import.meta.url).pathname;
export const PASSWORD = "demo-password";
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
export const VIEWPORTS = { desktop: DESKTOP, phone: PHONE };
// Bounded everywhere: one browser action, one navigation, one step.
export const ACTION_TIMEOUT = 15_000;
export const NAVIGATION_TIMEOUT = 20_000;
export const STEP_TIMEOUT = 90_000;

export const urlFor = (slug, path = "/") => URL_TEMPLATE.replace("{slug}", slug) + path;
export const runId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

/** GET an API path with the page's session; the JSON body. */
export const apiGet = (page, path) =>
  page.evaluate(async (url) => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
    return response.json();
  }, `/api/v1${path}`);

/** The date of `iso` as the page writes it (its language, the context's time zone; "long" or "medium"). */
export const pageDate = (page, iso, dateStyle = "long") =>
  page.evaluate(
    ([value, style]) => new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: style }).format(new Date(value)),
    [iso, dateStyle],
  );

/** Whole roubles in minor units as ru-RU writes them: 1500_00 → "1 500,00" (any group space). */
export const moneyPattern = (minor) =>
  String(minor / 100)
    .replace(/\B(?=(\d{3})+$)/g, "[\\s\\u00a0\\u202f]")
    .concat(",00");

/** @type {import("playwright-core").Browser} */
let browser;
const openContexts = new Set();

/**
 * Registers the spec file's hooks: launch Chromium (and check the backend answers) before its
 * tests, close every page and the browser after. Call once at the top of each spec file.
 */
export function useBrowser() {
before(async () => {
  await access(CHROMIUM).catch(() => {
    throw new Error(`no Chromium at ${CHROMIUM}; set CHROMIUM_PATH`);
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    timeout: 30_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  // Fail fast and say why when nothing answers, rather than timing out on a sign-in form.
  const page = await newPage(DESKTOP);
  try {
    const url = urlFor("demo", "/api/v1/site");
    const response = await page.goto(url, { timeout: 10_000 }).catch((error) => {
      throw new Error(`backend not reachable at ${url} (${error.message.split("\n")[0]}); start \`kabinet serve\``);
    });
    assert.equal(response?.status(), 200, `GET ${url} answers 200`);
  } finally {
    await closePage(page);
  }
});

after(async () => {
  await Promise.allSettled([...openContexts].map((c) => c.close()));
  await browser?.close();
});
}

export async function newPage(viewport, storageState) {
  const phone = viewport.width < 600;
  const context = await browser.newContext({
    viewport,
    storageState,
    isMobile: phone,
    hasTouch: phone,
    deviceScaleFactor: phone ? 2 : 1,
    locale: "ru-RU",
    timezoneId: "Europe/Moscow",
  });
  context.setDefaultTimeout(ACTION_TIMEOUT);
  context.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT);
  openContexts.add(context);
  context.on("close", () => openContexts.delete(context));
  return context.newPage();
}

export async function closePage(page) {
  await page?.context().close();
}

export async function signIn(page, url, identifier, password = PASSWORD) {
  await page.goto(url);
  await page.getByTestId("login-identifier").fill(identifier);
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
}

/** The queue is paged; follow "load more" until the row shows up or the queue ends. */
export async function findInQueue(page, subject) {
  const row = page.getByTestId("console-ticket-row").filter({ hasText: subject });
  await page.getByTestId("ticket-queue").or(page.getByTestId("queue-empty")).first().waitFor();
  for (let pages = 0; pages < 50; pages++) {
    if ((await row.count()) > 0) return row.first();
    const more = page.getByTestId("queue-load-more");
    if ((await more.count()) === 0) return null;
    const shown = await page.getByTestId("console-ticket-row").count();
    await more.click();
    await page.getByTestId("console-ticket-row").nth(shown).waitFor();
  }
  return null;
}

/**
 * Opens `url` at both sizes with the given session (a storage state; none = signed out), waits
 * for `ready`, and saves `<name>-desktop.png` and `<name>-phone.png`.
 */
export async function screenshots(name, url, storageState, ready) {
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    const page = await newPage(viewport, storageState);
    try {
      await page.goto(url);
      await ready(page);
      await page.evaluate(() => document.fonts.ready);
      await page.screenshot({ path: `${SCREENSHOTS}${name}-${size}.png`, fullPage: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${name} at ${size}: page is ${overflow}px wider than the screen`);
    } finally {
      await closePage(page);
    }
  }
}

/**
 * A test in a flow whose steps build on each other: once one fails, the rest are skipped (not
 * failed with follow-on errors), and the failing page is saved as `FAILED-<flow>-<n>.png`.
 */
export function flow(name) {
  let broken = false;
  let n = 0;
  const pages = [];
  return {
    pages,
    step(title, fn) {
      const index = ++n;
      test(title, { timeout: STEP_TIMEOUT }, async (t) => {
        if (broken) {
          t.skip("an earlier step of this flow failed");
          return;
        }
        try {
          await fn();
        } catch (error) {
          broken = true;
          await Promise.allSettled(
            pages
              .filter((p) => p && !p.isClosed())
              .map((p, i) => p.screenshot({ path: `${SCREENSHOTS}FAILED-${name}-${index}-${i}.png`, fullPage: true })),
          );
          throw error;
        }
      });
    },
  };
}

/** The SMTP sink's HTTP address (`e2e/smtp-sink.mjs`, set by tests/run.sh); flows that read
 * letters are skipped without it. */
export const MAILBOX = process.env.KABINET_E2E_MAILBOX;

/** The text of a raw message: each MIME part decoded (base64 or quoted-printable). */
export function decodeMail(raw) {
  const parts = raw.split(/\r\n--[^\r\n]+\r\n/);
  return parts
    .map((part) => {
      const split = part.indexOf("\r\n\r\n");
      if (split === -1) return part;
      const headers = part.slice(0, split).toLowerCase();
      const body = part.slice(split + 4);
      if (headers.includes("content-transfer-encoding: base64")) {
        return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ""), "base64").toString("utf8");
      }
      if (headers.includes("content-transfer-encoding: quoted-printable")) {
        const bytes = body.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
        return Buffer.from(bytes, "latin1").toString("utf8");
      }
      return body;
    })
    .join("\n");
}

/** Waits for a letter to `to` containing a link that starts with `prefix`; the link. */
export async function linkFromMail(to, prefix) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const messages = await fetch(`${MAILBOX}/messages?to=${encodeURIComponent(to)}`).then((r) => r.json());
    for (const message of messages.reverse()) {
      const text = decodeMail(message.data);
      const at = text.indexOf(prefix);
      if (at !== -1) return text.slice(at).match(/^[^\s"<>]+/)[0];
    }
    if (Date.now() > deadline) throw new Error(`no letter to ${to} with a link to ${prefix}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
