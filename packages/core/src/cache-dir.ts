// Where platform keeps what is costly to recompute between runs (compiled Rego, parsed suite files): per user,
// never in a shared folder another user could plant results in.
import { mkdirSync, mkdtempSync, statSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import type { Logger } from "./log.ts";

/**
 * A platform cache folder: in GitHub Actions the runner's tool cache ($RUNNER_TOOL_CACHE/platform/<name>, kept
 * between jobs on self-hosted runners), elsewhere the user's own cache directory ($XDG_CACHE_HOME/platform/<name>,
 * else ~/.cache/platform/<name>).
 */
export function platformCacheDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.GITHUB_ACTIONS === "true" && env.RUNNER_TOOL_CACHE && isAbsolute(env.RUNNER_TOOL_CACHE))
    return join(env.RUNNER_TOOL_CACHE, "platform", name);
  const base =
    env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(homedir(), ".cache");
  return join(base, "platform", name);
}

/**
 * Creates a cache directory (mode 0700) and checks it is ours and not writable by others; a directory that
 * fails the check is not used (a fresh private one in the temp folder is, so the run still works, uncached).
 */
export async function privateCacheDir(dir: string, log?: Pick<Logger, "warn">): Promise<string> {
  // Synchronous calls: a run opens its caches once, and on a busy machine each thread-pool round trip of an
  // asynchronous stat could wait tens of milliseconds for a core (most of a warm `policy test`'s idle time).
  // stat first: on every run but the first the folder exists, and a recursive mkdir costs more than a stat.
  let st = statSync(dir, { throwIfNoEntry: false });
  if (!st) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch {}
    st = statSync(dir, { throwIfNoEntry: false });
  }
  const uid = process.getuid?.();
  const ok = st?.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
  if (ok) return dir;
  log?.warn(
    `not using the cache ${dir}: ${st ? "it is writable by other users or not owned by you" : "it cannot be created"}; using a private temporary folder`,
  );
  return mkdtempSync(join(tmpdir(), "platform-cache-"));
}
