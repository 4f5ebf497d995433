#!/usr/bin/env node
// The `platform` bin of a clone (linked into node_modules/.bin by `npm ci`, so `npx platform …` works at once).
// It runs the bundled CLI, packages/cli/dist/platform.js, bundling it first when it is missing or older than
// the sources (a fresh clone has no dist/; main never carries it). The bundle targets Node 24: a bin reached
// through an older system Node (a symlink on PATH) re-runs itself on the Node 24 that `npm ci` installed.
// Plain ES2020, no TypeScript: this file must load on whatever Node starts it.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const cliDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const root = join(cliDir, "..", "..");
const bundle = join(cliDir, "dist", "platform-main.js");

const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  const node24 = join(root, "node_modules", "node", "bin", "node");
  if (!existsSync(node24)) {
    process.stderr.write(
      `platform: needs Node 24 (this is ${process.version}); run npm ci in ${root} (it installs Node 24) or use Node 24\n`,
    );
    process.exit(2);
  }
  const r = spawnSync(node24, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  process.exit(r.status ?? 1);
}

/** Newest modification time (ms) under the packages' src/ folders and their package.json files. */
function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.endsWith(".test.ts")) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  const packages = join(root, "packages");
  for (const pkg of readdirSync(packages)) {
    const src = join(packages, pkg, "src");
    if (existsSync(src)) walk(src);
    const manifest = join(packages, pkg, "package.json");
    if (existsSync(manifest)) newest = Math.max(newest, statSync(manifest).mtimeMs);
  }
  return newest;
}

// A clone has packages/*/src beside the bundle; an unpacked bundle without sources just runs.
const inClone = existsSync(join(cliDir, "src", "bin.ts"));
if (inClone && (!existsSync(bundle) || statSync(bundle).mtimeMs < newestSource())) {
  process.stderr.write(`platform: bundling the CLI into packages/cli/dist (first run or sources changed)…\n`);
  const r = spawnSync(
    process.execPath,
    [join(root, "scripts", "bundle.mjs"), "src/bin.ts", "dist/platform.js", "--executable", "--launcher"],
    { cwd: cliDir, stdio: ["ignore", "ignore", "inherit"] },
  );
  if (r.status !== 0 || !existsSync(bundle)) {
    process.stderr.write(`platform: bundling failed (exit ${r.status}); try npm run build\n`);
    process.exit(r.status || 1);
  }
}
await import(pathToFileURL(join(cliDir, "dist", "platform.js")).href);
