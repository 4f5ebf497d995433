import type { DrillResult, StepReport } from "./drill.ts";
import { type DrillPlan, formatSeconds } from "./plan.ts";

const measured = (s: number) => (s < 10 ? `${s.toFixed(2)}s` : formatSeconds(s));

const VERDICT: Record<StepReport["verdict"], string> = {
  ok: "ok",
  "over-budget": "OVER BUDGET",
  failed: "FAILED",
  "not-run": "not run",
};

/** The measured RTO per step against its budget, as a terminal table. */
export function resultTable(r: DrillResult): string {
  const rows = r.steps.map((s, i) => [
    String(i + 1),
    s.id,
    formatSeconds(s.budgetSeconds),
    s.verdict === "not-run" ? "-" : measured(s.seconds),
    s.verdict === "not-run" ? "-" : `${Math.round((s.seconds / s.budgetSeconds) * 100)}%`,
    String(s.attempts.length),
    VERDICT[s.verdict],
  ]);
  const head = ["#", "step", "budget", "measured", "of budget", "attempts", "verdict"];
  const total = [
    "",
    "total",
    formatSeconds(r.budgetSeconds),
    measured(r.seconds),
    "",
    "",
    r.status.toUpperCase(),
  ];
  const all = [head, ...rows, total];
  const widths = head.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, c) => (c >= 2 && c <= 5 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd();
  const out = [
    `DR drill ${r.from} → ${r.to}: ${r.status}${r.resumed ? " (resumed)" : ""}`,
    line(head),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    line(total),
  ];
  for (const s of r.steps) {
    if (s.reason) out.push(`${s.id}: ${s.reason}`);
    else if (s.detail) out.push(`${s.id}: ${s.detail}`);
  }
  if (r.failed?.hint) out.push(`what to do: ${r.failed.hint}`);
  out.push(`wall clock since the drill started: ${measured(r.elapsedSeconds)}`);
  return `${out.join("\n")}\n`;
}

const esc = (s: string) =>
  s.replace(/[&<>|]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "&#124;" })[c]!);

/** The job summary: verdict, the per-step RTO table, a mermaid gantt of the measured steps, the reasons, the ARM calls. */
export function resultMarkdown(r: DrillResult, plan: DrillPlan): string {
  const icon = r.status === "succeeded" ? "✅" : "❌";
  const lines = [
    `## ${icon} DR drill ${esc(r.from)} → ${esc(r.to)}: ${r.status}${r.resumed ? " (resumed)" : ""}`,
    "",
    `Measured RTO **${measured(r.seconds)}** against a budget of **${formatSeconds(r.budgetSeconds)}** (${esc(plan.to.cluster)}).`,
    "",
    "| # | step | budget | measured | attempts | verdict |",
    "|---|---|---:|---:|---:|---|",
    ...r.steps.map(
      (s, i) =>
        `| ${i + 1} | ${esc(s.title)} | ${formatSeconds(s.budgetSeconds)} | ${s.verdict === "not-run" ? "-" : measured(s.seconds)} | ${s.attempts.length} | ${VERDICT[s.verdict]} |`,
    ),
    `| | **total** | **${formatSeconds(r.budgetSeconds)}** | **${measured(r.seconds)}** | | **${r.status}** |`,
    "",
  ];
  const ran = r.steps.filter((s) => s.attempts.length > 0);
  if (ran.length) {
    // The steps on a time line, from each step's first attempt to its last (a crash gap shows as a long bar).
    lines.push(
      "```mermaid",
      "gantt",
      "  dateFormat x",
      "  axisFormat %H:%M:%S",
      "  section measured",
      ...ran.map((s) => {
        const start = Date.parse(s.attempts[0]!.startedAt);
        const end = Math.max(Date.parse(s.attempts.at(-1)!.endedAt), start + 1);
        return `  ${s.id} ${measured(s.seconds)} of ${formatSeconds(s.budgetSeconds)} :${s.verdict === "ok" ? "done" : "crit"}, ${s.id}, ${start}, ${end}`;
      }),
      "```",
      "",
    );
  }
  const notes = r.steps.filter((s) => s.reason || s.detail);
  if (notes.length) {
    lines.push(...notes.map((s) => `- \`${s.id}\`: ${esc(s.reason ?? s.detail ?? "")}`), "");
  }
  if (r.failed?.hint) lines.push(`**What to do:** ${esc(r.failed.hint)}`, "");
  lines.push(
    "<details><summary>ARM calls of each step</summary>",
    "",
    ...plan.steps.flatMap((s) => [
      `**${s.id}**`,
      "",
      ...s.calls.map(
        (c) =>
          `- \`${c.method} ${c.path}?api-version=${c.apiVersion}\`${c.body === undefined ? "" : ` body \`${JSON.stringify(c.body)}\``}`,
      ),
      "",
    ]),
    "</details>",
    "",
  );
  return lines.join("\n");
}
