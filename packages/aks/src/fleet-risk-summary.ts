import { escapeMarkdown, headline, markdownTable, type SourceLinks, sourceLink } from "@platform/core";
import type { FleetRiskReport, MemberRisk } from "./fleet-risk.ts";

const count = (m: MemberRisk, severity: "blocker" | "warning") =>
  m.findings.filter((f) => f.severity === severity).length;

/** One row per member, in run order: the terminal table and the summary's member table. */
export function fleetRiskRows(r: FleetRiskReport): { header: string[]; rows: string[][] } {
  return {
    header: ["stage", "member", "cluster", "version", "objects", "blockers", "warnings", "verdict"],
    rows: r.members.map((m) => [
      m.stage,
      m.member,
      m.cluster,
      m.from === m.to ? m.from : `${m.from} → ${m.to}`,
      String(m.objects),
      String(count(m, "blocker")),
      String(count(m, "warning")),
      m.blocked ? "blocked" : count(m, "warning") ? "warn" : "ok",
    ]),
  };
}

function headlineText(r: FleetRiskReport): string {
  const blocked = new Set(r.blockers.map((b) => b.member)).size;
  const what = r.blocked
    ? `${blocked} of ${r.members.length} member(s) blocked; the update run is not created`
    : `${r.members.length} member(s) clear`;
  return `Fleet risk report to ${r.version} (${r.upgradeType}): ${what}`;
}

/** The report as a job summary section: headline, the blockers first (stage, member, file:line, fix), every member by stage. */
export function fleetRiskMarkdown(r: FleetRiskReport, links?: SourceLinks): string {
  const lines = [headline(r.blocked ? "fail" : r.configured ? "pass" : "unchecked", headlineText(r))];
  if (!r.configured)
    lines.push(
      "platform.yaml has no `fleet.members`: no member's manifests were checked for removed APIs or drain blockers.",
      "",
    );
  const withRisk = r.members.flatMap((m) =>
    m.findings.filter((f) => f.severity !== "info").map((f) => ({ m, f })),
  );
  if (withRisk.length) {
    const rank = { blocker: 0, warning: 1, info: 2 } as const;
    withRisk.sort((a, b) => rank[a.f.severity] - rank[b.f.severity]);
    lines.push(
      "### Risks by member",
      "",
      markdownTable(
        ["stage", "member", "risk", "where", "finding", "fix"],
        withRisk.map(({ m, f }) => [
          m.stage,
          m.member,
          `${f.severity === "blocker" ? "⛔" : "⚠️"} ${f.check}`,
          {
            raw: `${escapeMarkdown(f.subject ?? "")}${f.file ? `<br>${sourceLink(links, f.file, f.line)}` : ""}`,
          },
          f.message,
          f.fix,
        ]),
      ),
    );
  }
  const { header, rows } = fleetRiskRows(r);
  lines.push(
    "<details><summary>Every member by stage</summary>",
    "",
    markdownTable(header, rows),
    "</details>",
    "",
    `${r.renders} render(s) for ${r.members.length} member(s) in ${r.durationMs} ms.`,
    "",
  );
  if (r.unmatched.length)
    lines.push(`fleet.members names no member of this fleet: ${r.unmatched.join(", ")}.`, "");
  return lines.join("\n");
}

/** Pads columns to one width (the action's log; the CLI passes its coloured terminal table instead). */
function plainTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((row) => row[k]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, k) => c.padEnd(widths[k]!))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** The report for a terminal or a log: the member table, then each blocker with its file:line and fix. */
export function fleetRiskText(
  r: FleetRiskReport,
  table: (header: string[], rows: string[][]) => string = plainTable,
): string {
  const { header, rows } = fleetRiskRows(r);
  const out = [headlineText(r), "", table(header, rows)];
  for (const m of r.members) {
    for (const f of m.findings.filter((x) => x.severity === "blocker")) {
      const where = f.file ? ` (${f.file}${f.line ? `:${f.line}` : ""})` : "";
      out.push("", `blocker ${m.stage}/${m.member} ${f.check}: ${f.message}${where}`, `  fix: ${f.fix}`);
    }
  }
  if (!r.configured) out.push("", "platform.yaml has no fleet.members: no member's manifests were checked.");
  return `${out.join("\n")}\n`;
}
