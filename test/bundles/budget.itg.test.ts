// The bundle budgets (issue 18), from dist/bundle-size.json, which bundle.mjs writes:
// - start-up: what each action — and the CLI — parses before its first line of code (the entry and the chunks
//   it imports statically; the schema, the run's code and the SDKs a path needs load later, as their own chunks);
// - total: every file a run can load (bundle.mjs deletes the chunks no output imports), ≤ 1 MiB per action,
//   except where a dependency the action needs is too big today: those carry their own ceiling and the reason.
// `npm test` builds first. A size check, not a timing: sizes do not depend on the machine's load. `npm run bench`
// measures the time.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../peers/index.ts";

const MIB = 1024;

/**
 * Actions whose total is over 1 MiB, with a ceiling a little above today's size (so a regression fails) and what
 * it holds that the action needs. Shared by all three: zod (188 KiB, input and config schemas; zod 4 classic is
 * not tree-shakable) and @platform/azure's credential (@azure/identity with MSAL, about 345 KiB).
 */
const TOTAL_OVER_1MIB: Record<string, { totalKiB: number; why: string }> = {
  sign: {
    totalKiB: 1216,
    why: "keyless signing's @sigstore/sign (about 240 KiB: make-fetch-happen with the HTTP, HTTPS and SOCKS proxy agents it reads from the environment) and the Key Vault keys and certificates SDKs (about 105 KiB)",
  },
  verify: {
    totalKiB: 1344,
    why: "notation's certificate-chain checks on @peculiar/x509 and its ASN.1 stack (about 300 KiB) and Sigstore bundle verification (about 95 KiB)",
  },
  "cluster-upgrade": {
    totalKiB: 1184,
    why: "the AKS and Fleet management SDKs (@azure/arm-containerservice 156 KiB, arm-containerservicefleet 46 KiB, core HTTP pipeline 74 KiB)",
  },
};

const actions = readdirSync(join(REPO_ROOT, "actions"));
const bundles = [
  ...actions.map((a) => ({
    name: `actions/${a}`,
    dist: join(REPO_ROOT, "actions", a, "dist"),
    // Every action reads its required inputs before zod, its schema and its run's code load: about 12 KiB.
    startupKiB: 64,
    totalKiB: TOTAL_OVER_1MIB[a]?.totalKiB ?? MIB,
  })),
  // The CLI registers every command (help, completion) before it runs one, and each command loads its domain
  // package — and @platform/core's config loader (zod, both YAML parsers) — in its handler: start-up is
  // commander, the CLI's own code and core's errors, log and list (about 115 KiB). Held far tighter than 1 MiB:
  // one domain package or the config loader imported statically again would still fit 1 MiB, and every
  // `platform` run (--help, completion, policy test) would pay it unnoticed. Its total is every domain package:
  // installed once, not fetched per run, so it has no total budget.
  {
    name: "packages/cli",
    dist: join(REPO_ROOT, "packages", "cli", "dist"),
    startupKiB: 256,
    totalKiB: undefined,
  },
];

function sizes(dist: string): { startupKiB: number; totalKiB: number; chunks: number } {
  const file = join(dist, "bundle-size.json");
  // Missing means the bundle was not built with scripts/bundle.mjs: a failure, never a pass.
  expect(existsSync(file), `${file} is missing: run npm run build`).toBe(true);
  return JSON.parse(readFileSync(file, "utf8"));
}

describe("bundle budget", () => {
  it.each(bundles)("$name: start-up ≤ $startupKiB KiB", ({ dist, startupKiB }) => {
    const size = sizes(dist);
    expect(size.startupKiB).toBeGreaterThan(0);
    expect(size.startupKiB, `start-up ${size.startupKiB} KiB of ${size.totalKiB} KiB`).toBeLessThanOrEqual(
      startupKiB,
    );
  });

  it.each(bundles.filter((b) => b.totalKiB !== undefined))(
    "$name: total ≤ $totalKiB KiB",
    ({ name, dist, totalKiB }) => {
      const size = sizes(dist);
      const over = TOTAL_OVER_1MIB[name.replace("actions/", "")];
      expect(
        size.totalKiB,
        `${size.totalKiB} KiB in ${size.chunks} file(s)${over ? ` (over 1 MiB for ${over.why})` : ""}`,
      ).toBeLessThanOrEqual(totalKiB as number);
    },
  );

  it("lists only actions that exist, and none that already fits 1 MiB", () => {
    for (const [action, { totalKiB }] of Object.entries(TOTAL_OVER_1MIB)) {
      expect(actions).toContain(action);
      // An exception that is no longer needed goes: the action is then held to 1 MiB like the others.
      expect(
        sizes(join(REPO_ROOT, "actions", action, "dist")).totalKiB,
        `${action} fits 1 MiB now: drop it from TOTAL_OVER_1MIB`,
      ).toBeGreaterThan(MIB);
      expect(totalKiB).toBeGreaterThan(MIB);
    }
  });

  it("ships no chunk a run cannot load (bundle.mjs deletes them)", () => {
    for (const a of actions) {
      const dist = join(REPO_ROOT, "actions", a, "dist");
      const files = existsSync(join(dist, "chunks")) ? readdirSync(join(dist, "chunks")) : [];
      // index.js plus its chunks: what bundle-size.json counted.
      expect(files.length + 1, a).toBe(sizes(dist).chunks);
    }
  });
});
