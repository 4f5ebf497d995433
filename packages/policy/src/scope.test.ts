import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "@platform/core";
import { afterEach, describe, expect, it } from "vitest";
import { selectChanged } from "./changed.ts";
import { policyCheck } from "./check.ts";
import { GitRepo } from "./git.ts";
import type { PlannedUnit } from "./manifests.ts";
import { mergeShards, shardResultFile } from "./merge.ts";
import { describeScope } from "./scope.ts";
import { parseShard, shardUnits } from "./shard.ts";
import { type UnitInputs, writeUnitCache } from "./units.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function repo(files: Record<string, string>): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), "scope-")));
  dirs.push(dir);
  for (const [p, t] of Object.entries(files)) {
    await mkdir(join(dir, p, ".."), { recursive: true });
    await writeFile(join(dir, p), t);
  }
  git(dir, "init", "-q");
  git(dir, "add", "-A");
  git(dir, "commit", "-qm", "base");
  return dir;
}
function git(dir: string, ...args: string[]) {
  execFileSync("git", ["-c", "user.email=t@e", "-c", "user.name=t", ...args], { cwd: dir, stdio: "pipe" });
}

const units = (paths: string[]): PlannedUnit[] =>
  paths.map((p) => ({ path: p, abs: `/r/${p}`, kind: "yaml" }));

describe("parseShard and shardUnits", () => {
  it("parses i/n and names the input on a bad one", () => {
    expect(parseShard(" 2/4 ")).toEqual({ index: 2, count: 4 });
    for (const bad of ["0/2", "3/2", "a/b", "1/0", "1/300"]) expect(() => parseShard(bad)).toThrow(/shard: /);
  });

  it("splits deterministically into disjoint shards that cover every unit, with and without weights", () => {
    const all = units(Array.from({ length: 50 }, (_, i) => `u${i}.yaml`));
    const weights = new Map(all.map((u, i) => [u.path, (i % 7) * 10 + 1] as [string, number]));
    for (const w of [undefined, weights]) {
      const parts = [1, 2, 3].map((index) => shardUnits(all, { index, count: 3 }, w).map((u) => u.path));
      expect(parts.flat().sort()).toEqual(all.map((u) => u.path).sort());
      expect(new Set(parts.flat()).size).toBe(all.length);
      expect(
        shardUnits([...all].reverse(), { index: 2, count: 3 }, w)
          .map((u) => u.path)
          .sort(),
      ).toEqual([...parts[1]!].sort());
    }
    // Balanced by weight: no shard carries more than the mean plus the heaviest unit.
    const loads = [1, 2, 3].map((index) =>
      shardUnits(all, { index, count: 3 }, weights).reduce((n, u) => n + weights.get(u.path)!, 0),
    );
    const total = loads.reduce((a, b) => a + b, 0);
    expect(Math.max(...loads)).toBeLessThanOrEqual(total / 3 + 61);
  });
});

describe("selectChanged", () => {
  const inputs = new Map<string, UnitInputs>([
    [
      "apps/a",
      { files: ["apps/a/kustomization.yaml", "bases/web/d.yaml"], dirs: [], kustomizations: [], plugins: [] },
    ],
    ["charts/c", { files: ["charts/c/Chart.yaml"], dirs: ["charts/c"], kustomizations: [], plugins: [] }],
    ["plain/p.yaml", { files: ["plain/p.yaml"], dirs: [], kustomizations: [], plugins: [] }],
  ]);
  const planned: PlannedUnit[] = [
    { path: "apps/a", abs: "/r/apps/a", kind: "kustomize" },
    { path: "charts/c", abs: "/r/charts/c", kind: "helm" },
    { path: "plain/p.yaml", abs: "/r/plain/p.yaml", kind: "yaml" },
  ];
  const change = (...files: Array<[string, "added" | "modified" | "deleted"]>) => ({
    since: "main",
    source: "git" as const,
    files: files.map(([path, status]) => ({ path, status })),
  });
  const global = [
    { path: "policies/**/*.yaml", what: "policies" },
    { path: "waivers.yaml", what: "waivers" },
  ];

  it("attributes shared bases, chart files and plain files to their renders; ignores what no render reads", async () => {
    const s = await selectChanged(
      "/r",
      planned,
      inputs,
      change(
        ["bases/web/d.yaml", "modified"],
        ["charts/c/templates/x.yaml", "added"],
        ["README.md", "modified"],
      ),
      global,
    );
    expect(s.all).toBeUndefined();
    expect([...s.units.keys()].sort()).toEqual(["apps/a", "charts/c"]);
    expect(s.ignored).toEqual([{ file: "README.md", why: "no render reads it" }]);
  });

  it("selects everything, with the reason, for policies, waivers and deleted kustomizations", async () => {
    expect(
      (await selectChanged("/r", planned, inputs, change(["policies/x/t.yaml", "modified"]), global)).all,
    ).toMatch(/^policies changed \(policies\/x\/t\.yaml\)/);
    expect(
      (await selectChanged("/r", planned, inputs, change(["waivers.yaml", "modified"]), global)).all,
    ).toMatch(/^waivers changed/);
    expect(
      (await selectChanged("/r", planned, inputs, change(["apps/a/kustomization.yaml", "deleted"]), global))
        .all,
    ).toMatch(/a kustomization was deleted/);
  });

  it("fails closed on an unattributed file when a kustomization runs plugins", async () => {
    const withPlugins = new Map(inputs);
    withPlugins.set("apps/a", { ...inputs.get("apps/a")!, plugins: ["apps/a/kustomization.yaml"] });
    const s = await selectChanged("/r", planned, withPlugins, change(["data/seed.txt", "modified"]), global);
    expect(s.all).toMatch(/runs kustomize plugins/);
  });
});

describe("changed-only and sharded policyCheck (plain YAML)", () => {
  const config = parseConfig("registries:\n  trusted: [acr.io]\n", "platform.yaml");
  const sa = (automount: boolean) =>
    `apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: t}\nautomountServiceAccountToken: ${automount}\n`;
  const pod = (name: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: t}\nspec:\n  serviceAccountName: web\n  containers: [{name: c, image: "acr.io/x@sha256:${"a".repeat(64)}"}]\n`;
  const check = (root: string, extra = {}) =>
    policyCheck({
      manifests: ["m"],
      render: "none",
      policies: ["PLAT025"],
      mode: "enforce",
      config,
      root,
      ...extra,
    });

  it("a ServiceAccount change re-judges the pods of another file that run as it; a README change judges nothing", async () => {
    const root = await repo({
      "m/sa.yaml": sa(true),
      "m/pod.yaml": pod("p"),
      "m/other.yaml": pod("q").replace("namespace: t", "namespace: u"),
    });
    const cacheFile = join(root, "..", `${root.split("/").pop()}.json`);
    dirs.push(cacheFile);
    const base = await check(root, { cache: cacheFile });
    await writeUnitCache(cacheFile, base.cache!);
    expect(
      base.results.filter((r) => r.verdict === "warn" || r.verdict === "fail").map((r) => r.name),
    ).toContain("p");
    await writeFile(join(root, "m/sa.yaml"), sa(false));
    git(root, "commit", "-qam", "sa");
    const changes = await (await GitRepo.open(root))!.changedSince("HEAD~1");
    const r = await check(root, { changes, cache: cacheFile });
    expect(r.scope!.judged.map((j) => j.path).sort()).toEqual(["m/pod.yaml", "m/sa.yaml"]);
    expect(r.scope!.judged.find((j) => j.path === "m/pod.yaml")!.why).toMatch(/namespace has a changed/);
    expect(r.results.filter((x) => x.name === "p").map((x) => x.verdict)).toEqual(["pass"]);
    expect(describeScope(r.scope!)[0]).toMatch(
      /^changed-only since HEAD~1 .*1 changed file\(s\): 2 of 3 renders affected/,
    );

    await writeFile(join(root, "README.md"), "x\n");
    git(root, "add", "-A");
    git(root, "commit", "-qm", "readme");
    const none = await check(root, {
      changes: await (await GitRepo.open(root))!.changedSince("HEAD~1"),
      cache: cacheFile,
    });
    expect(none.scope!.judged).toEqual([]);
    expect(none.passed).toBe(true);
    expect(none.scope!.ignored).toEqual([{ file: "README.md", why: "no render reads it" }]);
  });

  it("merge refuses a missing, repeated or foreign shard", async () => {
    const root = await repo({ "m/pod.yaml": pod("p"), "m/sa.yaml": sa(false) });
    const a = shardResultFile(
      await check(root, { shard: { index: 1, count: 2 } }),
      { index: 1, count: 2 },
      false,
    );
    const b = shardResultFile(
      await check(root, { shard: { index: 2, count: 2 } }),
      { index: 2, count: 2 },
      false,
    );
    expect(mergeShards([a, b]).objects).toBe(2);
    expect(() => mergeShards([a])).toThrow(/2\/2 missing/);
    expect(() => mergeShards([a, a])).toThrow(/given twice/);
    expect(() => mergeShards([a, { ...b, fingerprint: "other" }])).toThrow(/different run/);
    expect(() => mergeShards([])).toThrow(/no shard results/);
  });
});
