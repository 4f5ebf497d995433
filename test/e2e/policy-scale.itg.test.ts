// Issue 18: changed-only checks and shards give the full check's verdicts. A generated config repo (kustomize
// overlays over shared bases, charts, plain jobs that run as another render's ServiceAccount) takes ≥ 200
// seeded random edits, one commit each; after every edit the changed-only check (real kustomize and helm)
// must agree with a full check on every object it judges, and every object it does not judge must keep its
// verdict. Then the full repo in 1, 2 and 3 shards, merged, must equal the unsharded check.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "@platform/core";
import {
  GitRepo,
  mergeShards,
  type PolicyCheckInput,
  type PolicyCheckResult,
  type PolicyResult,
  policyCheck,
  shardResultFile,
  toSarif,
  writeUnitCache,
} from "@platform/policy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type GeneratedRepo,
  generateConfigRepo,
  randomEdit,
  rng,
  TRUSTED,
} from "../fixtures/gen-config-repo.ts";
import { requirePeers } from "../peers/index.ts";

const peers = requirePeers("kustomize", "helm");
const EDITS = Number(process.env.SCALE_EDITS ?? 200);
const SEED = Number(process.env.SCALE_SEED ?? 18);
const config = parseConfig(`registries:\n  trusted: [${TRUSTED}]\n`, "platform.yaml");
let repo: GeneratedRepo;
let dir: string;

const git = (...args: string[]) =>
  execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });

function check(extra: Partial<PolicyCheckInput> = {}): Promise<PolicyCheckResult> {
  return policyCheck(
    {
      manifests: ["."],
      render: "auto",
      policies: ["builtin"],
      waivers: "waivers.yaml",
      mode: "enforce",
      config,
      root: dir,
      ...extra,
    },
    { tools: { kustomize: peers.paths.kustomize, helm: peers.paths.helm } },
  );
}

const rowKey = (r: PolicyResult) =>
  JSON.stringify([r.policy, r.kind, r.namespace, r.name, r.verdict, r.message, r.file, r.line, r.via ?? ""]);

function multiset(rows: PolicyResult[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of rows) m.set(rowKey(r), (m.get(rowKey(r)) ?? 0) + 1);
  return m;
}

/** Rows of `a` not in `b` (multiset difference). */
function minus(a: PolicyResult[], b: PolicyResult[]): PolicyResult[] {
  const left = multiset(b);
  return a.filter((r) => {
    const n = left.get(rowKey(r)) ?? 0;
    if (n > 0) {
      left.set(rowKey(r), n - 1);
      return false;
    }
    return true;
  });
}

/** The render unit a row belongs to (the overlay or chart that rendered it, or its file), else "". */
function unitOfRow(r: PolicyResult, units: string[]): string {
  if (r.via) return r.via;
  return units.find((u) => r.file === u || r.file.startsWith(`${u}/`)) ?? "";
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "scale-"));
  repo = await generateConfigRepo(dir, {
    services: 8,
    envs: ["dev", "prod"],
    chartEvery: 4,
    jobs: 5,
    teams: 2,
  });
  git("init", "-q");
  git("add", "-A");
  git("commit", "-qm", "generated");
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!peers.ok)("changed-only and sharded checks agree with the full check", () => {
  it(`changed-only verdicts equal the full check's after each of ${EDITS} seeded random edits`, async () => {
    const cacheFile = join(dir, "..", `${dir.split("/").pop()}-cache.json`);
    let before = await check();
    // The scoped full run (what writes the cache) judges exactly as the plain one.
    const seeded = await check({ cache: cacheFile });
    expect(minus(seeded.results, before.results)).toEqual([]);
    expect(minus(before.results, seeded.results)).toEqual([]);
    await writeUnitCache(cacheFile, seeded.cache!);
    const next = rng(SEED);
    const stats = { edits: 0, narrowed: 0, all: 0, judged: 0, units: 0, agree: 0, noCache: 0 };
    for (let k = 1; k <= EDITS; k++) {
      const what = await randomEdit(repo, next);
      git("add", "-A");
      git("commit", "-q", "--allow-empty", "-m", what);
      const changes = await (await GitRepo.open(dir))!.changedSince("HEAD~1");
      // Every 10th edit runs without the cache (context rendered, base read from git), and leaves the
      // cache a commit stale for the next edits.
      const useCache = k % 10 !== 0;
      const changed = await check({ changes, ...(useCache ? { cache: cacheFile } : {}) });
      const full = await check();
      const scope = changed.scope!;
      const units = [...new Set([...full.units, ...before.units].map((u) => u.path))];
      const judged = new Set([...scope.judged.map((j) => j.path), ...scope.removed]);
      const ctx = `edit ${k} (${what}); judged ${[...judged].join(", ") || "nothing"}${scope.all ? `; all: ${scope.all}` : ""}`;
      // 1. Everything the changed-only check says, the full check says too.
      expect(minus(changed.results, full.results), ctx).toEqual([]);
      // 2. What it does not say is unchanged since the last commit's full check.
      expect(minus(minus(full.results, changed.results), before.results), ctx).toEqual([]);
      // 3. Every verdict of a unit it did not judge still holds.
      const kept = before.results.filter((r) => scope.all || !judged.has(unitOfRow(r, units)));
      if (!scope.all) expect(minus(kept, full.results), ctx).toEqual([]);
      stats.edits++;
      stats.agree++;
      if (scope.all) stats.all++;
      else stats.narrowed++;
      if (!useCache) stats.noCache++;
      stats.judged += scope.judged.length;
      stats.units += scope.units;
      if (useCache && changed.cache) await writeUnitCache(cacheFile, changed.cache);
      before = full;
    }
    console.log(
      `changed-only property (seed ${SEED}): ${stats.edits} edits, ${stats.agree} agree, 0 looser; ${stats.narrowed} narrowed, ${stats.all} all (with reason), ${stats.noCache} without cache; judged ${stats.judged} of ${stats.units} unit-checks (${((100 * stats.judged) / stats.units).toFixed(1)}%)`,
    );
    await rm(cacheFile, { force: true });
    expect(stats.edits).toBe(EDITS);
    // The selection must actually narrow: most edits touch one service.
    expect(stats.narrowed).toBeGreaterThan(EDITS / 2);
    expect(stats.judged).toBeLessThan(stats.units / 2);
  }, 1_800_000);

  it("merged shards equal the unsharded check (results, counts, gate, SARIF), with and without a cache", async () => {
    const full = await check();
    const cacheFile = join(dir, "..", `${dir.split("/").pop()}-shard-cache.json`);
    for (const withCache of [false, true]) {
      if (withCache) await writeUnitCache(cacheFile, (await check({ cache: cacheFile })).cache!);
      for (const count of [1, 2, 3]) {
        const parts = [];
        for (let i = 1; i <= count; i++) {
          const r = await check({ shard: { index: i, count }, ...(withCache ? { cache: cacheFile } : {}) });
          parts.push(JSON.parse(JSON.stringify(shardResultFile(r, { index: i, count }, false))));
        }
        const merged = mergeShards(parts);
        const ctx = `${count} shard(s)${withCache ? " with cache" : ""}`;
        expect(minus(merged.results, full.results), ctx).toEqual([]);
        expect(minus(full.results, merged.results), ctx).toEqual([]);
        expect(merged.counts, ctx).toEqual(full.counts);
        expect([merged.passed, merged.failure, merged.objects], ctx).toEqual([
          full.passed,
          full.failure,
          full.objects,
        ]);
        const sarif = (r: PolicyCheckResult) =>
          (
            (toSarif(r.results, { version: "t" }) as { runs: Array<{ results?: unknown[] }> }).runs[0]
              ?.results ?? []
          )
            .map((x) => JSON.stringify(x))
            .sort();
        expect(sarif(merged), ctx).toEqual(sarif(full));
        // Every unit is judged by exactly one shard.
        const judged = parts.flatMap((p) => p.result.scope.judged.map((j: { path: string }) => j.path));
        expect(new Set(judged).size, ctx).toBe(judged.length);
        expect(judged.length, ctx).toBe(parts[0].result.scope.units);
      }
    }
    // A missing shard or one from another run is refused, never a partial pass.
    const one = shardResultFile(
      await check({ shard: { index: 1, count: 2 } }),
      { index: 1, count: 2 },
      false,
    );
    expect(() => mergeShards([one])).toThrow(/shard\(s\) 2\/2 missing/);
    const other = { ...one, shard: { index: 2, count: 2 }, fingerprint: "x" };
    expect(() => mergeShards([one, other])).toThrow(/different run/);
    await writeFile(cacheFile, "not json");
    // A corrupt cache is no cache: same verdicts.
    const corrupt = await check({ shard: { index: 1, count: 1 }, cache: cacheFile });
    expect(minus(corrupt.results, full.results)).toEqual([]);
    await rm(cacheFile, { force: true });
  }, 600_000);
});
