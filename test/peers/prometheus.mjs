#!/usr/bin/env node
// Installs the Prometheus server and promtool from Debian's `prometheus` package into the git-ignored
// .peers/ folder, without installing the package system-wide: `apt-get download` fetches the .deb and
// `dpkg-deb -x` unpacks it, so no service is started, no user is created and nothing outside .peers/
// changes. Both binaries are static Go programs; the package's web-UI dependencies are not needed.
//   node test/peers/prometheus.mjs           install (runs `apt-get update` once if the lists are empty)
//   node test/peers/prometheus.mjs --check   only report what is installed
//   node test/peers/prometheus.mjs --test    what `npm test` runs: a failure is an error only with CI=true
// The pin is the Debian 12 (bookworm) version; if the mirror no longer carries it (a stable update
// replaced it), the current candidate is used and its version printed, since old .debs vanish.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PIN = "2.42.0+ds-5+deb12u1";
const root = join(import.meta.dirname, "..", "..");
const peers = join(root, ".peers");
const bin = join(peers, "bin");
const check = process.argv.includes("--check");
const forTests = process.argv.includes("--test");

/** Reports why Prometheus could not be installed; under --test outside CI the canary suites skip instead. */
function fail(message) {
  console.error(`prometheus: ${message}`);
  if (forTests && process.env.CI !== "true") {
    console.log(
      "continuing: the suites that need prometheus skip, saying why (with CI=true this is an error)",
    );
    process.exit(0);
  }
  process.exit(1);
}

const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: "utf8", timeout: 600_000, ...opts });
const dirFor = (version) => join(peers, `prometheus-${version.replace(/[^A-Za-z0-9.+-]/g, "_")}`);

function link(dir) {
  mkdirSync(bin, { recursive: true });
  for (const name of ["prometheus", "promtool"]) {
    rmSync(join(bin, name), { force: true });
    symlinkSync(join(dir, "usr", "bin", name), join(bin, name));
  }
  const v = run(join(bin, "prometheus"), ["--version"]);
  console.log(
    `prometheus: ${(v.stdout || v.stderr).split("\n")[0]} (.peers/bin/prometheus, .peers/bin/promtool)`,
  );
}

function installed() {
  if (!existsSync(peers)) return undefined;
  const dirs = readdirSync(peers).filter((d) => d.startsWith("prometheus-"));
  const pinned = dirs.find((d) => d === `prometheus-${PIN}`);
  const dir = pinned ?? dirs.sort().at(-1);
  return dir && existsSync(join(peers, dir, "usr", "bin", "promtool")) ? join(peers, dir) : undefined;
}

const have = installed();
if (have) {
  link(have);
  process.exit(0);
}
if (check) {
  console.log(`prometheus: not installed (Debian package ${PIN}; run node test/peers/prometheus.mjs)`);
  process.exit(process.env.CI === "true" ? 1 : 0);
}

function candidate() {
  const r = run("apt-cache", ["policy", "prometheus"]);
  const m = /Candidate:\s*(\S+)/.exec(r.stdout ?? "");
  return m && m[1] !== "(none)" ? m[1] : undefined;
}
function available(version) {
  const r = run("apt-cache", ["madison", "prometheus"]);
  return (r.stdout ?? "").split("\n").some((l) => l.split("|")[1]?.trim() === version);
}

if (!candidate()) {
  if (process.getuid?.() !== 0)
    fail(
      "Debian's package lists are empty and updating them needs root: run sudo apt-get update, then retry",
    );
  console.log("prometheus: package lists are empty; running apt-get update");
  const u = run("apt-get", ["update", "-qq"]);
  if (u.status !== 0) fail(`apt-get update failed (are Debian's package mirrors reachable?):\n${u.stderr}`);
}
let version = PIN;
if (!available(PIN)) {
  version = candidate();
  if (!version) fail("Debian offers no `prometheus` package on this machine (is apt-get available?)");
  console.warn(`prometheus: pinned ${PIN} is no longer on the mirror; using the candidate ${version}`);
}

// _apt must be able to write where the .deb lands, or apt warns and downloads unsandboxed.
const tmp = mkdtempSync(join(tmpdir(), "prometheus-deb-"));
try {
  run("chmod", ["0777", tmp]);
  const d = run("apt-get", ["download", `prometheus=${version}`], { cwd: tmp });
  const deb = readdirSync(tmp).find((f) => f.endsWith(".deb"));
  if (d.status !== 0 || !deb) fail(`apt-get download failed:\n${d.stderr}`);
  const dir = dirFor(version);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const x = run("dpkg-deb", ["-x", join(tmp, deb), dir]);
  if (x.status !== 0 || !existsSync(join(dir, "usr", "bin", "promtool"))) {
    rmSync(dir, { recursive: true, force: true });
    fail(`dpkg-deb -x failed:\n${x.stderr}`);
  }
  // Only the two binaries are needed; the web assets and docs are dropped to keep the cache small.
  rmSync(join(dir, "usr", "share"), { recursive: true, force: true });
  link(dir);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
