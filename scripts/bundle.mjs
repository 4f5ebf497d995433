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

/** A CommonJS module whose every property access throws `message`, naming the property. */
const throwsOnUse = (message) =>
  `module.exports = new Proxy({}, { get(_, key) { throw new Error(${JSON.stringify(message)} + " (" + String(key) + ")"); } });`;

/**
 * Modules that bundle code no platform path runs, replaced at bundle time (esbuild cannot tree-shake them),
 * each only where the named package imports it:
 * - zod's `locales` namespace (about 250 KiB of translated messages; zod itself configures English only);
 * - undici inside @actions/http-client (about 400 KiB), used only by HttpClient.getAgentDispatcher(), which
 *   nothing we bundle calls (@actions/core's OIDC client goes through node:http). A call would throw, not
 *   silently skip the proxy.
 * - iconv-lite inside minipass-fetch (about 480 KiB of code pages), its optional dependency for
 *   Response.textConverted(), which make-fetch-happen's callers here (@sigstore/sign's Fulcio, Rekor and TSA
 *   clients) never call: minipass-fetch requires it in a try and, when it is absent, throws on that call only.
 * - cacache inside make-fetch-happen (about 150 KiB with glob), its on-disk HTTP cache, used only when a
 *   request passes `cachePath`, which @sigstore/sign never does (without it make-fetch-happen returns before
 *   touching the cache, also on invalidation). Any use would throw, naming this.
 * - @open-policy-agent/opa-wasm's own built-ins (about 90 KiB with its private copy of yaml 1.x and sprintf-js),
 *   used only when opa-wasm instantiates a module itself (loadPolicy): @platform/policy instantiates each
 *   module with its host built-ins (gatekeeper/wasm-host.ts) and uses only opa-wasm's LoadedPolicy. A built-in
 *   looked up there would throw, naming this.
 */
const ABSENT = [
  {
    module: "undici",
    importer: /[/\\]@actions[/\\]http-client[/\\]/,
    contents:
      'export class ProxyAgent { constructor() { throw new Error("undici is not bundled: HttpClient.getAgentDispatcher() is unused by platform actions"); } }',
  },
  {
    module: "iconv-lite",
    importer: /[/\\]minipass-fetch[/\\]/,
    contents: 'throw new Error("iconv-lite is not bundled: textConverted() is unused by platform actions");',
  },
  {
    module: "cacache",
    importer: /[/\\]make-fetch-happen[/\\]/,
    contents: throwsOnUse(
      "cacache is not bundled: make-fetch-happen's cache (cachePath) is unused by platform actions",
    ),
  },
  {
    module: "./builtins/index",
    importer: /[/\\]@open-policy-agent[/\\]opa-wasm[/\\]src[/\\]opa\.js$/,
    contents: throwsOnUse(
      "opa-wasm's built-ins are not bundled: @platform/policy instantiates modules with its own",
    ),
  },
];
const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
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
    for (const { module, importer } of ABSENT) {
      b.onResolve({ filter: new RegExp(`^${escapeRegExp(module)}$`) }, (args) =>
        importer.test(args.importer) ? { path: module, namespace: "absent" } : undefined,
      );
    }
    b.onLoad({ filter: /.*/, namespace: "absent" }, (args) => ({
      contents: ABSENT.find((a) => a.module === args.path)?.contents,
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
const outputs = result.metafile.outputs;
// Each dynamic import target is an entry point in the metafile too: the run's entry is the file we named.
const entryOut = Object.keys(outputs).find((o) => resolve(o) === resolve(bundleFile));
/** The outputs `from` reaches through its imports of the given kinds (itself included). */
const closure = (from, kinds) => {
  const seen = new Set();
  const visit = (o) => {
    if (seen.has(o) || !outputs[o]) return;
    seen.add(o);
    for (const i of outputs[o].imports) if (kinds.includes(i.kind) && !i.external) visit(i.path);
  };
  visit(from);
  return seen;
};
// What a run parses before its first line of our code: the entry and the chunks it imports statically.
const startup = closure(entryOut, ["import-statement"]);
// What any run can load. esbuild writes a chunk for every dynamic import() it scans, also one in code it then
// tree-shakes away (a barrel's file whose exports this entry never uses: verify reached @sigstore/sign's
// 850 KiB that way); no output code imports such a chunk, so it is deleted rather than shipped.
const loadable = closure(entryOut, ["import-statement", "dynamic-import"]);
for (const o of Object.keys(outputs)) {
  if (loadable.has(o)) continue;
  rmSync(o, { force: true });
  delete outputs[o];
}
const kib = (files) => Math.round([...files].reduce((n, o) => n + outputs[o].bytes, 0) / 1024);
const stats = {
  startupKiB: kib(startup),
  totalKiB: kib(loadable),
  chunks: loadable.size,
};
// The bundle budget test (test/bundles) reads this; released with dist/, it also tells users what loads when.
writeFileSync(join(outdir, "bundle-size.json"), `${JSON.stringify(stats)}\n`);
// BUNDLE_METAFILE=<file>: esbuild's metafile, to see which inputs make a chunk big (esbuild's analyzer reads it).
if (process.env.BUNDLE_METAFILE) writeFileSync(process.env.BUNDLE_METAFILE, JSON.stringify(result.metafile));
console.log(
  `${outfile}: ${stats.startupKiB} KiB at start-up, ${stats.totalKiB} KiB in ${stats.chunks} file(s)`,
);
