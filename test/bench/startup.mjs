// Start-up of every bundled action (issue 18): spawn → exit of `node actions/<name>/dist/index.js` run as the
// runner does, with no inputs, so each stops at its first required input — the cost of loading the bundle and
// getting to our first line of code — against a bare `node -e 0` in the same run. Also the bundle sizes
// bundle.mjs records (start-up closure and total). docker/build-push-action's dist is measured too when
// BPA_DIST points at its dist/index.cjs (not vendored here); otherwise the issue's figure is shown for reference.
// Every command runs once per round, RUNS rounds, so a load change hits all alike; the load average is printed.
// Knobs: BENCH_STARTUP_RUNS=15  BPA_DIST=<path to build-push-action dist/index.cjs>
// Writes bench-results/startup.json (git-ignored).
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 15);
const GOALS = { overheadMs: 60, startupKiB: 1024, totalKiB: 1024 };
/** The issue's measurement of docker/build-push-action's dist on Node 24 (232 ms), shown when BPA_DIST is unset. */
const BPA_REFERENCE_MS = 232;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Median wall time of each `node <args>` over RUNS spawns, interleaved (one round spawns each command once, so
 * a change of the machine's load hits every command alike), after one warm-up round that fills the page cache.
 */
function timeInterleaved(commands) {
  const samples = commands.map(() => []);
  for (let i = 0; i <= RUNS; i++) {
    commands.forEach(({ args, env }, j) => {
      const t0 = performance.now();
      spawnSync(process.execPath, args, { env, stdio: "ignore" });
      if (i > 0) samples[j].push(performance.now() - t0);
    });
  }
  return samples.map(median);
}

const tmp = mkdtempSync(join(tmpdir(), "bench-startup-"));
const runnerEnv = (name) => {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "output"), "");
  writeFileSync(join(dir, "summary.md"), "");
  return {
    PATH: process.env.PATH ?? "",
    GITHUB_ACTIONS: "true",
    GITHUB_WORKSPACE: dir,
    RUNNER_TEMP: dir,
    GITHUB_OUTPUT: join(dir, "output"),
    GITHUB_STEP_SUMMARY: join(dir, "summary.md"),
  };
};

try {
  const actions = readdirSync(join(ROOT, "actions"))
    .sort()
    .filter((name) => existsSync(join(ROOT, "actions", name, "dist", "index.js")));
  const withBpa = Boolean(process.env.BPA_DIST && existsSync(process.env.BPA_DIST));
  const [bare, ...timed] = timeInterleaved([
    { args: ["-e", "0"], env: { PATH: process.env.PATH ?? "" } },
    ...actions.map((name) => ({
      args: [join(ROOT, "actions", name, "dist", "index.js")],
      env: runnerEnv(name),
    })),
    ...(withBpa ? [{ args: [process.env.BPA_DIST], env: runnerEnv("bpa") }] : []),
  ]);
  const rows = actions.map((name, i) => {
    const sizeFile = join(ROOT, "actions", name, "dist", "bundle-size.json");
    const size = existsSync(sizeFile) ? JSON.parse(readFileSync(sizeFile, "utf8")) : {};
    return { action: name, medianMs: timed[i], overheadMs: timed[i] - bare, ...size };
  });
  const bpa = withBpa ? timed[actions.length] : undefined;

  const pad = (s, n) => String(s).padEnd(n);
  const lpad = (s, n) => String(s).padStart(n);
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
  console.log(
    `start-up, median of ${RUNS} interleaved (node ${process.version}, load average ${load}); bare node -e 0: ${Math.round(bare)} ms`,
  );
  console.log(
    `${pad("action", 18)}${lpad("median", 8)}${lpad("over bare", 11)}${lpad("start-up KiB", 14)}${lpad("total KiB", 11)}`,
  );
  for (const r of rows)
    console.log(
      `${pad(r.action, 18)}${lpad(`${Math.round(r.medianMs)} ms`, 8)}${lpad(`${Math.round(r.overheadMs)} ms`, 11)}${lpad(r.startupKiB ?? "?", 14)}${lpad(r.totalKiB ?? "?", 11)}` +
        `${r.overheadMs > GOALS.overheadMs ? "  (over the 60 ms goal)" : ""}${(r.startupKiB ?? 0) > GOALS.startupKiB ? "  (start-up over 1 MiB)" : ""}${(r.totalKiB ?? 0) > GOALS.totalKiB ? "  (total over 1 MiB)" : ""}`,
    );
  console.log(
    bpa === undefined
      ? `docker/build-push-action dist: ${BPA_REFERENCE_MS} ms (the issue's figure, for reference; set BPA_DIST to measure it here)`
      : `docker/build-push-action dist: ${Math.round(bpa)} ms (${Math.round(bpa - bare)} ms over bare), measured in this run`,
  );
  mkdirSync(join(ROOT, "bench-results"), { recursive: true });
  writeFileSync(
    join(ROOT, "bench-results", "startup.json"),
    `${JSON.stringify({ node: process.version, runs: RUNS, loadAverage: loadavg(), bareMs: bare, buildPushActionMs: bpa ?? null, goals: GOALS, actions: rows }, null, 2)}\n`,
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
