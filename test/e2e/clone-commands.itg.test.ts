import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../peers/index.ts";

const { version } = JSON.parse(readFileSync(join(REPO_ROOT, "packages", "core", "package.json"), "utf8"));

/** Runs `npx …` as the README writes it: from a directory of the clone, after `npm ci`. */
function npx(args: string[], cwd = REPO_ROOT) {
  const r = spawnSync("npx", ["--no-install", ...args], {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1" },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the README's CLI lines run as written in a clone", () => {
  it("npm ci links a `platform` bin: the wrapper that runs (and if needed bundles) the CLI", () => {
    expect(realpathSync(join(REPO_ROOT, "node_modules", ".bin", "platform"))).toBe(
      join(REPO_ROOT, "packages", "cli", "bin", "platform.js"),
    );
  });

  it("npx platform --version prints the repository's version", () => {
    const r = npx(["platform", "--version"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it("npx platform --help works from a folder inside the clone, and a second run does not bundle again", () => {
    npx(["platform", "--version"]);
    const r = npx(["platform", "--help"], join(REPO_ROOT, "examples", "northwind"));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: platform /m);
    expect(r.stdout).toContain("policy");
    // The bundle is up to date after the first run: no rebuild note, nothing on stderr.
    expect(r.stderr).toBe("");
  });

  it("an unknown command fails with a non-zero exit (the wrapper passes the CLI's exit code through)", () => {
    const r = npx(["platform", "no-such-command"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no-such-command/);
  });
});

/** Runs a copy of test/peers/install.mjs in a scratch "clone" whose peers.json holds only `pins`. */
function installInScratch(pins: object, args: string[], env: Record<string, string | undefined>) {
  const root = mkdtempSync(join(tmpdir(), "peers-setup-"));
  mkdirSync(join(root, "test", "peers"), { recursive: true });
  copyFileSync(join(REPO_ROOT, "test", "peers", "install.mjs"), join(root, "test", "peers", "install.mjs"));
  writeFileSync(join(root, "test", "peers", "peers.json"), JSON.stringify(pins));
  const r = spawnSync(process.execPath, [join(root, "test", "peers", "install.mjs"), ...args], {
    cwd: root,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: process.env.HOME, GOFLAGS: "", ...env },
    timeout: 60_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("npm test's set-up (test/peers/install.mjs --test)", () => {
  it("with every peer installed it is a one-line no-op well under a second", () => {
    const started = Date.now();
    const r = spawnSync(process.execPath, [join(REPO_ROOT, "test", "peers", "install.mjs"), "--test"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      env: { ...process.env, CI: "true" },
    });
    const ms = Date.now() - started;
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toMatch(/^peers cached in \.peers\/bin: kustomize v\S+, helm v\S+/);
    expect(ms).toBeLessThan(1000);
  });

  const broken = { nope: { module: "example.invalid/nope/cmd/nope", version: "v0.0.1", versionArgs: [] } };
  // GOPROXY=off: the build fails at once, offline, the way an unreachable proxy would.
  const offline = { GOPROXY: "off", GOCACHE: join(tmpdir(), "peers-setup-gocache") };

  it("a failed go build prints go's own output (kept until then) and fails with CI=true", () => {
    const r = installInScratch(broken, ["--test"], { ...offline, CI: "true" });
    expect(r.code).toBe(1);
    expect(r.out).toContain("nope: building example.invalid/nope/cmd/nope@v0.0.1");
    expect(r.out).toMatch(/GOPROXY=off/);
    expect(r.out).toContain("nope: go build failed");
  });

  it("outside CI a failed build is reported and the suite still runs (the suites needing it skip)", () => {
    const r = installInScratch(broken, ["--test"], { ...offline, CI: undefined });
    expect(r.code).toBe(0);
    expect(r.out).toContain("nope: go build failed");
    expect(r.out).toMatch(/continuing: the suites that need a missing peer skip/);
  });

  it("without Go on PATH it says to install Go instead of failing obscurely", () => {
    const r = installInScratch(broken, ["--test"], { PATH: "/nonexistent", CI: "true" });
    expect(r.code).toBe(1);
    expect(r.out).toContain("nope: not installed, and go is not on PATH: install Go");
  });
});
