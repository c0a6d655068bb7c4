// Regenerates src/api/schema.d.ts from the backend's OpenAPI document.
//
//   npm run gen:api                              spec from `../target/debug/kabinet openapi` (offline)
//   KABINET_BIN=/path/to/kabinet npm run gen:api another kabinet binary
//   KABINET_SPEC=<file or URL> npm run gen:api   an existing spec, e.g. http://demo.localhost:8080/api/openapi.json
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const web = fileURLToPath(new URL("..", import.meta.url));
const out = join(web, "src/api/schema.d.ts");
// client.ts sends every call to this prefix; the generated paths are relative to it.
const EXPECTED_SERVER = "/api/v1";

let spec = process.env.KABINET_SPEC;
if (!spec) {
  const bin = process.env.KABINET_BIN ?? join(web, "../target/debug/kabinet");
  spec = join(tmpdir(), "kabinet-openapi.json");
  try {
    writeFileSync(spec, execFileSync(bin, ["openapi"], { maxBuffer: 64 << 20 }));
  } catch (error) {
    console.error(`gen:api: cannot run \`${bin} openapi\` (${error.message}).`);
    console.error("Build the backend first, or set KABINET_BIN or KABINET_SPEC.");
    process.exit(1);
  }
}

if (!/^https?:/.test(spec)) {
  const servers = JSON.parse(readFileSync(spec, "utf8")).servers ?? [];
  const url = servers[0]?.url ?? "/";
  if (url !== EXPECTED_SERVER) {
    console.error(`gen:api: the spec's servers[0].url is "${url}", src/api/client.ts expects "${EXPECTED_SERVER}".`);
    process.exit(1);
  }
}

execFileSync(join(web, "node_modules/.bin/openapi-typescript"), [spec, "-o", out], { stdio: "inherit" });
