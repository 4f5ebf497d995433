// Issues 7 and 18 benchmark: the whole gatekeeper-library suite with `platform policy test` (bundled CLI, and
// in-process) against `gator verify` on the same suites in the same run — wall and CPU time, ratio (goal
// >= 10x through the CLI) and per-case agreement; the CLI runs interleave with gator's so both see the same
// machine load. Also: a cold CLI run (empty Rego and compile caches: what a fresh runner pays) and one run
// under --cpu-prof, summarised (where our time goes). Writes bench-results/policy-suites.json and the profile
// to bench-results/policy-suites.cpuprofile.
//   node test/bench/policy-suites.mjs     (BENCH_RUNS=5; PLATFORM_CLI=<platform.js> to time another build)
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createCelEngine, opaRegoCompiler, runGatorSuites } from "@platform/policy";
import { generate, writeManifests } from "./policy/generate.mjs";

const ROOT = join(import.meta.dirname, "..", "..");

import { LIBRARY } from "./policy/gatekeeper.mjs";

const CLI = process.env.PLATFORM_CLI ?? join(ROOT, "packages", "cli", "dist", "platform.js");
const GATOR = process.env.GATOR ?? join(ROOT, ".peers", "bin", "gator");
const OPA = process.env.OPA ?? join(ROOT, ".peers", "bin", "opa");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
// GNU time gives a child's CPU (user + sys); without it the figures are wall time only.
const TIME = ["/usr/bin/time", "/bin/time"].find((p) => existsSync(p));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (s = "") => process.stdout.write(`${s}\n`);

/**
 * Where a run's time goes, by the functions on the stack (first match wins): the phases of `policy test`.
 * Matched by name, so they hold for the minified bundle only as far as esbuild keeps these names (it keeps
 * exported and top-level function names it does not need to rename; unmatched time is "other").
 */
const PHASES = [
  ["garbage collection", (s) => s[0] === "(garbage collector)"],
  ["finding suite files", (s) => s.includes("findSuites")],
  [
    "Rego: cached modules, instantiation",
    (s) => s.some((f) => f === "compileRegoTemplates" || f === "loadPrograms" || f === "instantiate"),
  ],
  ["CEL environment", (s) => s.includes("createCelEngine")],
  ["CEL compile (templates)", (s) => s.includes("templateEngines")],
  [
    "reading suites, templates, samples (parsed-YAML cache)",
    (s) => s.includes("readObjects") || s.includes("parseManifestStreamCached"),
  ],
  ["judging the cases (CEL and Rego evaluation)", (s) => s.includes("runGatorSuites")],
  ["Node start-up, loading the CLI and the suite runner's modules, other", () => true],
];

if (!existsSync(LIBRARY)) {
  log(`gatekeeper-library not found at ${LIBRARY}; skipping`);
  process.exit(0);
}
const suites = [];
const walk = (d) => {
  for (const n of readdirSync(d)) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (n === "suite.yaml") suites.push(p);
  }
};
walk(LIBRARY);

/** Runs a command once: wall ms, CPU ms of the process and its children (when GNU time is there), output. */
function timed(cmd, args, opts = {}) {
  const cpuFile = join(tmpdir(), `policy-suites-cpu-${process.pid}`);
  const [file, argv] = TIME ? [TIME, ["-f", "%U %S", "-o", cpuFile, cmd, ...args]] : [cmd, args];
  const t = performance.now();
  const r = spawnSync(file, argv, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, ...opts });
  const ms = performance.now() - t;
  let cpuMs;
  if (TIME) {
    const [user, sys] = readFileSync(cpuFile, "utf8").trim().split("\n").pop().split(" ").map(Number);
    cpuMs = (user + sys) * 1000;
    rmSync(cpuFile, { force: true });
  }
  return { ms, cpuMs, status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const stats = (rs) => ({
  medianMs: median(rs.map((r) => r.ms)),
  samplesMs: rs.map((r) => Math.round(r.ms)),
  ...(TIME ? { medianCpuMs: median(rs.map((r) => r.cpuMs)) } : {}),
});
const fmt = (s) =>
  `${Math.round(s.medianMs)} ms wall${s.medianCpuMs !== undefined ? `, ${Math.round(s.medianCpuMs)} ms CPU` : ""}`;

log(`gatekeeper-library suites: ${suites.length} suite files — node ${process.version}, CLI ${CLI}`);
// Cold: fresh Rego, parsed-YAML and Node compile caches (a first run on a new runner: one `opa build`).
const fresh = mkdtempSync(join(tmpdir(), "policy-suites-cold-"));
const coldEnv = { ...process.env, XDG_CACHE_HOME: fresh, NODE_COMPILE_CACHE: join(fresh, "node") };
const cold = timed(process.execPath, [CLI, "policy", "test", ".", "--json"], { cwd: LIBRARY, env: coldEnv });
rmSync(fresh, { recursive: true, force: true });
if (cold.status !== 0)
  throw new Error(`policy test (cold) exited ${cold.status}: ${cold.stderr.slice(0, 2000)}`);
const summary = JSON.parse(cold.stdout).summary;
log(
  `ours: ${summary.passed}/${summary.cases} cases match their suite's expectations (cold run, empty caches: ${fmt(stats([cold]))})`,
);
// One untimed run of each fills the default caches (ours) and the page cache (both).
timed(process.execPath, [CLI, "policy", "test", "."], { cwd: LIBRARY });
const haveGator = existsSync(GATOR);
if (haveGator) timed(GATOR, ["verify", "./..."], { cwd: LIBRARY });
const oursRuns = [];
const gatorRuns = [];
let gatorPassed = 0;
// Wall time swings with the machine's load (CPU time much less): every figure is reported with it.
const load = () => loadavg().map((l) => l.toFixed(2));
const loadBefore = load();
for (let i = 0; i < RUNS; i++) {
  const o = timed(process.execPath, [CLI, "policy", "test", "."], { cwd: LIBRARY });
  // Served from the caches, every case must still match its suite (exit 0), or the figure means nothing.
  if (o.status !== 0) throw new Error(`policy test (warm) exited ${o.status}: ${o.stdout.slice(-2000)}`);
  oursRuns.push(o);
  if (!haveGator) continue;
  const r = timed(GATOR, ["verify", "./...", "-v"], { cwd: LIBRARY });
  gatorRuns.push(r);
  gatorPassed = (r.stdout.match(/^\s+--- PASS/gm) ?? []).length;
}
const loadAfter = load();
const inProcess = [];
for (let i = 0; i < RUNS; i++) {
  const t = performance.now();
  await runGatorSuites(suites, {
    root: LIBRARY,
    engine: createCelEngine(),
    rego: opaRegoCompiler({ opa: OPA }),
  });
  inProcess.push(performance.now() - t);
}
// Where the time goes: one warm CLI run under the V8 profiler, self time summed by phase, function and file.
// The phases need function names, which the minified bundle renames: PLATFORM_PROFILE_CLI names an
// unminified build of the same sources to profile instead (docs/policy-speed.md says how to make one).
const PROFILED = process.env.PLATFORM_PROFILE_CLI ?? CLI;
if (PROFILED !== CLI) timed(process.execPath, [PROFILED, "policy", "test", "."], { cwd: LIBRARY }); // its caches
const profDir = mkdtempSync(join(tmpdir(), "policy-suites-prof-"));
timed(process.execPath, ["--cpu-prof", "--cpu-prof-dir", profDir, PROFILED, "policy", "test", "."], {
  cwd: LIBRARY,
});
const profFile = readdirSync(profDir).find((n) => n.endsWith(".cpuprofile"));
const profile = profFile
  ? summariseProfile(JSON.parse(readFileSync(join(profDir, profFile), "utf8")))
  : undefined;
mkdirSync(join(ROOT, "bench-results"), { recursive: true });
if (profFile) renameSync(join(profDir, profFile), join(ROOT, "bench-results", "policy-suites.cpuprofile"));
rmSync(profDir, { recursive: true, force: true });

const gator = haveGator ? { ...stats(gatorRuns), casesPassed: gatorPassed } : undefined;
const ours = {
  cli: stats(oursRuns),
  cold: stats([cold]),
  inProcessMedianMs: median(inProcess),
  cases: summary.cases,
  casesPassed: summary.passed,
};
log(
  `load average    : ${loadBefore.join(" ")} before the timed runs, ${loadAfter.join(" ")} after (1, 5, 15 min)`,
);
log(`ours CLI        : ${fmt(ours.cli)} (median of ${RUNS}, caches warm)`);
log(
  `ours in-process : ${Math.round(ours.inProcessMedianMs)} ms median of ${RUNS} (CEL templates on the CEL engine, Rego-only ones through OPA wasm, compiled module cached)`,
);
if (gator) {
  log(`gator verify    : ${fmt(gator)} (median of ${RUNS}, ${gator.casesPassed} cases pass)`);
  const cpuRatio =
    gator.medianCpuMs !== undefined
      ? `, ${(gator.medianCpuMs / ours.cli.medianCpuMs).toFixed(1)}× (CLI, CPU)`
      : "";
  log(
    `ratio gator/ours: ${(gator.medianMs / ours.cli.medianMs).toFixed(1)}× (CLI, wall)${cpuRatio}, ${(gator.medianMs / ours.inProcessMedianMs).toFixed(1)}× (in-process, wall), ${(gator.medianMs / ours.cold.medianMs).toFixed(1)}× (CLI cold)`,
  );
} else log("gator not installed (npm run peers): no comparison");
if (profile) {
  log(
    `profile of one CLI run (${Math.round(profile.totalMs)} ms sampled; ${Math.round(profile.stallMs)} ms of stalls, the process descheduled, left out), by phase:`,
  );
  if (profile.byPhase)
    for (const [phase, ms] of profile.byPhase) log(`  ${String(Math.round(ms)).padStart(5)} ms  ${phase}`);
  else log("  (a minified build: set PLATFORM_PROFILE_CLI to an unminified one for phases)");
  log("  self time by file:");
  for (const [file, ms] of profile.byFile.slice(0, 8))
    log(`  ${String(Math.round(ms)).padStart(5)} ms  ${file}`);
  log("  hottest functions:");
  for (const [fn, ms] of profile.byFunction.slice(0, 8))
    log(`  ${String(Math.round(ms)).padStart(5)} ms  ${fn}`);
}

/**
 * Self time of a .cpuprofile summed by phase, by script file and by function (top 20 each), in ms. A sample
 * far longer than the sampling interval is the process waiting for a core (a loaded machine), not work: it
 * counts as one interval, and the rest is reported as stalls.
 */
function summariseProfile(p) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const deltas = [...p.timeDeltas].sort((a, b) => a - b);
  const interval = Math.max(deltas[Math.floor(deltas.length / 2)] ?? 0, 1);
  const byFile = new Map();
  const byFunction = new Map();
  const byPhase = new Map(PHASES.map(([name]) => [name, 0]));
  let total = 0;
  let stalls = 0;
  let named = false;
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]);
    if (node.callFrame.functionName === "(idle)") continue;
    const raw = p.timeDeltas[i] ?? 0;
    const us = Math.min(raw, 4 * interval);
    stalls += raw - us;
    total += us;
    const stack = [];
    for (let x = node.id; x !== undefined; x = parent.get(x)) stack.push(byId.get(x).callFrame.functionName);
    if (stack.includes("runGatorSuites")) named = true;
    const [phase] = PHASES.find(([, test]) => test(stack));
    byPhase.set(phase, byPhase.get(phase) + us / 1000);
    const url = node.callFrame.url.replace(/^file:\/\/.*\/(dist|node_modules)\//, "$1/") || "(native)";
    const fn = `${node.callFrame.functionName || "(anonymous)"} ${url}:${node.callFrame.lineNumber + 1}`;
    byFile.set(url, (byFile.get(url) ?? 0) + us / 1000);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us / 1000);
  }
  const top = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, 20);
  return {
    totalMs: total / 1000,
    stallMs: stalls / 1000,
    // Without the runner's name on any stack the build is minified: phases would all read "loading modules".
    byPhase: named ? [...byPhase].sort((a, b) => b[1] - a[1]) : undefined,
    byFile: top(byFile),
    byFunction: top(byFunction),
  };
}
// 10,000 generated objects against the Azure baseline preset (goal: < 2 s wall through the CLI).
const work = mkdtempSync(join(tmpdir(), "platform-preset-bench-"));
let preset;
try {
  const { objects } = generate(10_000);
  writeManifests(objects, work);
  writeFileSync(join(work, "platform.yaml"), "registries:\n  trusted: [acrplatform.azurecr.io]\n");
  const runs = [];
  let status;
  for (let i = 0; i < RUNS; i++) {
    const args = [
      CLI,
      "policy",
      "check",
      ".",
      "--render",
      "none",
      "--policies",
      "azure-pod-security-baseline:deny",
      "--json",
    ];
    const r = timed(process.execPath, args, { cwd: work });
    runs.push(r.ms);
    status = r.status;
  }
  preset = { objects: 10_000, medianMs: median(runs), samplesMs: runs, exitCode: status };
  log(
    `10,000 objects vs azure-pod-security-baseline (deny), CLI: ${Math.round(preset.medianMs)} ms median of ${RUNS} (goal < 2000 ms; exit ${status})`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
writeFileSync(
  join(ROOT, "bench-results", "policy-suites.json"),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, loadAverage: { before: loadBefore, after: loadAfter }, suites: suites.length, ours, gator, preset, profile }, null, 2)}\n`,
);
