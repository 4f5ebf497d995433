// Bundles one entry point to a single ESM file for node24 (actions and the CLI).
// @actions/* are ESM-only while some of their dependencies are CommonJS that call require(): the banner
// gives the ESM bundle a real `require`, without which it dies at load with "Dynamic require of net".
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
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

// Start-up is paid on every action run: only what a run needs is parsed. Code splitting puts each dynamic
// `import()` (Azure SDKs, sigstore signing, opa-wasm…, loaded on the paths that use them) in its own chunk
// under dist/chunks/, loaded when that path runs; dist/<name>.js holds the rest.
const outdir = dirname(bundleFile);
rmSync(join(outdir, "chunks"), { recursive: true, force: true });

/**
 * Two modules that bundle code no platform path runs, replaced at bundle time (esbuild cannot tree-shake them):
 * - zod's `locales` namespace (about 250 KiB of translated messages; zod itself configures English only);
 * - undici inside @actions/http-client (about 400 KiB), used only by HttpClient.getAgentDispatcher(), which
 *   nothing we bundle calls (@actions/core's OIDC client goes through node:http). A call would throw, not
 *   silently skip the proxy.
 */
const dropUnused = {
  name: "drop-unused",
  setup(b) {
    b.onResolve({ filter: /[/\\]locales[/\\]index\.js$/ }, (args) =>
      /[/\\]zod[/\\]/.test(args.importer)
        ? { path: join(dirname(args.importer), "..", "locales", "en.js"), namespace: "zod-locales" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "zod-locales" }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
    b.onResolve({ filter: /^undici$/ }, (args) =>
      /[/\\]@actions[/\\]http-client[/\\]/.test(args.importer)
        ? { path: "undici", namespace: "no-undici" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "no-undici" }, () => ({
      contents:
        'export class ProxyAgent { constructor() { throw new Error("undici is not bundled: HttpClient.getAgentDispatcher() is unused by platform actions"); } }',
    }));
  },
};

/**
 * @actions/core declares no `sideEffects`, so esbuild keeps every module it imports, and every action would load
 * at start-up what only getIDToken (@actions/http-client, tunnel: node:http, https, net, tls) and
 * platform (@actions/exec, @actions/io: node:child_process) need, though we call neither. None of these modules
 * does anything at import but define functions and classes (checked for @actions/core 3, http-client 4,
 * exec 3, io 3): marking them side-effect free lets esbuild drop what no code uses.
 */
const ACTIONS_TOOLKIT = /[/\\]node_modules[/\\]@actions[/\\](core|http-client|exec|io)[/\\]/;
const actionsToolkitPure = {
  name: "actions-toolkit-pure",
  setup(b) {
    const again = Symbol("resolving");
    b.onResolve({ filter: /^(\.{1,2}\/|@actions\/)/ }, async (args) => {
      if (args.pluginData === again) return undefined;
      const inToolkit = ACTIONS_TOOLKIT.test(args.importer);
      if (!inToolkit && !args.path.startsWith("@actions/")) return undefined;
      const r = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: again,
      });
      if (r.errors.length > 0 || !ACTIONS_TOOLKIT.test(r.path))
        return r.errors.length ? { errors: r.errors } : undefined;
      return { path: r.path, sideEffects: false };
    });
  },
};

const result = await build({
  entryPoints: [entry],
  outdir,
  entryNames: basename(bundleFile, ".js"),
  chunkNames: "chunks/[name]-[hash]",
  splitting: true,
  plugins: [dropUnused, actionsToolkitPure],
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
// What a run parses before its first line of our code: the entry and the chunks it imports statically.
const outputs = result.metafile.outputs;
// Each dynamic import target is an entry point in the metafile too: the run's entry is the file we named.
const entryOut = Object.keys(outputs).find((o) => resolve(o) === resolve(bundleFile));
const startup = new Set();
const visit = (o) => {
  if (startup.has(o) || !outputs[o]) return;
  startup.add(o);
  for (const i of outputs[o].imports) if (i.kind === "import-statement" && !i.external) visit(i.path);
};
visit(entryOut);
const kib = (files) => Math.round([...files].reduce((n, o) => n + outputs[o].bytes, 0) / 1024);
const stats = {
  startupKiB: kib(startup),
  totalKiB: kib(Object.keys(outputs)),
  chunks: Object.keys(outputs).length,
};
// The bundle budget test (test/bundles) reads this; released with dist/, it also tells users what loads when.
writeFileSync(join(outdir, "bundle-size.json"), `${JSON.stringify(stats)}\n`);
// BUNDLE_METAFILE=<file>: esbuild's metafile, to see which inputs make a chunk big (esbuild's analyzer reads it).
if (process.env.BUNDLE_METAFILE) writeFileSync(process.env.BUNDLE_METAFILE, JSON.stringify(result.metafile));
console.log(
  `${outfile}: ${stats.startupKiB} KiB at start-up, ${stats.totalKiB} KiB in ${stats.chunks} file(s)`,
);
