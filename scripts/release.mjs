#!/usr/bin/env node
// Releases the repository at its one version (changesets `fixed` group): builds every action's dist/ on a
// detached commit (main never carries dist/), tags it vX.Y.Z (immutable: an existing tag is an error) and
// force-moves the major branch vX to it, so `uses: org/platform/actions/<verb>@v1` picks it up.
//   node scripts/release.mjs [--dry-run]
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";

const dryRun = process.argv.includes("--dry-run");
const run = (cmd, args, opts = {}) =>
  (execFileSync(cmd, args, { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", ...opts }) ?? "").trim();
const git = (...args) => run("git", args);

// Every workspace package shares one version (changesets `fixed` group); core is as good as any.
const { version } = JSON.parse(readFileSync("packages/core/package.json", "utf8"));
if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(version))
  throw new Error(`package.json version ${version} is not semver`);
const tag = `v${version}`;
const major = `v${version.split(".")[0]}`;
const prerelease = version.includes("-");

if (git("tag", "--list", tag)) {
  console.log(`${tag} already exists; nothing to release`);
  process.exit(0);
}
if (git("status", "--porcelain")) throw new Error("working tree is not clean; refusing to release");

run("npm", ["run", "build"], { stdio: "inherit" });
const dists = readdirSync("actions")
  .map((a) => `actions/${a}/dist`)
  .filter((d) => existsSync(d));
if (dists.length === 0) throw new Error("no actions/*/dist was built");

const main = git("rev-parse", "HEAD");
const branch = git("rev-parse", "--abbrev-ref", "HEAD");
git("checkout", "--detach");
try {
  git("add", "--force", ...dists);
  git(
    "-c",
    "user.name=platform-release",
    "-c",
    "user.email=platform-release@users.noreply.github.com",
    "commit",
    "--quiet",
    "-m",
    `release ${tag}`,
  );
  git("tag", "-a", tag, "-m", `platform ${tag}`);
  const sha = git("rev-parse", "HEAD");
  console.log(`${tag} → ${sha} (dist of ${dists.length} action(s), from ${main})`);
  if (dryRun) {
    console.log(`dry run: would push ${tag}${prerelease ? "" : ` and move ${major}`}`);
  } else {
    git("push", "origin", `refs/tags/${tag}`);
    // Prereleases get only their tag; stable releases move the major line users pin.
    if (!prerelease) git("push", "--force", "origin", `HEAD:refs/heads/${major}`);
  }
} finally {
  git("checkout", "--quiet", branch === "HEAD" ? main : branch);
}
