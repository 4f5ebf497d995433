// Bundles one entry point to a single ESM file for node24 (actions and the CLI).
// @actions/* are ESM-only while some of their dependencies are CommonJS that call require(): the banner
// gives the ESM bundle a real `require`, without which it dies at load with "Dynamic require of net".
import { readFileSync } from "node:fs";
import { build } from "esbuild";

const [entry, outfile, ...flags] = process.argv.slice(2);
if (!entry || !outfile) {
  console.error("usage: node scripts/bundle.mjs <entry.ts> <outfile.js> [--executable]");
  process.exit(2);
}
const { version } = JSON.parse(
  readFileSync(new URL("../packages/core/package.json", import.meta.url), "utf8"),
);
const banner = `${flags.includes("--executable") ? "#!/usr/bin/env node\n" : ""}import { createRequire as __platformRequire } from "node:module"; const require = __platformRequire(import.meta.url);`;
const result = await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: "node",
  target: "node24",
  format: "esm",
  minify: true,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  banner: { js: banner },
  define: { __PLATFORM_VERSION__: JSON.stringify(version) },
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`${outfile}: ${(bytes / 1024).toFixed(0)} KiB`);
