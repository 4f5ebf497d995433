// Issue 18's scale benchmark, through the bundled CLI as CI runs it, with the real kustomize and helm:
//   1. a generated config repo (BENCH_SERVICES=1000 services × 3 environments: kustomize overlays over
//      per-service bases over one shared base, every 20th service a Helm chart, plain jobs and Namespaces);
//   2. the full check (which writes the unit cache), then a one-service pull request checked changed-only
//      (goal < 1.5 s wall) and the full check of the same commit: both walls, the ratio, and agreement of
//      the changed-only verdicts with the full check's on every object it judged;
//   3. the full repo in 1, 2 and 4 shards run as parallel processes: wall per shard, the merge, and the
//      merged result equal to the unsharded one.
// Knobs: BENCH_SERVICES=1000 BENCH_SHARDS=1,2,4 (empty: none) BENCH_KEEP=1 (keep the temp dir) BENCH_CHANGED_RUNS=3
//        BENCH_CLI=<bundle> (default packages/cli/dist/platform.js)
//        BENCH_REPO=<dir> (reuse a repo a BENCH_KEEP=1 run left: its path is printed; skips generating it
//        and, when <dir>/.bench-cache.json exists, the first full check)
//        BENCH_CHANGED_ONLY=1 (only the changed-only runs, no full check and no shards: for iterating;
//        the figures to report come from a run with the full check)
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { generateConfigRepo } from "../fixtures/gen-config-repo.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const CLI = process.env.BENCH_CLI ?? join(ROOT, "packages/cli/dist/platform.js");
const SERVICES = Number(process.env.BENCH_SERVICES ?? 1000);
const SHARDS = (process.env.BENCH_SHARDS ?? "1,2,4").split(",").filter(Boolean).map(Number);
const CHANGED_RUNS = Number(process.env.BENCH_CHANGED_RUNS ?? 3);
const CHANGED_ONLY = process.env.BENCH_CHANGED_ONLY === "1";
const GOAL_CHANGED_MS = 1500;
const log = (s = "") => process.stdout.write(`${s}\n`);
const fmt = (ms) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const cpuOf = (r) => (r.cpu === undefined ? "n/a" : fmt(r.cpu));

for (const [what, p] of [
  ["the bundled CLI (npm run build)", CLI],
  ["kustomize (npm run peers)", join(ROOT, ".peers/bin/kustomize")],
  ["helm (npm run peers)", join(ROOT, ".peers/bin/helm")],
]) {
  if (!existsSync(p)) {
    console.error(`${what} is missing: ${p}`);
    process.exit(2);
  }
}

const reuse = process.env.BENCH_REPO;
const dir = reuse ?? mkdtempSync(join(tmpdir(), "platform-scale-"));
const out = mkdtempSync(join(tmpdir(), "platform-scale-out-"));
process.on("exit", () => {
  const keep = process.env.BENCH_KEEP === "1";
  if (!keep) rmSync(out, { recursive: true, force: true });
  if (!keep && !reuse) rmSync(dir, { recursive: true, force: true });
});
const env = {
  ...process.env,
  PATH: `${join(ROOT, ".peers/bin")}:${process.env.PATH}`,
  PLATFORM_KUSTOMIZE: join(ROOT, ".peers/bin/kustomize"),
  PLATFORM_HELM: join(ROOT, ".peers/bin/helm"),
};
const git = (...args) =>
  execFileSync("git", ["-c", "user.email=b@example.com", "-c", "user.name=bench", ...args], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });

// GNU time gives the CPU seconds of the CLI and its renderers: on a shared machine wall time is mostly waiting.
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
const CPU_LINE = /^cpu (\d+\.\d+) (\d+\.\d+)$/m;

/** Runs the CLI; resolves with wall ms, CPU ms (when GNU time is there), exit code and the JSON result. */
function cli(args) {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const argv = [CLI, ...args, "--root", dir, "-o", "json"];
    const p = TIME
      ? spawn(TIME, ["-f", "cpu %U %S", process.execPath, ...argv], { env, cwd: dir })
      : spawn(process.execPath, argv, { env, cwd: dir });
    const chunks = [];
    let err = "";
    p.stdout.on("data", (c) => chunks.push(c));
    p.stderr.on("data", (c) => {
      err += c;
    });
    p.on("error", fail);
    p.on("close", (code) => {
      const ms = performance.now() - t0;
      const m = CPU_LINE.exec(err);
      const cpu = m ? (Number(m[1]) + Number(m[2])) * 1000 : undefined;
      try {
        done({ ms, cpu, code, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
      } catch {
        fail(new Error(`platform ${args.join(" ")} exited ${code}: ${err.slice(-2000)}`));
      }
    });
  });
}

const rowKey = (r) =>
  JSON.stringify([r.policy, r.kind, r.namespace, r.name, r.verdict, r.message, r.file, r.line, r.via ?? ""]);
const sortedKeys = (rows) => rows.map(rowKey).sort();
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const CHECK = ["policy", "check", ".", "--policies", "builtin", "--waivers", "waivers.yaml"];

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
log(`platform scale benchmark — node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? "cpu"}`);
const t0 = performance.now();
const cache = join(dir, ".bench-cache.json");
let repo;
if (reuse) {
  git("checkout", "-q", "main");
  repo = { services: JSON.parse(readFileSync(join(dir, ".bench-repo.json"), "utf8")) };
  log(`repo: reused ${dir}`);
} else {
  repo = await generateConfigRepo(dir, {
    services: SERVICES,
    envs: ["dev", "staging", "prod"],
    chartEvery: 20,
    jobs: Math.max(5, SERVICES / 10),
    teams: Math.max(2, SERVICES / 20),
  });
  // Bench files are dot files: the walk skips them, and the exclude file keeps them out of git.
  writeFileSync(join(dir, ".bench-repo.json"), JSON.stringify(repo.services));
  git("init", "-q", "-b", "main");
  writeFileSync(join(dir, ".git/info/exclude"), ".bench-*\n");
  git("add", "-A");
  git("commit", "-qm", "generated");
  log(
    `repo: ${SERVICES} services (${repo.services.length} kustomize × 3 envs, ${repo.charts.length} charts), ${repo.jobs.length} jobs, ${repo.namespaces.length} namespaces; generated + committed in ${fmt(performance.now() - t0)}${process.env.BENCH_KEEP === "1" ? ` in ${dir}` : ""}`,
  );
}

// 1. The full check of main: writes the unit cache the pull request's check reads.
let base;
if (!reuse || !existsSync(cache)) {
  base = await cli([...CHECK, "--cache", cache]);
  log(
    `full check (main, writes the cache): ${fmt(base.ms)}, ${base.json.summary.objects} objects in ${base.json.scope.units} renders (load ${load()})`,
  );
}

// 2. A one-service pull request.
git("checkout", "-q", "-B", "pr", "main");
const s = repo.services[0];
const patch = join(dir, `services/${s}/overlays/prod/patch.yaml`);
writeFileSync(patch, readFileSync(patch, "utf8").replace("privileged: false", "privileged: true"));
git("commit", "-qam", `${s}: privileged in prod`);
// The cache files as main's run left them (as a workflow restores them for each pull request): a
// changed-only run writes them back, with this branch's records.
const planFile = cache.replace(/\.json$/, ".plan");
const mainCache = readFileSync(cache);
const mainPlan = existsSync(planFile) ? readFileSync(planFile) : undefined;
const restore = () => {
  writeFileSync(cache, mainCache);
  if (mainPlan) writeFileSync(planFile, mainPlan);
  else rmSync(planFile, { force: true });
};
if (!mainPlan) log("(no plan cache from main's run: every changed-only run plans afresh)");
const changedRuns = [];
for (let i = 0; i < CHANGED_RUNS; i++) {
  restore();
  const r = await cli([...CHECK, "--changed-since", "main", "--cache", cache]);
  log(`  changed-only run ${i + 1}: ${fmt(r.ms)} wall, ${cpuOf(r)} CPU (load ${load()})`);
  changedRuns.push(r);
}
restore();
const changed = [...changedRuns].sort((a, b) => a.ms - b.ms)[Math.floor(changedRuns.length / 2)];
const changedMs = changed.ms;
if (CHANGED_ONLY) {
  log(
    `changed-only median of ${CHANGED_RUNS}: ${fmt(changedMs)} wall, ${cpuOf(changed)} CPU; ${changed.json.scope.judged.length} of ${changed.json.scope.units} renders judged, exit ${changed.code} (load ${load()})`,
  );
  git("checkout", "-q", "main");
  process.exit(0);
}
const full = await cli([...CHECK]);
const judged = new Set(changed.json.scope.judged.map((j) => j.path));
const unitOf = (r) => r.via ?? [...judged].find((u) => r.file === u || r.file.startsWith(`${u}/`)) ?? r.file;
const fullJudged = full.json.results.filter((r) => judged.has(unitOf(r)) || !r.kind);
const agree = same(sortedKeys(changed.json.results), sortedKeys(fullJudged));
log("");
log("| one-service PR | wall | CPU (user+sys) | renders judged | objects | verdict |");
log("|---|---:|---:|---:|---:|---|");
log(
  `| changed-only (median of ${CHANGED_RUNS}, cached context) | ${fmt(changedMs)} | ${cpuOf(changed)} | ${judged.size} of ${changed.json.scope.units} | ${changed.json.summary.objects} | exit ${changed.code} |`,
);
log(
  `| full check, same commit | ${fmt(full.ms)} | ${cpuOf(full)} | ${changed.json.scope.units} | ${full.json.summary.objects} | exit ${full.code} |`,
);
log(
  `ratio full / changed-only: ${(full.ms / changedMs).toFixed(1)}×; goal < ${fmt(GOAL_CHANGED_MS)}: ${changedMs < GOAL_CHANGED_MS ? "met" : "NOT met"}; changed-only verdicts ${agree ? "equal" : "DIFFER from"} the full check's on the ${changed.json.summary.objects} objects judged (${changed.json.results.length} rows)`,
);
log(
  `selection: ${changed.json.scope.judged
    .slice(0, 10)
    .map((j) => `${j.path} (${j.why})`)
    .join("; ")}${judged.size > 10 ? ` … and ${judged.size - 10} more` : ""}`,
);

// 3. Shards as parallel processes, merged, against the unsharded full check.
git("checkout", "-q", "main");
if (SHARDS.length > 0) {
  base ??= await cli([...CHECK]);
  log("");
  log(
    "| shards | wall (all in parallel) | per shard: wall, CPU, objects | merge | merged == unsharded | exit |",
  );
  log("|---:|---:|---|---:|---|---:|");
}
const unsharded = base ? sortedKeys(base.json.results) : [];
for (const n of SHARDS) {
  const t = performance.now();
  const runs = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      cli([
        ...CHECK,
        "--shard",
        `${i + 1}/${n}`,
        "--cache",
        cache,
        "--result",
        join(out, `shard-${n}-${i + 1}.json`),
      ]),
    ),
  );
  const wall = performance.now() - t;
  const merge = await cli([
    "policy",
    "merge",
    ...Array.from({ length: n }, (_, i) => join(out, `shard-${n}-${i + 1}.json`)),
    "--sarif",
    join(out, `merged-${n}.sarif`),
  ]);
  const equal = same(sortedKeys(merge.json.results), unsharded) && merge.code === base.code;
  log(
    `| ${n} | ${fmt(wall)} | ${runs.map((r) => `${fmt(r.ms)}, ${cpuOf(r)}, ${r.json.summary.objects}`).join("; ")} | ${fmt(merge.ms)} | ${equal ? "yes" : "NO"} | ${merge.code} |`,
  );
  if (!equal) process.exitCode = 1;
}
log(
  `\n(${cpus().length} CPU core(s), load average ${load()}: parallel shards share them here; on a GitHub matrix each shard has its own runner.)`,
);
if (!agree) process.exitCode = 1;
