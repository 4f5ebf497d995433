// Deterministic sharding of render units: every shard of a matrix computes the same split from the same
// inputs (unit paths, and object counts from a previous run's cache when there is one), with no coordination.
import { createHash } from "node:crypto";
import { PlatformError } from "@platform/core";

/** Shard `index` (1-based) of `count`. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** Parses `i/n` (1 ≤ i ≤ n ≤ 256); the error names the input. */
export function parseShard(text: string, input = "shard"): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!m || index < 1 || count < 1 || index > count || count > 256)
    throw new PlatformError(
      "INPUT_INVALID",
      `${input}: "${text}" is not a shard i/n with 1 <= i <= n <= 256`,
      {
        input,
        hint: "Write the shard as index/count, e.g. 2/4 for the second of four (a matrix over 1..4).",
      },
    );
  return { index, count };
}

/** A stable 32-bit hash of a unit path (the same on every runner and Node version). */
export function pathHash(path: string): number {
  return createHash("sha256").update(path).digest().readUInt32BE(0);
}

/**
 * The units of one shard. Without weights: by path hash modulo the count (a unit stays in its shard as the
 * repo grows). With weights (object counts from the cache): greedy largest-first onto the lightest shard,
 * ties broken by hash then path, so shards finish together; units the cache lacks weigh the mean.
 */
export function shardUnits<T extends { path: string }>(
  units: ReadonlyArray<T>,
  shard: ShardSpec,
  weights?: ReadonlyMap<string, number>,
): T[] {
  if (shard.count === 1) return [...units];
  if (!weights || weights.size === 0)
    return units.filter((u) => pathHash(u.path) % shard.count === shard.index - 1);
  const known = units.map((u) => weights.get(u.path)).filter((w): w is number => w !== undefined);
  const mean = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : 1;
  const order = units
    .map((u) => ({ u, w: Math.max(1, weights.get(u.path) ?? mean), h: pathHash(u.path) }))
    .sort((a, b) => b.w - a.w || a.h - b.h || a.u.path.localeCompare(b.u.path));
  const load = new Array<number>(shard.count).fill(0);
  const mine: T[] = [];
  for (const { u, w } of order) {
    let best = 0;
    for (let i = 1; i < load.length; i++) if (load[i]! < load[best]!) best = i;
    load[best]! += w;
    if (best === shard.index - 1) mine.push(u);
  }
  return mine;
}
