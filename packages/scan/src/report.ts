import {
  escapeMarkdown,
  formatCount,
  markdownTable,
  PlatformError,
  type SourceLinks,
  shortDigest,
  sourceLink,
  type TableCell,
  type Verdict,
} from "@platform/core";
import { type Finding, SEVERITIES } from "./finding.ts";
import type { GateResult } from "./gate.ts";

/** The part of a job-summary builder the scan report needs (packages/github's SummaryBuilder fits). */
export interface SummarySink {
  verdict(verdict: Verdict, text: string): unknown;
  heading(text: string, level?: number, priority?: number): unknown;
  paragraph(text: string, priority?: number): unknown;
  table(header: string[], rows: TableCell[][], priority?: number): unknown;
  details(summary: string, body: string, priority?: number): unknown;
  raw(markdown: string, priority?: number): unknown;
}

/** What was scanned, for the report's headline; `links` turns waivers' file:line into links to the commit. */
export interface ScanSubject {
  imageRef: string;
  scanner: string;
  promotedRef?: string;
  links?: SourceLinks;
}

/** Failing findings on the first screen; the rest (up to MAX_ROWS) are behind a <details>. */
const TOP_ROWS = 10;
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

/**
 * Writes the job summary: a ✅/❌ headline, the image (digest shortened, full references in a <details>),
 * counts per severity, the top failing findings (the rest folded), and waivers used, expired and unused.
 */
export function writeScanSummary(s: SummarySink, gate: GateResult, subject: ScanSubject): void {
  const failing = gate.failing.length;
  s.verdict(
    gate.passed ? "pass" : "fail",
    `build-scan ${gate.passed ? "passed" : "failed"}: ${formatCount(failing)} finding(s) at or above ${gate.failOn}${gate.onlyFixed ? " with a fix" : ""}`,
  );
  const code = (ref: string) => `\`${escapeMarkdown(shortDigest(ref))}\``;
  s.raw(
    `${code(subject.imageRef)} scanned by ${escapeMarkdown(subject.scanner)}; fail-on **${gate.failOn}**${gate.onlyFixed ? ", only fixed" : ""}.${subject.promotedRef ? ` Promoted to ${code(subject.promotedRef)}.` : gate.passed ? "" : " Not promoted or tagged."}\n`,
    0,
  );
  s.details(
    "Full image references",
    [
      `- scanned: \`${escapeMarkdown(subject.imageRef)}\``,
      ...(subject.promotedRef ? [`- promoted: \`${escapeMarkdown(subject.promotedRef)}\``] : []),
    ].join("\n"),
    0,
  );
  s.table(
    [...SEVERITIES, "total", "fixable", "failing", "waived"],
    [[...SEVERITIES.map((k) => gate.counts[k]), gate.total, gate.fixable, failing, gate.waived.length]],
    0,
  );
  if (failing > 0) {
    const header = ["severity", "id", "package", "installed → fixed", "CVSS", "where"];
    const row = (f: Finding): TableCell[] => [
      f.severity,
      f.id,
      f.package,
      `${f.installedVersion} → ${fixed(f)}`,
      cvss(f),
      shortDigest(f.targets.join("; ")),
    ];
    s.heading(
      failing > TOP_ROWS
        ? `Findings that fail the gate (${TOP_ROWS} of ${formatCount(failing)})`
        : "Findings that fail the gate",
      3,
      1,
    );
    s.table(header, gate.failing.slice(0, TOP_ROWS).map(row), 1);
    if (failing > TOP_ROWS) {
      const rest = gate.failing.slice(TOP_ROWS, MAX_ROWS);
      s.details(
        `${formatCount(failing - TOP_ROWS)} more failing finding(s)`,
        `${markdownTable(header, rest.map(row))}${failing > MAX_ROWS ? `\n${formatCount(failing - MAX_ROWS)} more are in the SARIF file.\n` : ""}`,
        2,
      );
    }
  }
  if (gate.waiversUsed.length + gate.waiversExpired.length > 0) {
    s.heading("Waivers", 3, 1);
    // Five columns, so `where` stays on screen at 1000 px (package names such as Maven coordinates are long).
    const waiver = (id: string, pkg: string | undefined) => ({
      raw: `**${escapeMarkdown(id)}**<br>${escapeMarkdown(pkg ?? "any package")}`,
    });
    s.table(
      ["state", "waiver", "owner, expires", "covers", "where"],
      [
        ...gate.waiversUsed.map((u): TableCell[] => [
          "used",
          waiver(u.waiver.id, u.waiver.package),
          `${u.waiver.owner}, ${u.waiver.expires}`,
          u.findings.map((f) => `${f.package} ${f.installedVersion}`).join(", "),
          { raw: sourceLink(subject.links, u.waiver.file, u.waiver.line) },
        ]),
        ...gate.waiversExpired.map((w): TableCell[] => [
          { raw: "❌ **expired**" },
          waiver(w.id, w.package),
          `${w.owner}, ${w.expires}`,
          "nothing (expired)",
          { raw: sourceLink(subject.links, w.file, w.line) },
        ]),
      ],
      1,
    );
  }
  if (gate.waiversUnused.length > 0)
    s.raw(
      `Waivers that matched nothing at or above ${gate.failOn} in this image (clean-up candidates): ${gate.waiversUnused.map((w) => `${escapeMarkdown(w.id)} (${sourceLink(subject.links, w.file, w.line)})`).join(", ")}.\n`,
      2,
    );
  if (gate.unfixedIgnored > 0)
    s.paragraph(
      `${formatCount(gate.unfixedIgnored)} finding(s) at or above ${gate.failOn} have no fix yet (only-fixed).`,
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
