// Bundles one entry point to a single ESM file for node24 (actions and the CLI).
// @actions/* are ESM-only while some of their dependencies are CommonJS that call require(): the banner
// gives the ESM bundle a real `require`, without which it dies at load with "Dynamic require of net".
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { build } from "esbuild";

const [entry, outfile, ...flags] = process.argv.slice(2);
if (!entry || !outfile) {
  console.error("usage: node scripts/bundle.mjs <entry.ts> <outfile.js> [--executable] [--launcher]");
  process.exit(2);
}
const { version } = JSON.parse(
  readFileSync(new URL("../packages/core/package.json", import.meta.url), "utf8"),
);
// --launcher (the CLI): the bundle goes to <name>-main.js and <name>.js is a tiny launcher that turns on
// Node's on-disk compile cache before loading it, so repeated CLI runs skip compiling the 1 MB bundle
// (about 30 ms of a ~200 ms `policy test`). Actions run once per fresh runner, where a cache cannot help.
const launcher = flags.includes("--launcher");
const bundleFile = launcher ? outfile.replace(/\.js$/, "-main.js") : outfile;
const banner = `${flags.includes("--executable") && !launcher ? "#!/usr/bin/env node\n" : ""}import { createRequire as __platformRequire } from "node:module"; const require = __platformRequire(import.meta.url);`;
const result = await build({
  entryPoints: [entry],
  outfile: bundleFile,
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
if (launcher) {
  writeFileSync(
    outfile,
    `#!/usr/bin/env node\nimport module from "node:module";\nmodule.enableCompileCache?.();\nawait import("./${basename(bundleFile)}");\n`,
  );
  chmodSync(outfile, 0o755);
}
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`${outfile}: ${(bytes / 1024).toFixed(0)} KiB`);
