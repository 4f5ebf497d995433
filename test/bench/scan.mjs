// Scan-gate benchmark (issue 4): a Trivy JSON report with 5,000 findings (generated at run time, seeded:
// OS and language targets, every severity, a third without a fix, duplicates across targets, 50 waivers
// with ids and aliases, some expired) is parsed and gated — parseTrivyReport → evaluateGate → SARIF — and
// the median of several runs is compared with the goal (< 100 ms for the gate) and with the usual shell
// gate in pipelines, `jq` counting HIGH/CRITICAL findings in the same file (which decides less: no
// fixability, no waivers, no duplicates, no SARIF). Writes bench-results/scan.json.
// Knobs: BENCH_SCAN_FINDINGS=5000  BENCH_SCAN_RUNS=15
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prng } from "@platform/canary";
import { evaluateGate, parseTrivyReport, parseWaivers, toScanSarif } from "@platform/scan";

const ROOT = join(import.meta.dirname, "..", "..");
const N = Number(process.env.BENCH_SCAN_FINDINGS ?? 5000);
const RUNS = Number(process.env.BENCH_SCAN_RUNS ?? 15);
const GOAL_MS = 100;
const SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"];
const WEIGHTS = [0.05, 0.2, 0.4, 0.3, 0.05];
const TARGETS = [
  ["app (debian 12.8)", "os-pkgs", "debian"],
  ["app/package-lock.json", "lang-pkgs", "npm"],
  ["Node.js", "lang-pkgs", "node-pkg"],
  ["Python", "lang-pkgs", "python-pkg"],
  ["Java", "lang-pkgs", "jar"],
  ["usr/local/bin/worker", "lang-pkgs", "gobinary"],
];

function pick(rng) {
  const u = rng();
  let acc = 0;
  for (let i = 0; i < WEIGHTS.length; i++) {
    acc += WEIGHTS[i];
    if (u <= acc) return SEVERITIES[i];
  }
  return "LOW";
}

/** A Trivy SchemaVersion 2 report with `n` vulnerabilities spread over six targets. */
function report(n, rng) {
  const results = TARGETS.map(([Target, Class, Type]) => ({ Target, Class, Type, Vulnerabilities: [] }));
  for (let i = 0; i < n; i++) {
    // Every 10th finding repeats an earlier advisory+package in another target (a duplicate to merge).
    const dup = i % 10 === 9;
    const k = dup ? i - 9 : i;
    const t = dup ? (k + 1) % TARGETS.length : k % TARGETS.length;
    const sev = pick(prng(k + 1));
    const fixed = k % 3 !== 0;
    results[t].Vulnerabilities.push({
      VulnerabilityID: `CVE-${2015 + (k % 11)}-${10000 + k}`,
      PkgID: `pkg-${k % 700}@1.${k % 17}.0`,
      PkgName: `pkg-${k % 700}`,
      InstalledVersion: `1.${k % 17}.0`,
      ...(fixed ? { FixedVersion: `1.${(k % 17) + 1}.0`, Status: "fixed" } : { Status: "affected" }),
      SeveritySource: "nvd",
      PrimaryURL: `https://avd.aquasec.com/nvd/cve-${2015 + (k % 11)}-${10000 + k}`,
      Title: `pkg-${k % 700}: a synthetic advisory number ${k}`,
      Severity: sev,
      CVSS: {
        nvd: {
          V3Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
          V3Score: Math.round(rng() * 100) / 10,
        },
      },
      References:
        k % 5 === 0
          ? [`https://github.com/advisories/GHSA-${"23456789cfghjmpqrvwx"[k % 20]}xxx-xxxx-xxxx`]
          : [],
    });
  }
  return { SchemaVersion: 2, ArtifactName: "bench/app", ArtifactType: "container_image", Results: results };
}

function waivers(n) {
  const lines = ["waivers:"];
  for (let i = 0; i < n; i++) {
    const k = i * 97;
    lines.push(
      `  - id: CVE-${2015 + (k % 11)}-${10000 + k}`,
      ...(i % 2 ? [`    package: pkg-${k % 700}`] : []),
      "    reason: accepted for the benchmark, reviewed monthly",
      "    owner: team-bench",
      `    expires: ${i % 5 === 0 ? "2020-01-01" : "2099-12-31"}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const time = (f) => {
  const t = process.hrtime.bigint();
  const r = f();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, r };
};

const dir = mkdtempSync(join(tmpdir(), "bench-scan-"));
try {
  const text = JSON.stringify(report(N, prng(20261125)));
  const file = join(dir, "report.json");
  writeFileSync(file, text);
  const w = parseWaivers(waivers(50), "waivers.yaml");
  const today = new Date("2026-11-25T00:00:00Z");

  const parse = [];
  const gate = [];
  const sarif = [];
  let last;
  for (let i = 0; i < RUNS + 2; i++) {
    const p = time(() => parseTrivyReport(text, "report.json"));
    const g = time(() => evaluateGate(p.r.findings, { failOn: "high", onlyFixed: true, waivers: w, today }));
    const s = time(() =>
      JSON.stringify(toScanSarif(p.r.findings, g.r, { version: "bench", imageRef: "bench/app@sha256:0" })),
    );
    if (i >= 2) {
      // The first two runs warm the JIT.
      parse.push(p.ms);
      gate.push(g.ms);
      sarif.push(s.ms);
    }
    last = { parsed: p.r, gate: g.r };
  }
  const total = parse.map((p, i) => p + gate[i] + sarif[i]);

  // The peer: jq counting HIGH/CRITICAL findings, the usual one-line gate in pipelines.
  const jqFilter =
    '[.Results[]?.Vulnerabilities[]? | select(.Severity == "CRITICAL" or .Severity == "HIGH")] | length';
  const jqOk = spawnSync("jq", ["--version"]).status === 0;
  const jq = [];
  let jqCount;
  if (jqOk) {
    for (let i = 0; i < Math.min(RUNS, 7); i++) {
      const t = process.hrtime.bigint();
      jqCount = Number(execFileSync("jq", [jqFilter, file], { encoding: "utf8" }).trim());
      jq.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }

  const g = last.gate;
  const result = {
    findings: { inReport: last.parsed.raw, afterMerge: last.parsed.findings.length, bytes: text.length },
    runs: RUNS,
    medianMs: {
      parse: +median(parse).toFixed(2),
      gate: +median(gate).toFixed(2),
      sarif: +median(sarif).toFixed(2),
      total: +median(total).toFixed(2),
    },
    goalMs: GOAL_MS,
    gateUnderGoal: median(gate) < GOAL_MS,
    parseAndGateUnderGoal: median(parse) + median(gate) < GOAL_MS,
    verdict: {
      passed: g.passed,
      counts: g.counts,
      failing: g.failing.length,
      waived: g.waived.length,
      waiversUsed: g.waiversUsed.length,
      waiversExpired: g.waiversExpired.length,
    },
    peer: jqOk
      ? {
          tool: "jq",
          filter: jqFilter,
          medianMs: +median(jq).toFixed(2),
          highOrCritical: jqCount,
          ratio: +(median(parse) + median(gate)) / median(jq),
        }
      : { tool: "jq", skipped: "jq not installed" },
  };
  console.log(
    `scan gate over a ${N}-finding Trivy report (${(text.length / 1e6).toFixed(1)} MB), median of ${RUNS} runs:`,
  );
  console.log(
    `  parse ${result.medianMs.parse} ms  gate ${result.medianMs.gate} ms  SARIF ${result.medianMs.sarif} ms  (goal: gate < ${GOAL_MS} ms: ${result.gateUnderGoal ? "met" : "MISSED"})`,
  );
  console.log(
    `  ${result.findings.afterMerge} findings after merging duplicates; ${g.failing.length} fail (fail-on high, only fixed), ${g.waived.length} waived, ${g.waiversExpired.length} expired waivers`,
  );
  if (jqOk)
    console.log(
      `  jq (HIGH/CRITICAL count only): ${result.peer.medianMs} ms → ours (parse+gate) / jq = ${result.peer.ratio.toFixed(2)}`,
    );
  mkdirSync(join(ROOT, "bench-results"), { recursive: true });
  writeFileSync(join(ROOT, "bench-results", "scan.json"), `${JSON.stringify(result, null, 2)}\n`);
  if (!result.gateUnderGoal) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
