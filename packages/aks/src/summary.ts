import { headline, markdownTable, type SourceLinks, sourceLink, type TableRow } from "@platform/core";
import type { Finding, UpgradePlan } from "./types.ts";

const ICON: Record<Finding["severity"], string> = { blocker: "⛔", warning: "⚠️", info: "ℹ️" };

function cell(s: string | undefined): string {
  return (s ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\|/g, "\\|")
    .replace(/\r?\n/g, " ");
}

function minutes(d: { minMinutes: number; maxMinutes: number }): string {
  const f = (m: number) => (m >= 120 ? `${(m / 60).toFixed(1)} h` : `${m} min`);
  return `${f(d.minMinutes)}–${f(d.maxMinutes)}`;
}

function change(step: UpgradePlan["steps"][number]): string {
  return Object.entries(step.arm.change)
    .map(([k, [a, b]]) => `${k}: ${a ?? "∅"} → ${b}`)
    .join("; ");
}

function verdict(p: UpgradePlan): string {
  if (p.blocked) return "blocked";
  return p.steps.length ? `${p.steps.length} step(s)` : "nothing to do";
}

/**
 * The plan as Markdown for the job summary: a ✅/❌ headline, the risks with their fixes (blockers first,
 * file:line linked to the commit when `links` is given), the steps, then the step-order picture folded.
 */
export function planMarkdown(p: UpgradePlan, links?: SourceLinks): string {
  const lines = [
    headline(
      p.blocked ? "fail" : "pass",
      `Upgrade plan for ${p.cluster.name}: ${p.cluster.kubernetesVersion} → ${p.target.version} (${verdict(p)})`,
    ),
    `Target \`${cell(p.target.requested)}\`; path ${p.target.path.join(" → ") || "none"}; pools ${p.pools.join(", ")}; expected ${minutes(p.duration)}.`,
    "",
  ];
  const rank: Record<Finding["severity"], number> = { blocker: 0, warning: 1, info: 2 };
  const risks = [...p.findings].sort((a, b) => rank[a.severity] - rank[b.severity]);
  // Three columns, so the fix is on screen at 1000 px: what and where, the finding, the fix.
  const riskRow = (f: Finding): TableRow => [
    {
      raw: `${ICON[f.severity]} **${cell(f.check)}**<br>${cell(f.subject)}${f.file ? `<br>${sourceLink(links, f.file, f.line)}` : ""}`,
    },
    f.message,
    f.fix,
  ];
  const header = ["risk", "finding", "fix"];
  const shown = risks.filter((f) => f.severity !== "info");
  const info = risks.filter((f) => f.severity === "info");
  if (shown.length) lines.push("### Risks", "", markdownTable(header, shown.map(riskRow)));
  if (info.length)
    lines.push(
      `<details><summary>${info.length} note(s)</summary>`,
      "",
      markdownTable(header, info.map(riskRow)),
      "</details>",
      "",
    );
  if (p.steps.length) {
    lines.push(
      "### Steps",
      "",
      markdownTable(
        ["#", "step", "ARM change", "duration", "findings"],
        p.steps.map((s, i) => [
          i + 1,
          // In code: GitHub would autolink "control-plane@1.31.6" as an e-mail address.
          { raw: `\`${cell(s.id)}\`` },
          { raw: `\`${s.arm.method}\` ${cell(change(s))}` },
          minutes(s.duration),
          p.findings.filter((f) => f.step === s.id).length || "",
        ]),
      ),
      "<details><summary>Order of the steps</summary>",
      "",
      "```mermaid",
      "flowchart LR",
    );
    p.steps.forEach((s, i) => {
      lines.push(`  s${i}["${s.id.replace(/"/g, "'")}"]${i > 0 ? `\n  s${i - 1} --> s${i}` : ""}`);
    });
    lines.push("```", "</details>", "");
  }
  if (p.maintenance.windows.length) {
    lines.push("### Maintenance windows", "", ...p.maintenance.windows.map((w) => `- ${cell(w)}`), "");
  }
  return lines.join("\n");
}

/** The plan as plain text for a terminal. */
export function planText(p: UpgradePlan): string {
  const out = [
    `Upgrade plan for ${p.cluster.name} (${p.cluster.location}): ${p.cluster.kubernetesVersion} → ${p.target.version} — ${verdict(p)}, expected ${minutes(p.duration)}`,
  ];
  p.steps.forEach((s, i) => {
    out.push(
      `  ${String(i + 1).padStart(2)}. ${s.id.padEnd(32)} ${s.arm.method} ${change(s)}  [${minutes(s.duration)}]`,
    );
  });
  if (p.findings.length) out.push("", "Risks:");
  for (const f of p.findings) {
    const where = f.file ? ` (${f.file}${f.line ? `:${f.line}` : ""})` : "";
    out.push(`  ${f.severity.padEnd(7)} ${f.check}: ${f.message}${where}`, `          fix: ${f.fix}`);
  }
  for (const w of p.maintenance.windows) out.push(`  window: ${w}`);
  return `${out.join("\n")}\n`;
}
