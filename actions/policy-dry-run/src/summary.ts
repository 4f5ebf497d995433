import type { ActionContext } from "@platform/github";
import { countsByPolicy, type PolicyCheckResult, type PolicyResult, worstObjects } from "@platform/policy";

const MAX_FINDING_ROWS = 500;

/** The job summary: verdict, counts per rule (table + pie), worst objects, then every finding. */
export function writeSummary(ctx: ActionContext, result: PolicyCheckResult, rows: PolicyResult[]): void {
  const s = ctx.summary;
  const k = result.counts;
  s.heading(`Policy dry-run: ${result.passed ? "passed" : "failed"} (${result.mode})`, 2, 0);
  s.table(
    [
      "objects",
      "policies",
      "violations",
      "warnings",
      "input errors",
      "waived",
      "not bound",
      "passed checks",
      "skipped inputs",
    ],
    [
      [
        result.objects,
        result.policies.length,
        k.fail,
        k.warn,
        k.error,
        result.waived,
        result.notBound,
        k.pass,
        result.skipped.length,
      ],
    ],
    0,
  );
  if (result.objects === 0) s.paragraph("No Kubernetes object was checked.", 0);
  const byRule = countsByPolicy(result).filter((r) => r.fail + r.warn + r.error + r.skip + r.notBound > 0);
  if (byRule.length > 0) {
    s.heading("By rule", 3, 1);
    s.table(
      ["rule", "fail", "warn", "waived", "error", "not bound"],
      byRule.map((r) => [r.policy, r.fail, r.warn, r.skip, r.error, r.notBound]),
      1,
    );
    const failing = byRule.filter((r) => r.fail + r.warn > 0);
    if (failing.length > 1)
      s.mermaid(
        `pie showData title Findings by rule\n${failing.map((r) => `  "${r.policy.replace(/"/g, "'")}" : ${r.fail + r.warn}`).join("\n")}`,
        3,
      );
  }
  const worst = worstObjects(result);
  if (worst.length > 0) {
    s.heading("Worst objects", 3, 1);
    s.table(
      ["object", "source", "fail", "warn"],
      worst.map((w) => [w.object, w.file, w.fail, w.warn]),
      1,
    );
  }
  if (rows.length > 0) {
    s.heading("Findings", 3, 2);
    s.table(
      ["verdict", "rule", "object", "where", "message"],
      rows
        .slice(0, MAX_FINDING_ROWS)
        .map((r) => [
          r.notBound ? "not bound" : r.verdict,
          r.policy,
          r.kind ? `${r.kind} ${r.namespace ? `${r.namespace}/` : ""}${r.name}` : "",
          `${r.file}:${r.line}${r.via ? ` (via ${r.via})` : ""}`,
          r.message,
        ]),
      2,
    );
    if (rows.length > MAX_FINDING_ROWS)
      s.paragraph(
        `${rows.length - MAX_FINDING_ROWS} more finding(s) are in the SARIF file and the \`result\` output.`,
        2,
      );
  }
  if (result.skipped.length > 0)
    s.details(
      `Skipped inputs (${result.skipped.length})`,
      result.skipped
        .slice(0, MAX_FINDING_ROWS)
        .map((x) => `- \`${x.path}${x.line ? `:${x.line}` : ""}\`: ${x.reason}`)
        .join("\n"),
      3,
    );
  s.details(
    "Rendered inputs",
    result.units.map((u) => `- \`${u.path}\` (${u.kind}): ${u.objects} object(s)`).join("\n") || "none",
    3,
  );
}
