import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateSarif } from "../../../test/harness/sarif.ts";
import { evaluateGate } from "./gate.ts";
import { gateFailure, renderScanTable, writeScanSummary } from "./report.ts";
import { toScanSarif } from "./sarif.ts";
import { parseTrivyReport } from "./trivy.ts";
import { parseWaivers } from "./waivers.ts";

const report = readFileSync(
  join(import.meta.dirname, "../../../test/fixtures/scan/trivy/image-mixed.json"),
  "utf8",
);
const { findings } = parseTrivyReport(report);
const today = new Date("2026-11-25T12:00:00Z");
interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  message: { text: string };
  locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }>;
  suppressions?: Array<{ justification: string }>;
}
interface SarifRun {
  tool: {
    driver: {
      rules: Array<{ id: string; help: { text: string }; properties: Record<string, unknown> }>;
    };
  };
  results: SarifResult[];
}
const ids = (fs: Array<{ id: string; package: string }>) => fs.map((f) => `${f.id} ${f.package}`);

describe("evaluateGate", () => {
  it("counts per severity and fails at and above the threshold", () => {
    const gate = evaluateGate(findings, { failOn: "critical", onlyFixed: false, waivers: [], today });
    expect(gate.counts).toEqual({ critical: 3, high: 4, medium: 7, low: 1, unknown: 0 });
    expect(gate.total).toBe(15);
    expect(gate.passed).toBe(false);
    expect(ids(gate.failing)).toEqual([
      "CVE-2021-44228 org.apache.logging.log4j:log4j-core",
      "CVE-2023-45853 zlib",
      "CVE-2024-24790 stdlib",
    ]);
    const high = evaluateGate(findings, { failOn: "high", onlyFixed: false, waivers: [], today });
    expect(high.failing).toHaveLength(7);
    const low = evaluateGate(findings, { failOn: "low", onlyFixed: false, waivers: [], today });
    expect(low.failing).toHaveLength(15);
  });

  it("only-fixed lets findings without a fix through, and says how many", () => {
    const gate = evaluateGate(findings, { failOn: "critical", onlyFixed: true, waivers: [], today });
    expect(ids(gate.failing)).not.toContain("CVE-2023-45853 zlib");
    expect(gate.failing).toHaveLength(2);
    expect(gate.unfixedIgnored).toBe(1);
  });

  it("waives by id or alias, optionally per package; expired waivers waive nothing and are reported", () => {
    const waivers = parseWaivers(
      `waivers:
  - id: CVE-2021-44228
    package: org.apache.logging.log4j:log4j-core
    reason: JndiLookup class removed from the jar at build time
    owner: team-orders
    expires: 2026-12-31
  - id: GHSA-3xgq-45jj-v275
    reason: cross-spawn is only used by npm itself at build time
    owner: team-orders
    expires: 2027-01-15
  - id: CVE-2024-24790
    reason: the worker never parses IP addresses from requests
    owner: team-orders
    expires: 2026-11-24
  - id: CVE-2024-24790
    package: not-in-this-image
    reason: a waiver for another package does not apply
    owner: team-x
    expires: 2027-01-01
`,
      "waivers.yaml",
    );
    const gate = evaluateGate(findings, { failOn: "high", onlyFixed: true, waivers, today });
    expect(ids(gate.waived)).toEqual([
      "CVE-2021-44228 org.apache.logging.log4j:log4j-core",
      "CVE-2024-21538 cross-spawn",
    ]);
    expect(ids(gate.failing)).toEqual([
      "CVE-2024-24790 stdlib",
      "CVE-2024-34156 stdlib",
      "CVE-2024-45590 body-parser",
      "GHSA-9wv6-86v2-598j path-to-regexp",
    ]);
    expect(gate.waiversUsed.map((u) => [u.waiver.id, u.waiver.line, u.findings.length])).toEqual([
      ["CVE-2021-44228", 2, 1],
      ["GHSA-3xgq-45jj-v275", 7, 1],
    ]);
    expect(gate.waiversExpired.map((w) => [w.id, w.expires, w.line])).toEqual([
      ["CVE-2024-24790", "2026-11-24", 11],
    ]);
    expect(gate.waiversUnused.map((w) => w.package)).toEqual(["not-in-this-image"]);

    // The day a waiver expires it still applies; the day after it does not.
    const onExpiry = evaluateGate(findings, {
      failOn: "high",
      onlyFixed: true,
      waivers,
      today: new Date("2026-11-24T23:00:00Z"),
    });
    expect(ids(onExpiry.waived)).toContain("CVE-2024-24790 stdlib");
  });

  it("passes when nothing reaches the threshold", () => {
    const gate = evaluateGate(
      findings.filter((f) => f.severity === "low" || f.severity === "medium"),
      { failOn: "high", onlyFixed: false, waivers: [], today },
    );
    expect(gate.passed).toBe(true);
    expect(gateFailure(gate, "r@sha256:x")).toBeUndefined();
  });
});

describe("reports", () => {
  const waivers = parseWaivers(
    "waivers:\n  - id: CVE-2021-44228\n    reason: JndiLookup removed at build time\n    owner: team-orders\n    expires: 2026-12-31\n  - id: CVE-2024-24790\n    reason: not reachable from requests\n    owner: team-orders\n    expires: 2026-01-01\n",
    "waivers.yaml",
  );
  const gate = evaluateGate(findings, { failOn: "critical", onlyFixed: false, waivers, today });
  const imageRef = "127.0.0.1:5000/quarantine/orders-api@sha256:5f0c";

  it("SARIF is valid 2.1.0 with one rule per advisory, fix help and suppressions for waived findings", () => {
    const sarif = toScanSarif(findings, gate, { version: "1.2.3", imageRef, artifactUri: "app/Dockerfile" });
    expect(validateSarif(sarif)).toEqual([]);
    const run = (sarif.runs as SarifRun[])[0]!;
    const ruleIds = run.tool.driver.rules.map((r) => r.id);
    expect(new Set(ruleIds).size).toBe(ruleIds.length);
    expect(ruleIds).toHaveLength(14); // CVE-2024-0727 has two packages, one rule
    expect(run.results).toHaveLength(15);
    const log4j = run.results.find((r) => r.ruleId === "CVE-2021-44228")!;
    expect(log4j.suppressions?.[0]?.justification).toMatch(/team-orders, expires 2026-12-31, waivers.yaml:2/);
    expect(log4j.locations[0]!.physicalLocation.artifactLocation.uri).toBe("app/Dockerfile");
    const rule = run.tool.driver.rules[log4j.ruleIndex]!;
    expect(rule.help.text).toMatch(/to 2\.15\.0, 2\.3\.1, 2\.12\.2/);
    expect(rule.properties["security-severity"]).toBe("10.0");
    const stdlib = run.results.find((r) => r.ruleId === "CVE-2024-24790")!;
    expect(stdlib.suppressions).toBeUndefined();
    expect(stdlib.message.text).toMatch(/fails the gate/);
  });

  it("summary and table show counts, failing findings and the waivers used and expired", () => {
    const calls: string[] = [];
    writeScanSummary(
      {
        verdict: (v, t) => calls.push(`# ${v}: ${t}`),
        heading: (t) => calls.push(`# ${t}`),
        paragraph: (t) => calls.push(t),
        raw: (t) => calls.push(t),
        details: (t, body) => calls.push(`${t}\n${body}`),
        table: (h, rows) =>
          calls.push(
            [
              h.join("|"),
              ...rows.map((r) => r.map((c) => (typeof c === "object" ? c.raw : c)).join("|")),
            ].join("\n"),
          ),
      },
      gate,
      {
        imageRef,
        scanner: "trivy",
        links: { serverUrl: "https://github.com", repository: "o/r", sha: "abc" },
      },
    );
    const text = calls.join("\n");
    expect(text).toContain("# fail: build-scan failed:");
    expect(text).toContain("3|4|7|1|0|15|");
    expect(text).toContain("critical|CVE-2024-24790|stdlib|v1.21.5 → 1.21.11, 1.22.4|9.8");
    expect(text).toContain("used|**CVE-2021-44228**<br>any package|team-orders, 2026-12-31");
    expect(text).toMatch(
      /❌ \*\*expired\*\*\|\*\*CVE-2024-24790\*\*.*\|\[waivers\.yaml:\d+\]\(https:\/\/github\.com\/o\/r\/blob\/abc\/waivers\.yaml#L\d+\)/,
    );
    expect(text).toContain("Not promoted or tagged.");
    // The counts are a table already: no pie chart repeats them.
    expect(text).not.toContain("pie");
    const table = renderScanTable(gate, { imageRef, scanner: "trivy" });
    expect(table).toMatch(/failed: 15 finding\(s\)/);
    expect(table).toMatch(/expired waiver: CVE-2024-24790 .* waives nothing/);
    expect(gateFailure(gate, imageRef)).toMatchObject({ code: "SCAN_GATE_FAILED", category: "verdict" });
  });
});
