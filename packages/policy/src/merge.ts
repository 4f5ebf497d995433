// Shard results: what each shard of a matrix writes (the JSON result), and their merge into the one
// result an unsharded run would have produced: one summary, one SARIF, one exit code.
import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { errorMessage, PlatformError, writeFileAtomic } from "@platform/core";
import { glob, isDynamicPattern } from "tinyglobby";
import { z } from "zod";
import { decideGate, emptyInputRow, type PolicyCheckResult, type PolicyMode } from "./check.ts";
import type { ScopeReport } from "./scope.ts";
import type { ShardSpec } from "./shard.ts";
import type { PolicyResult } from "./types.ts";
import { type UnitRecord, writeUnitCache } from "./units.ts";

const FORMAT = "platform-policy-result";

/** The JSON a `--shard` run writes (`--result`), self-contained for `platform policy merge`. */
export interface ShardResultFile {
  format: typeof FORMAT;
  version: 1;
  shard: ShardSpec;
  /** Same for every shard of one run (selected units, policies, mode): merge refuses a mix. */
  fingerprint: string;
  allowEmpty: boolean;
  result: Omit<PolicyCheckResult, "cache">;
  /** Cache records of the units this shard rendered. */
  cache: Record<string, UnitRecord>;
}

/** The run-identity of a sharded check: what was split and how it is judged. */
export function shardFingerprint(result: PolicyCheckResult, shardCount: number): string {
  const s = result.scope;
  return createHash("sha256")
    .update(
      JSON.stringify({
        mode: result.mode,
        count: shardCount,
        policies: result.policies.map((p) => p.id),
        units: s?.units,
        selected: s?.shard?.of,
        changedSince: s?.changedSince ?? null,
        base: s?.base ?? null,
      }),
    )
    .digest("hex");
}

/** The shard's result file for a run with `--shard`. */
export function shardResultFile(
  result: PolicyCheckResult,
  shard: ShardSpec,
  allowEmpty: boolean,
): ShardResultFile {
  const { cache, ...rest } = result;
  return {
    format: FORMAT,
    version: 1,
    shard,
    fingerprint: shardFingerprint(result, shard.count),
    allowEmpty,
    result: rest,
    cache: Object.fromEntries(cache ?? []),
  };
}

/** Writes a run's result file (`--result`, `result:`) atomically, creating its directory. */
export async function writeShardResult(
  file: string,
  result: PolicyCheckResult,
  shard: ShardSpec,
  allowEmpty: boolean,
): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(shardResultFile(result, shard, allowEmpty))}\n`, {
    input: "result",
  });
}

/** Writes what a run was asked to keep: its result file, and the unit cache (a shard's travels in its result). */
export async function writeRunFiles(
  root: string,
  result: PolicyCheckResult,
  o: { result?: string; cache?: string; shard?: ShardSpec; allowEmpty?: boolean },
): Promise<void> {
  if (o.result)
    await writeShardResult(
      resolve(root, o.result),
      result,
      o.shard ?? { index: 1, count: 1 },
      o.allowEmpty ?? false,
    );
  if (o.cache && result.cache && !o.shard) await writeUnitCache(resolve(root, o.cache), result.cache);
}

const FileSchema = z
  .object({
    format: z.literal(FORMAT),
    version: z.literal(1),
    shard: z.object({ index: z.number().int().positive(), count: z.number().int().positive() }),
    fingerprint: z.string(),
    allowEmpty: z.boolean(),
    result: z
      .object({ mode: z.enum(["enforce", "audit", "warn"]), results: z.array(z.object({}).passthrough()) })
      .passthrough(),
    cache: z.record(z.string(), z.object({}).passthrough()),
  })
  .passthrough();

/** Expands result files and globs against `root` (sorted, each once). */
export async function shardResultFiles(patterns: string[], root: string): Promise<string[]> {
  const out = new Set<string>();
  for (const p of patterns)
    if (isDynamicPattern(p))
      for (const f of await glob(p, { cwd: root, absolute: true, onlyFiles: true })) out.add(f);
    else out.add(resolve(root, p));
  return [...out].sort();
}

/** Reads shard result files; the error names the file that is not one. */
export async function readShardResults(files: string[]): Promise<ShardResultFile[]> {
  const out: ShardResultFile[] = [];
  for (const f of files) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(f, "utf8"));
    } catch (err) {
      throw new PlatformError("INPUT_INVALID", `${f} is not readable JSON: ${errorMessage(err)}`, {
        file: f,
        hint: "Pass the result files the shards wrote with --result (policy check --shard i/n --result <file>).",
      });
    }
    const r = FileSchema.safeParse(parsed);
    if (!r.success)
      throw new PlatformError("INPUT_INVALID", `${f} is not a shard result: ${r.error.issues[0]?.message}`, {
        file: f,
        hint: "Pass the result files the shards wrote with --result (policy check --shard i/n --result <file>).",
      });
    out.push(r.data as unknown as ShardResultFile);
  }
  return out;
}

/**
 * Merges every shard of one run into the result the unsharded run gives. Fails closed: a missing or repeated
 * shard, or shards of different runs (fingerprints differ), is an input error, never a partial pass.
 */
export function mergeShards(parts: ShardResultFile[]): PolicyCheckResult {
  if (parts.length === 0)
    throw new PlatformError("INPUT_MISSING", "no shard results to merge", {
      input: "merge",
      hint: "Pass every shard's result file (download the shards' artifacts first).",
    });
  const count = parts[0]!.shard.count;
  const byIndex = new Map<number, ShardResultFile>();
  for (const p of parts) {
    if (p.shard.count !== count || p.fingerprint !== parts[0]!.fingerprint)
      throw new PlatformError(
        "INPUT_INVALID",
        `shard ${p.shard.index}/${p.shard.count} is from a different run than shard ${parts[0]!.shard.index}/${count}`,
        {
          input: "merge",
          hint: "Merge the shards of one workflow run (same commit, policies, mode and shard count).",
        },
      );
    if (byIndex.has(p.shard.index))
      throw new PlatformError("INPUT_INVALID", `shard ${p.shard.index}/${count} is given twice`, {
        input: "merge",
        hint: "Pass each shard's result file once.",
      });
    byIndex.set(p.shard.index, p);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length > 0)
    throw new PlatformError(
      "INPUT_MISSING",
      `shard(s) ${missing.map((i) => `${i}/${count}`).join(", ")} missing`,
      {
        input: "merge",
        hint: "Every shard must finish and upload its result: a merge of fewer shards checked only part of the repo.",
      },
    );
  const ordered = [...byIndex.keys()].sort((a, b) => a - b).map((i) => byIndex.get(i)!.result);
  const first = ordered[0]!;
  const mode: PolicyMode = first.mode;
  const results: PolicyResult[] = ordered.flatMap((r) => r.results);
  const objects = ordered.reduce((n, r) => n + r.objects, 0);
  const scope = mergeScopes(ordered.map((r) => r.scope));
  const selected = scope?.shard?.of ?? scope?.units ?? 0;
  const emptyOk = parts[0]!.allowEmpty || (scope?.changedSince !== undefined && selected === 0);
  if (objects === 0 && !emptyOk) results.push(emptyInputRow("no Kubernetes object found in any shard", "."));
  const { counts, failure } = decideGate(results, mode);
  return {
    mode,
    results,
    counts,
    violations: counts.fail,
    warnings: counts.warn,
    errors: counts.error,
    objects,
    policies: first.policies,
    units: ordered.flatMap((r) => r.units).sort((a, b) => a.path.localeCompare(b.path)),
    skipped: ordered
      .flatMap((r) => r.skipped)
      .sort((a, b) => a.path.localeCompare(b.path) || (a.line ?? 0) - (b.line ?? 0)),
    waived: results.filter((r) => r.verdict === "skip" && r.waiver).length,
    notBound: results.filter((r) => r.verdict === "skip" && r.notBound).length,
    passed: failure === undefined,
    ...(failure ? { failure } : {}),
    ...(scope ? { scope } : {}),
    cache: new Map(parts.flatMap((p) => Object.entries(p.cache))),
  };
}

function mergeScopes(scopes: Array<ScopeReport | undefined>): ScopeReport | undefined {
  const s = scopes.filter((x): x is ScopeReport => x !== undefined);
  const first = s[0];
  if (!first) return undefined;
  const { shard: _, ...rest } = first;
  return {
    ...rest,
    judged: s.flatMap((x) => x.judged).sort((a, b) => a.path.localeCompare(b.path)),
    context: {
      cached: s.reduce((n, x) => n + x.context.cached, 0),
      rendered: [...new Set(s.flatMap((x) => x.context.rendered))].sort(),
    },
    ...(first.shard ? { shard: { index: 0, count: first.shard.count, of: first.shard.of } } : {}),
  };
}
