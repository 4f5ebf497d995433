import { spawnSync } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
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
