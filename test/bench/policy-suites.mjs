// Issue 7 benchmark: the whole gatekeeper-library suite with `platform policy test` (bundled CLI, and
// in-process) against `gator verify` on the same suites in the same run — wall time, ratio (goal >= 10x)
// and per-case agreement. Writes bench-results/policy-suites.json.
//   node test/bench/policy-suites.mjs     (BENCH_RUNS=3)
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCelEngine, opaRegoCompiler, runGatorSuites } from "@platform/policy";
import { generate, writeManifests } from "./policy/generate.mjs";

const ROOT = join(import.meta.dirname, "..", "..");

import { LIBRARY } from "./policy/gatekeeper.mjs";

const CLI = join(ROOT, "packages", "cli", "dist", "platform.js");
const GATOR = process.env.GATOR ?? join(ROOT, ".peers", "bin", "gator");
const OPA = process.env.OPA ?? join(ROOT, ".peers", "bin", "opa");
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (s = "") => process.stdout.write(`${s}\n`);

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

function timed(cmd, args, opts = {}) {
  const t = performance.now();
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, ...opts });
  return { ms: performance.now() - t, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

log(`gatekeeper-library suites: ${suites.length} suite files — node ${process.version}`);
// One untimed run each first: it fills the Rego compile cache (ours) and the page cache (both).
const warmOurs = timed(process.execPath, [CLI, "policy", "test", ".", "--json"], { cwd: LIBRARY });
const summary = JSON.parse(warmOurs.stdout).summary;
log(
  `ours: ${summary.passed}/${summary.cases} cases match their suite's expectations (first run ${Math.round(warmOurs.ms)} ms, incl. any Rego compile)`,
);
const oursCli = [];
for (let i = 0; i < RUNS; i++)
  oursCli.push(timed(process.execPath, [CLI, "policy", "test", "."], { cwd: LIBRARY }).ms);
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
let gator;
if (existsSync(GATOR)) {
  const runs = [];
  let passed = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = timed(GATOR, ["verify", "./...", "-v"], { cwd: LIBRARY });
    runs.push(r.ms);
    passed = (r.stdout.match(/^\s+--- PASS/gm) ?? []).length;
  }
  gator = { medianMs: median(runs), samplesMs: runs, casesPassed: passed };
}
const ours = {
  cliMedianMs: median(oursCli),
  cliSamplesMs: oursCli,
  inProcessMedianMs: median(inProcess),
  cases: summary.cases,
  casesPassed: summary.passed,
};
log(`ours CLI        : ${Math.round(ours.cliMedianMs)} ms median of ${RUNS}`);
log(
  `ours in-process : ${Math.round(ours.inProcessMedianMs)} ms median of ${RUNS} (CEL templates on the CEL engine, Rego-only ones through OPA wasm, compiled module cached)`,
);
if (gator) {
  log(
    `gator verify    : ${Math.round(gator.medianMs)} ms median of ${RUNS} (${gator.casesPassed} cases pass)`,
  );
  log(
    `ratio gator/ours: ${(gator.medianMs / ours.cliMedianMs).toFixed(1)}× (CLI), ${(gator.medianMs / ours.inProcessMedianMs).toFixed(1)}× (in-process)`,
  );
} else log("gator not installed (npm run peers): no comparison");
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
mkdirSync(join(ROOT, "bench-results"), { recursive: true });
writeFileSync(
  join(ROOT, "bench-results", "policy-suites.json"),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, suites: suites.length, ours, gator, preset }, null, 2)}\n`,
);
