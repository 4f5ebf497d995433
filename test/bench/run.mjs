// The benchmarks behind `npm run bench` (which builds the bundles first). Issue 3, section 7:
//   1. policy throughput on generated manifests (1,000 and 10,000 objects): our built-in guardrails
//      in-process and through the bundled CLI, against `gator test` with the equivalent
//      gatekeeper-library templates on the same files; objects/s, the ratio, and per-category verdict
//      agreement (goal: 10,000 objects < 2 s wall, >= 10x gator, verdicts agree);
//   2. the bundled policy-dry-run action's cold start (goal: < 150 ms to first output) and bundle size.
// Prints a report and writes bench-results/policy.json (git-ignored).
// Knobs: BENCH_SIZES=1000,10000  BENCH_RUNS=3 (ours)  BENCH_GATOR_RUNS=1  BENCH_COLD_RUNS=10
//        GATOR=<path>  GATEKEEPER_LIBRARY=<library dir>  BENCH_KEEP=1 (keep the temp dir)
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseConfig } from "@platform/core";
import { actionColdStart } from "./action-cold-start.mjs";
import { compareVerdicts, renderAgreement } from "./policy/compare.mjs";
import { gatorVerdicts, LIBRARY, NOTES, preparePolicies, runGator } from "./policy/gatekeeper.mjs";
import { CATEGORIES, generate, TRUSTED, writeManifests } from "./policy/generate.mjs";
import { ourVerdicts, runCli, runInProcess } from "./policy/ours.mjs";
import { PROBES, writeProbes } from "./policy/probes.mjs";

const ROOT = join(import.meta.dirname, "..", "..");
const CLI = join(ROOT, "packages/cli/dist/platform.js");
const ACTION = join(ROOT, "actions/policy-dry-run/dist/index.js");
const SIZES = (process.env.BENCH_SIZES ?? "1000,10000").split(",").map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
// gator at 10,000 objects takes tens of seconds per run; one run is plenty to show the order of magnitude.
const GATOR_RUNS = Number(process.env.BENCH_GATOR_RUNS ?? 1);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 10);
const GOALS = { wall10kMs: 2000, ratio: 10, coldStartMs: 150 };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmtMs = (ms) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const fmtRate = (n, ms) => `${Math.round((n * 1000) / ms).toLocaleString("en-US")}/s`;
const num = (n) => n.toLocaleString("en-US");
const log = (s = "") => process.stdout.write(`${s}\n`);

if (Number(process.versions.node.split(".")[0]) < 24) {
  console.error(`node ${process.version}: the bench needs Node 24 (run it with npm run bench)`);
  process.exit(2);
}
for (const f of [CLI, ACTION]) {
  if (!existsSync(f)) {
    console.error(`${relative(ROOT, f)} is missing: run npm run build (npm run bench does)`);
    process.exit(2);
  }
}

/** The pinned gator from test/peers (installed on demand), or $GATOR; undefined when unavailable. */
function findGator() {
  if (process.env.GATOR) return existsSync(process.env.GATOR) ? process.env.GATOR : undefined;
  const bin = join(ROOT, ".peers", "bin", "gator");
  if (!existsSync(bin)) {
    log("gator is not installed; installing the pinned version (test/peers) ...");
    spawnSync(process.execPath, [join(ROOT, "test/peers/install.mjs"), "gator", "--best-effort"], {
      stdio: "inherit",
    });
  }
  return existsSync(bin) ? bin : undefined;
}

const tmp = mkdtemp();
function mkdtemp() {
  const d = mkdtempSync(join(tmpdir(), "platform-bench-"));
  const cleanup = () => {
    if (process.env.BENCH_KEEP !== "1") rmSync(d, { recursive: true, force: true });
  };
  process.on("exit", cleanup);
  for (const sig of ["SIGINT", "SIGTERM"])
    process.on(sig, () => {
      cleanup();
      process.exit(130);
    });
  return d;
}

const configText = `registries:\n  trusted:\n${TRUSTED.map((t) => `    - ${t}\n`).join("")}policy:\n  allowedCapabilities: [NET_BIND_SERVICE]\n`;
writeFileSync(join(tmp, "platform.yaml"), configText);
const config = parseConfig(configText, "platform.yaml");
const gator = findGator();
const gatorVersion = gator ? spawnSync(gator, ["--version"], { encoding: "utf8" }).stdout.trim() : undefined;
const policyFiles = gator ? preparePolicies(tmp, TRUSTED) : [];

log(`platform policy benchmark — node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? "cpu"}`);
log(
  `peer: ${gator ? `${gatorVersion} (${relative(ROOT, gator) || gator})` : "gator unavailable — peer figures skipped"}`,
);
log(`library: ${LIBRARY}`);
log(`runs: ours ${RUNS} (median), gator ${GATOR_RUNS}; temp dir ${tmp}\n`);

const sizes = [];
let disagreementsTotal = 0;
for (const n of SIZES) {
  const t0 = performance.now();
  const { objects, expected } = generate(n);
  const rel = `n${n}`;
  const files = writeManifests(objects, join(tmp, rel));
  const genMs = performance.now() - t0;
  const keys = [...expected.keys()];
  const kinds = {};
  for (const o of objects) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
  log(
    `== ${num(n)} objects in ${files} files (${Object.entries(kinds)
      .map(([k, c]) => `${c} ${k}`)
      .join(", ")}), generated in ${fmtMs(genMs)}`,
  );

  // Ours, in-process: the domain function as the action and CLI call it (load + parse + evaluate).
  const inProc = [];
  let last;
  for (let i = 0; i < RUNS; i++) {
    last = await runInProcess({ manifests: rel, root: tmp, config });
    inProc.push(last.ms);
  }
  if (last.result.objects !== n)
    throw new Error(`policyCheck loaded ${last.result.objects} objects, expected ${n}`);
  const ours = ourVerdicts(last.result.results);

  // Ours, the bundled CLI as a process: what a user or CI step actually waits for.
  const cliMs = [];
  let cli;
  for (let i = 0; i < RUNS; i++) {
    cli = await runCli({
      cli: CLI,
      manifests: rel,
      root: tmp,
      config: "platform.yaml",
      outFile: join(tmp, `cli-${n}.json`),
    });
    cliMs.push(cli.ms);
  }
  const oursCli = ourVerdicts(cli.results);
  const cliSame = keys.every(
    (k) =>
      [...(ours.flagged.get(k) ?? [])].sort().join() === [...(oursCli.flagged.get(k) ?? [])].sort().join(),
  );

  const entry = {
    objects: n,
    files,
    kinds,
    ours: {
      inProcess: { medianMs: median(inProc), samplesMs: inProc, objectsPerSec: (n * 1000) / median(inProc) },
      cli: { medianMs: median(cliMs), samplesMs: cliMs, objectsPerSec: (n * 1000) / median(cliMs) },
      failRows: last.result.counts.fail,
      errorRows: ours.errors.length,
      cliMatchesInProcess: cliSame,
    },
  };
  log(
    `   ours in-process : ${fmtMs(median(inProc))} median (${inProc.map(fmtMs).join(", ")}) → ${fmtRate(n, median(inProc))}`,
  );
  log(
    `   ours CLI --json : ${fmtMs(median(cliMs))} median (${cliMs.map(fmtMs).join(", ")}) → ${fmtRate(n, median(cliMs))}`,
  );
  if (!cliSame) log("   !! the CLI's verdicts differ from the in-process run");
  if (ours.errors.length)
    log(`   !! ${ours.errors.length} error verdict(s) from ours, e.g. ${JSON.stringify(ours.errors[0])}`);

  if (gator) {
    const gMs = [];
    let g;
    for (let i = 0; i < GATOR_RUNS; i++) {
      g = await runGator(gator, policyFiles, join(tmp, rel), join(tmp, `gator-${n}.json`));
      gMs.push(g.ms);
    }
    const gv = gatorVerdicts(g.violations);
    const cmp = compareVerdicts({
      categories: CATEGORIES,
      keys,
      expected,
      ours: ours.flagged,
      gator: gv.flagged,
    });
    disagreementsTotal += cmp.disagreements.length;
    const gMed = median(gMs);
    entry.gator = {
      medianMs: gMed,
      samplesMs: gMs,
      objectsPerSec: (n * 1000) / gMed,
      violations: g.violations.length,
      errorViolations: gv.errors.length,
    };
    entry.ratio = { cli: gMed / median(cliMs), inProcess: gMed / median(inProc) };
    entry.agreement = {
      overall: cmp.agreement,
      categories: cmp.rows,
      disagreements: cmp.disagreements.slice(0, 50),
    };
    log(
      `   gator test -o json: ${fmtMs(gMed)}${gMs.length > 1 ? ` median (${gMs.map(fmtMs).join(", ")})` : ""} → ${fmtRate(n, gMed)} (${num(g.violations.length)} violations)`,
    );
    log(
      `   ratio gator/ours: ${entry.ratio.cli.toFixed(1)}× (CLI), ${entry.ratio.inProcess.toFixed(1)}× (in-process)`,
    );
    if (gv.errors.length)
      log(
        `   !! ${gv.errors.length} gator violation(s) look like evaluation errors, e.g. ${gv.errors[0].msg}`,
      );
    log(`\n   verdicts per category (objects; "intent" = what the generator broke):\n`);
    log(renderAgreement(cmp.rows).replace(/^/gm, "   "));
    log(
      `\n   overall agreement: ${(100 * cmp.agreement).toFixed(3)}% of ${num(keys.length * CATEGORIES.length)} object×category verdicts`,
    );
    for (const d of cmp.disagreements.slice(0, 10))
      log(
        `   disagree: ${d.key} ${d.category}: ours=${d.ours ? "fail" : "pass"} gator=${d.gator ? "violation" : "none"} intent=${d.expected ? "broken" : "clean"}`,
      );
  }
  sizes.push(entry);
  log();
}

// Differences by design, shown on probe objects through both engines (not part of the timed set).
let probes;
if (gator) {
  mkdirSync(join(tmp, "probes"), { recursive: true });
  writeProbes(join(tmp, "probes"));
  const o = ourVerdicts((await runInProcess({ manifests: "probes", root: tmp, config })).result.results);
  const g = gatorVerdicts(
    (await runGator(gator, policyFiles, join(tmp, "probes"), join(tmp, "gator-probes.json"))).violations,
  );
  const list = (m, key) => [...(m.get(key) ?? [])].sort();
  probes = PROBES.map((p) => {
    const key = `Pod/${p.obj.metadata.namespace}/${p.obj.metadata.name}`;
    const seen = { ours: list(o.flagged, key), oursError: list(o.errored, key), gator: list(g.flagged, key) };
    const documented =
      seen.ours.join() === [...p.ours].sort().join() &&
      seen.oursError.join() === [...(p.oursError ?? [])].sort().join() &&
      seen.gator.join() === [...p.gator].sort().join();
    return { name: p.obj.metadata.name, ...seen, documented, why: p.why };
  });
  log("== differences by design (probe Pods through both engines; not in the timed set)");
  const show = (xs) => (xs.length ? xs.join(",") : "-");
  const w = Math.max(...probes.map((p) => p.name.length));
  for (const p of probes) {
    const ours = `${show(p.ours)}${p.oursError.length ? ` (error: ${p.oursError.join(",")})` : ""}`;
    log(
      `   ${p.name.padEnd(w)}  ours: ${ours.padEnd(32)} gator: ${show(p.gator).padEnd(18)} ${p.documented ? "" : "UNDOCUMENTED "}`,
    );
    log(`   ${"".padEnd(w)}  ${p.why}`);
  }
  log();
}

log("== bundled action cold start (policy-dry-run, one-object manifest)");
const cold = await actionColdStart({ bundle: ACTION, tmp, runs: COLD_RUNS });
log(
  `   bundle: ${relative(ROOT, ACTION)} ${num(cold.bundleBytes)} bytes (${(cold.bundleBytes / 1024 / 1024).toFixed(2)} MiB)`,
);
log(
  `   spawn → first GITHUB_OUTPUT line: ${cold.firstOutputMedianMs.toFixed(1)} ms median of ${cold.runs}; spawn → exit ${cold.exitMedianMs.toFixed(1)} ms`,
);
log(
  `   baseline node -e 0: ${cold.nodeBaselineMedianMs.toFixed(1)} ms median → the bundle adds ${(cold.firstOutputMedianMs - cold.nodeBaselineMedianMs).toFixed(1)} ms`,
);

// The goals are stated for 10,000 objects; with other BENCH_SIZES they are reported as n/a.
const big = sizes.find((s) => s.objects === 10_000);
const goals = {
  wall10k: big
    ? { goalMs: GOALS.wall10kMs, cliMs: big.ours.cli.medianMs, met: big.ours.cli.medianMs < GOALS.wall10kMs }
    : undefined,
  ratio: big?.ratio
    ? { goal: GOALS.ratio, cli: big.ratio.cli, met: big.ratio.cli >= GOALS.ratio }
    : undefined,
  coldStart: {
    goalMs: GOALS.coldStartMs,
    firstOutputMs: cold.firstOutputMedianMs,
    met: cold.firstOutputMedianMs < GOALS.coldStartMs,
  },
  verdictsAgree: gator ? disagreementsTotal === 0 : undefined,
};

log("\n== summary");
const rows = [
  ["objects", "ours in-process", "ours CLI (wall)", "gator test (wall)", "gator/ours (CLI)", "agreement"],
];
for (const s of sizes)
  rows.push([
    num(s.objects),
    `${fmtMs(s.ours.inProcess.medianMs)} · ${fmtRate(s.objects, s.ours.inProcess.medianMs)}`,
    `${fmtMs(s.ours.cli.medianMs)} · ${fmtRate(s.objects, s.ours.cli.medianMs)}`,
    s.gator ? `${fmtMs(s.gator.medianMs)} · ${fmtRate(s.objects, s.gator.medianMs)}` : "n/a",
    s.ratio ? `${s.ratio.cli.toFixed(1)}×` : "n/a",
    s.agreement ? `${(100 * s.agreement.overall).toFixed(3)}%` : "n/a",
  ]);
const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) log(`   ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("   ")}`);
const mark = (ok) => (ok === undefined ? "n/a" : ok ? "met" : "MISSED");
log(
  `   goal 10k < ${GOALS.wall10kMs} ms wall (CLI): ${mark(goals.wall10k?.met)}${goals.wall10k ? ` (${fmtMs(goals.wall10k.cliMs)})` : ""}`,
);
log(
  `   goal >= ${GOALS.ratio}× gator: ${mark(goals.ratio?.met)}${goals.ratio ? ` (${goals.ratio.cli.toFixed(1)}×)` : ""}`,
);
log(
  `   goal cold start < ${GOALS.coldStartMs} ms: ${mark(goals.coldStart.met)} (${cold.firstOutputMedianMs.toFixed(1)} ms)`,
);
log(`   verdicts agree: ${mark(goals.verdictsAgree)}`);
log("\n   how the comparison is set up:");
for (const n of NOTES) log(`   - ${n}`);

const resultsDir = join(ROOT, "bench-results");
mkdirSync(resultsDir, { recursive: true });
const out = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  peer: gator
    ? {
        gator: gatorVersion,
        library: LIBRARY,
        command: "gator test -f <templates> -f <constraints> -f <manifests> -o json",
      }
    : null,
  goals,
  sizes,
  probes,
  actionColdStart: cold,
};
writeFileSync(join(resultsDir, "policy.json"), `${JSON.stringify(out, null, 2)}\n`);
log(`\nwrote ${relative(ROOT, join(resultsDir, "policy.json"))}`);
// A verdict disagreement is a correctness failure; missed speed goals are reported above, not fatal.
if (goals.verdictsAgree === false) process.exitCode = 1;
