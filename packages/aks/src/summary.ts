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

/** The plan as Markdown for the job summary: steps, a picture of their order, and the risks with fixes. */
export function planMarkdown(p: UpgradePlan): string {
  const lines = [
    `## Upgrade plan for ${cell(p.cluster.name)}: ${p.cluster.kubernetesVersion} → ${p.target.version} (${verdict(p)})`,
    "",
    `Target \`${cell(p.target.requested)}\`; path ${p.target.path.join(" → ") || "none"}; pools ${p.pools.join(", ")}; expected ${minutes(p.duration)}.`,
    "",
  ];
  if (p.steps.length) {
    lines.push("| # | step | ARM change | duration | findings |", "|---|---|---|---|---|");
    p.steps.forEach((s, i) => {
      const n = p.findings.filter((f) => f.step === s.id).length;
      lines.push(
        `| ${i + 1} | ${cell(s.id)} | \`${s.arm.method}\` ${cell(change(s))} | ${minutes(s.duration)} | ${n || ""} |`,
      );
    });
    lines.push("", "```mermaid", "flowchart LR");
    p.steps.forEach((s, i) => {
      lines.push(`  s${i}["${s.id.replace(/"/g, "'")}"]${i > 0 ? `\n  s${i - 1} --> s${i}` : ""}`);
    });
    lines.push("```", "");
  }
  if (p.findings.length) {
    lines.push("### Risks", "", "| | check | subject | finding | fix |", "|---|---|---|---|---|");
    for (const f of p.findings) {
      const where = f.file ? ` (${cell(f.file)}${f.line ? `:${f.line}` : ""})` : "";
      lines.push(
        `| ${ICON[f.severity]} | ${f.check} | ${cell(f.subject)}${where} | ${cell(f.message)} | ${cell(f.fix)} |`,
      );
    }
    lines.push("");
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
