// Runs the browser test with node:test, prints the spec report and one summary line, and exits
// non-zero on any failure, on a hung run (watchdog) or when nothing ran at all.
//
//   npm run test:e2e
//   KABINET_URL_TEMPLATE=http://{slug}.localhost:5173 npm run test:e2e     (against vite dev)
//   KABINET_E2E_TIMEOUT_MS=300000   whole-run limit (default 5 min)
import { run } from "node:test";
import { spec } from "node:test/reporters";
import { fileURLToPath } from "node:url";

const file = fileURLToPath(new URL("./skeleton.spec.mjs", import.meta.url));
const total = Number(process.env.KABINET_E2E_TIMEOUT_MS ?? 300_000);
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
const failed = [];

const stream = run({ files: [file], concurrency: 1, timeout: total });
stream.on("test:pass", (event) => {
  if (event.details.type === "suite") return;
  if (event.skip !== undefined && event.skip !== false) skipped++;
  else passed++;
});
stream.on("test:fail", (event) => {
  if (event.details.type === "suite") return;
  failed.push(event.name);
});
function summarize() {
  if (failed.length > 0) {
    console.log(
      `\nE2E FAILED: ${failed.length} failed, ${passed} passed, ${skipped} skipped in ${seconds()} s against ${target}`,
    );
    for (const name of failed) console.log(`  ✗ ${name}`);
    process.exitCode = 1;
  } else if (passed === 0) {
    console.log(`\nE2E FAILED: no test ran (${skipped} skipped) against ${target}`);
    process.exitCode = 1;
  } else {
    console.log(`\nE2E PASSED: ${passed} passed, ${skipped} skipped in ${seconds()} s against ${target}`);
  }
}

// The summary goes last, after the reporter's own totals.
const report = stream.compose(spec);
report.on("end", summarize);
report.pipe(process.stdout, { end: false });
