// Runs the browser test with node:test, prints the spec report and one summary line, and exits
// non-zero on any failure, on a hung run (watchdog) or when nothing ran at all.
//
//   npm run test:e2e
//   KABINET_URL_TEMPLATE=http://{slug}.localhost:5173 npm run test:e2e     (against vite dev)
//   KABINET_E2E_TIMEOUT_MS=600000   whole-run limit (default 10 min)
//   KABINET_E2E_ONLY=kb,network     only these specs
import { run } from "node:test";
import { spec } from "node:test/reporters";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

// Every `*.spec.mjs` beside this file, in name order (each feature keeps its own spec), or
// only those named in KABINET_E2E_ONLY (comma-separated, without `.spec.mjs`) while working on one.
const dir = fileURLToPath(new URL(".", import.meta.url));
const only = (process.env.KABINET_E2E_ONLY ?? "").split(",").filter(Boolean);
const files = readdirSync(dir)
  .filter((name) => name.endsWith(".spec.mjs"))
  .filter((name) => only.length === 0 || only.includes(name.slice(0, -".spec.mjs".length)))
  .sort()
  .map((name) => dir + name);

// Only this run's screenshots, so a stale one never passes for the current state (with
// KABINET_E2E_ONLY, those named after the chosen specs).
const screenshots = `${dir}screenshots/`;
mkdirSync(screenshots, { recursive: true });
for (const name of readdirSync(screenshots)) {
  const mine = only.length === 0 || only.some((spec) => name.startsWith(`${spec}-`));
  if (name.endsWith(".png") && mine) rmSync(`${screenshots}${name}`);
}
const total = Number(process.env.KABINET_E2E_TIMEOUT_MS ?? 600_000);
const target = process.env.KABINET_URL_TEMPLATE ?? "http://{slug}.localhost:8080";
const started = Date.now();
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);

const watchdog = setTimeout(() => {
  console.error(`\nE2E FAILED: run exceeded ${total / 1000} s against ${target} (hung browser or backend?)`);
  process.exit(1);
}, total);
watchdog.unref();

let passed = 0;
let skipped = 0;
let cancelled = 0;
/**
 * What failed where (`suite › test`). A hook that fails in every suite (the backend is down)
 * is one cause: such failures are grouped by reason; test failures are listed one by one.
 */
const failures = new Map();
const fail = (where, reason, group) => {
  const key = group ? `hook:${reason}` : `test:${where}:${reason}`;
  const entry = failures.get(key) ?? { reason, wheres: [] };
  entry.wheres.push(where);
  failures.set(key, entry);
};
const path = [];

const firstLine = (error) => {
  const cause = error?.cause ?? error;
  return String(cause?.message ?? cause ?? "unknown error").split("\n")[0];
};

// Each test has its own limit (STEP_TIMEOUT in the spec); the watchdog above bounds the whole run.
const stream = run({ files, concurrency: 1 });

stream.on("test:start", (event) => {
  path.length = event.nesting;
  path.push(event.name);
});
stream.on("test:pass", (event) => {
  if (event.details.type === "suite") return;
  if (event.skip !== undefined && event.skip !== false) skipped++;
  else passed++;
});
stream.on("test:fail", (event) => {
  const error = event.details.error;
  const where = [...path.slice(0, event.nesting), event.name].join(" › ");
  if (error?.failureType === "cancelledByParent") {
    cancelled++;
    return;
  }
  if (event.details.type === "suite") {
    // A suite fails on its own only through a hook (before/after); its tests are then cancelled.
    if (error?.failureType === "hookFailed") fail(`${where} (hook)`, firstLine(error), true);
    return;
  }
  fail(where, firstLine(error), false);
});

function summarize() {
  const failed = [...failures.values()].reduce((n, entry) => n + entry.wheres.length, 0);
  const counts = `${passed} passed, ${failed} failed, ${cancelled} cancelled, ${skipped} skipped`;
  const ok = failed === 0 && cancelled === 0 && passed > 0;
  console.log(`\nE2E ${ok ? "PASSED" : "FAILED"}: ${counts} in ${seconds()} s against ${target}`);
  for (const { reason, wheres } of failures.values()) {
    const more = wheres.length > 1 ? ` (and ${wheres.length - 1} more)` : "";
    console.log(`  ✗ ${wheres[0]}${more}: ${reason}`);
  }
  if (!ok) process.exitCode = 1;
}

// The summary goes last, after the reporter's own totals.
const report = stream.compose(spec);
report.on("end", summarize);
report.pipe(process.stdout, { end: false });
