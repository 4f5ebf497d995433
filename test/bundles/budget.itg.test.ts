// The bundle budget (issue 18): what each action — and the CLI — parses before its first line of code stays
// under 1 MiB. bundle.mjs records the start-up closure (the entry and the chunks it imports statically; the
// SDKs a path needs load later, as their own chunks) in dist/bundle-size.json; `npm test` builds first.
// A size check, not a timing: sizes do not depend on the machine's load. `npm run bench` measures the time.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../peers/index.ts";

const bundles = [
  ...readdirSync(join(REPO_ROOT, "actions")).map((a) => ({
    name: `actions/${a}`,
    dist: join(REPO_ROOT, "actions", a, "dist"),
    budgetKiB: 1024,
  })),
  // The CLI registers every command (help, completion) before it runs one, and each command loads its domain
  // package — and @platform/core's config loader (zod, both YAML parsers) — in its handler: start-up is
  // commander, the CLI's own code and core's errors, log and list (about 115 KiB). Held far tighter than the
  // actions' 1 MiB: one domain package or the config loader imported statically again would still fit 1 MiB,
  // and every `platform` run (--help, completion, policy test) would pay it unnoticed.
  { name: "packages/cli", dist: join(REPO_ROOT, "packages", "cli", "dist"), budgetKiB: 256 },
];

describe("bundle budget: start-up code per bundle", () => {
  it.each(bundles)("$name (≤ $budgetKiB KiB)", ({ dist, budgetKiB }) => {
    const file = join(dist, "bundle-size.json");
    // Missing means the bundle was not built with scripts/bundle.mjs: a failure, never a pass.
    expect(existsSync(file), `${file} is missing: run npm run build`).toBe(true);
    const size = JSON.parse(readFileSync(file, "utf8")) as {
      startupKiB: number;
      totalKiB: number;
      chunks: number;
    };
    expect(size.startupKiB).toBeGreaterThan(0);
    expect(size.startupKiB, `start-up ${size.startupKiB} KiB of ${size.totalKiB} KiB`).toBeLessThanOrEqual(
      budgetKiB,
    );
  });
});
