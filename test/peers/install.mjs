#!/usr/bin/env node
// Installs the pinned peer tools the tests run against (real kustomize, helm, gator) into the git-ignored
// .peers/ folder, keyed by version so a changed pin rebuilds and an unchanged one is a no-op.
//   node test/peers/install.mjs [name…]   install (all by default), then print versions
//   node test/peers/install.mjs --check   only report what is installed
//   --best-effort                         exit 0 even if a build fails (the demo can run without peers)
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const peersDir = join(root, ".peers");
const binDir = join(peersDir, "bin");
const pins = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), "peers.json"), "utf8"));
const args = process.argv.slice(2);
const check = args.includes("--check");
const names = args.filter((a) => !a.startsWith("--"));
const wanted = names.length ? names : Object.keys(pins);

for (const n of wanted) {
  if (!pins[n]) {
    console.error(`unknown peer "${n}"; known: ${Object.keys(pins).join(", ")}`);
    process.exit(2);
  }
}

function versionOf(bin, pin) {
  const r = spawnSync(bin, pin.versionArgs, { encoding: "utf8", timeout: 30_000 });
  return r.status === 0 ? (r.stdout || r.stderr).trim().split("\n")[0] : undefined;
}

/**
 * `go install mod@version` also reads the module's version list to report deprecation; the proxy here
 * refuses that list for some modules (403) while serving the exact version. A scratch module that
 * requires the exact version and builds the command avoids the list lookup.
 */
function buildInScratchModule(pin, bin, env) {
  const dir = mkdtempSync(join(tmpdir(), "peer-"));
  try {
    const modRoot = pin.moduleRoot ?? pin.module;
    console.log(`retrying in a scratch module (requires ${modRoot}@${pin.version} directly)…`);
    const go = (args) =>
      spawnSync("go", args, {
        cwd: dir,
        stdio: "inherit",
        env: { ...env, GOFLAGS: `${env.GOFLAGS} -mod=mod` },
      });
    let r = go(["mod", "init", "peers.local/build"]);
    if (r.status === 0) r = go(["get", `${modRoot}@${pin.version}`]);
    if (r.status === 0) r = go(["build", "-o", bin, pin.module]);
    return r;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

mkdirSync(binDir, { recursive: true });
let failed = false;
for (const name of wanted) {
  const pin = pins[name];
  const home = join(peersDir, `${name}-${pin.version}`);
  const bin = join(home, name);
  if (!existsSync(bin)) {
    if (check) {
      console.log(`${name}: not installed (pinned ${pin.version}; run npm run peers)`);
      failed = true;
      continue;
    }
    const started = Date.now();
    console.log(
      `${name}: building ${pin.module}@${pin.version} with go install (takes a few minutes on 2 cores)…`,
    );
    mkdirSync(home, { recursive: true });
    const env = {
      ...process.env,
      GOBIN: home,
      CGO_ENABLED: "0",
      GOFLAGS: "-trimpath -buildvcs=false",
      GOTOOLCHAIN: "local",
    };
    let r = spawnSync("go", ["install", `${pin.module}@${pin.version}`], { stdio: "inherit", env });
    if (r.status !== 0 || !existsSync(bin)) r = buildInScratchModule(pin, bin, env);
    if (r.status !== 0 || !existsSync(bin)) {
      console.error(`${name}: go install failed (exit ${r.status}); is the Go module proxy reachable?`);
      rmSync(home, { recursive: true, force: true });
      failed = true;
      continue;
    }
    console.log(`${name}: built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  rmSync(join(binDir, name), { force: true });
  symlinkSync(bin, join(binDir, name));
  console.log(
    `${name}: ${versionOf(bin, pin) ?? "installed, but --version failed"} (${join(".peers", "bin", name)})`,
  );
}
if (!check && wanted.length) {
  // The build cache is only useful to rebuild the same pins, which the version-keyed folders make unnecessary.
  try {
    execFileSync("go", ["clean", "-cache"], { stdio: "ignore" });
  } catch {}
}
if (failed && args.includes("--best-effort")) {
  console.log("continuing without the missing peer(s); install Go and rerun `npm run peers` to get them");
  process.exit(0);
}
process.exit(failed && (!check || process.env.CI === "true") ? 1 : 0);
