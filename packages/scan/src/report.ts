import { PlatformError } from "@platform/core";
import { type Finding, SEVERITIES } from "./finding.ts";
import type { GateResult } from "./gate.ts";

/** The part of a job-summary builder the scan report needs (packages/github's SummaryBuilder fits). */
export interface SummarySink {
  heading(text: string, level?: number, priority?: number): unknown;
  paragraph(text: string, priority?: number): unknown;
  table(header: string[], rows: Array<Array<string | number>>, priority?: number): unknown;
  mermaid?(source: string, priority?: number): unknown;
}

/** What was scanned, for the report's headline. */
export interface ScanSubject {
  imageRef: string;
  scanner: string;
  promotedRef?: string;
}

const MAX_ROWS = 200;

const fixed = (f: Finding) => f.fixedVersion ?? "—";
const cvss = (f: Finding) => (f.cvss ? f.cvss.score.toFixed(1) : "");

/** One line: the verdict and the counts, e.g. "failed: 2 critical, 5 high … (fail-on high)". */
export function gateHeadline(gate: GateResult): string {
  const counts = SEVERITIES.map((s) => `${gate.counts[s]} ${s}`).join(", ");
  return `${gate.passed ? "passed" : "failed"}: ${gate.total} finding(s) — ${counts}; ${gate.failing.length} fail the gate (fail-on ${gate.failOn}${gate.onlyFixed ? ", only fixed" : ""})`;
}

/** The gate failure as an error (category verdict: the CLI exits 1, the action fails the step). */
export function gateFailure(
  gate: GateResult,
  imageRef: string,
  consequence = "not promoted or tagged",
): PlatformError | undefined {
  if (gate.passed) return undefined;
  const worst = gate.failing
    .slice(0, 3)
    .map((f) => `${f.id} (${f.package} ${f.installedVersion})`)
    .join(", ");
  return new PlatformError(
    "SCAN_GATE_FAILED",
    `${imageRef}: ${gate.failing.length} finding(s) at or above ${gate.failOn}${gate.onlyFixed ? " with a fix available" : ""}, e.g. ${worst}; ${consequence}`,
    {
      category: "verdict",
      hint: "Upgrade the packages to their fixed versions (or rebuild on a patched base image), or add a waiver with an owner and expiry.",
    },
  );
}

/** Writes the job summary: verdict, counts per severity, failing findings, waivers used/expired/unused. */
export function writeScanSummary(s: SummarySink, gate: GateResult, subject: ScanSubject): void {
  s.heading(`build-scan: ${gate.passed ? "passed" : "failed"}`, 2, 0);
  s.paragraph(
    `${subject.imageRef} scanned by ${subject.scanner}; fail-on **${gate.failOn}**${gate.onlyFixed ? ", only fixed" : ""}.${subject.promotedRef ? ` Promoted to ${subject.promotedRef}.` : gate.passed ? "" : " Not promoted or tagged."}`,
    0,
  );
  s.table(
    [...SEVERITIES, "total", "fixable", "failing", "waived"],
    [
      [
        ...SEVERITIES.map((k) => gate.counts[k]),
        gate.total,
        gate.fixable,
        gate.failing.length,
        gate.waived.length,
      ],
    ],
    0,
  );
  const present = SEVERITIES.filter((k) => gate.counts[k] > 0);
  if (s.mermaid && present.length > 1)
    s.mermaid(
      `pie showData title Findings by severity\n${present.map((k) => `  "${k}" : ${gate.counts[k]}`).join("\n")}`,
      2,
    );
  if (gate.failing.length > 0) {
    s.heading("Findings that fail the gate", 3, 1);
    s.table(
      ["severity", "id", "package", "installed", "fixed", "CVSS", "where"],
      gate.failing
        .slice(0, MAX_ROWS)
        .map((f) => [
          f.severity,
          f.id,
          f.package,
          f.installedVersion,
          fixed(f),
          cvss(f),
          f.targets.join("; "),
        ]),
      1,
    );
    if (gate.failing.length > MAX_ROWS)
      s.paragraph(`${gate.failing.length - MAX_ROWS} more failing finding(s) are in the SARIF file.`, 1);
  }
  if (gate.waiversUsed.length + gate.waiversExpired.length > 0) {
    s.heading("Waivers", 3, 1);
    s.table(
      ["state", "id", "package", "owner", "expires", "covers", "where"],
      [
        ...gate.waiversUsed.map((u) => [
          "used",
          u.waiver.id,
          u.waiver.package ?? "any",
          u.waiver.owner,
          u.waiver.expires,
          u.findings.map((f) => `${f.package} ${f.installedVersion}`).join(", "),
          `${u.waiver.file}:${u.waiver.line}`,
        ]),
        ...gate.waiversExpired.map((w) => [
          "**expired**",
          w.id,
          w.package ?? "any",
          w.owner,
          w.expires,
          "nothing (expired)",
          `${w.file}:${w.line}`,
        ]),
      ],
      1,
    );
  }
  if (gate.waiversUnused.length > 0)
    s.paragraph(
      `Waivers that matched nothing at or above ${gate.failOn} in this image (clean-up candidates): ${gate.waiversUnused.map((w) => `${w.id} (${w.file}:${w.line})`).join(", ")}.`,
      2,
    );
  if (gate.unfixedIgnored > 0)
    s.paragraph(
      `${gate.unfixedIgnored} finding(s) at or above ${gate.failOn} have no fix yet (only-fixed).`,
      2,
    );
}

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** A plain-text report for terminals: headline, counts, failing findings (at most `limit`), waivers. */
export function renderScanTable(gate: GateResult, subject: ScanSubject, limit = 20): string {
  const lines = [`${subject.imageRef} (${subject.scanner})`, gateHeadline(gate), ""];
  lines.push(
    pad([
      ["severity", ...SEVERITIES],
      ["findings", ...SEVERITIES.map((s) => String(gate.counts[s]))],
    ]),
  );
  if (gate.failing.length > 0) {
    lines.push("", "failing:");
    lines.push(
      pad([
        ["severity", "id", "package", "installed", "fixed", "cvss"],
        ...gate.failing
          .slice(0, limit)
          .map((f) => [f.severity, f.id, f.package, f.installedVersion, fixed(f), cvss(f)]),
      ]),
    );
    if (gate.failing.length > limit) lines.push(`… and ${gate.failing.length - limit} more`);
  }
  for (const u of gate.waiversUsed)
    lines.push(
      `waived: ${u.waiver.id}${u.waiver.package ? ` (${u.waiver.package})` : ""} until ${u.waiver.expires} by ${u.waiver.owner}: ${u.findings.length} finding(s)`,
    );
  for (const w of gate.waiversExpired)
    lines.push(
      `expired waiver: ${w.id} (owner ${w.owner}) expired ${w.expires}, ${w.file}:${w.line}; it waives nothing`,
    );
  return lines.join("\n");
}
