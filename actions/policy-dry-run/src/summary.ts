import { escapeMarkdown, formatCount, markdownTable, sourceLink, type TableRow } from "@platform/core";
import type { ActionContext } from "@platform/github";
import {
  countsByPolicy,
  describeScope,
  type PolicyCheckResult,
  type PolicyResult,
  worstObjects,
} from "@platform/policy";

/** Findings shown on the first screen; the rest are one click away, in a <details>. */
export const TOP_FINDINGS = 10;
const MAX_FINDING_ROWS = 500;

const VERDICT_ICON: Record<string, string> = { fail: "❌", error: "❗", warn: "⚠️", skip: "➖" };

const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;

/**
 * The job summary, first screen first: a ✅/❌ headline, the counts on one line, the top findings in a
 * four-column table (file:line linked to the commit); the rest of the findings, the per-rule counts, the
 * worst objects and the inputs each behind a <details>.
 */
export function writeSummary(ctx: ActionContext, result: PolicyCheckResult, rows: PolicyResult[]): void {
  const s = ctx.summary;
  const k = result.counts;
  const problems = `${plural(k.fail, "violation")}${k.error ? `, ${plural(k.error, "input error")}` : ""}`;
  s.verdict(
    result.passed ? "pass" : "fail",
    `Policy dry-run ${result.passed ? "passed" : "failed"}: ${problems} in ${plural(result.objects, "object")} (${result.mode})`,
  );
  s.raw(
    `${[
      `**${formatCount(k.fail)}** violations · **${formatCount(k.warn)}** warnings · **${formatCount(k.error)}** input errors`,
      `${formatCount(result.waived)} waived · ${formatCount(result.notBound)} not bound · ${formatCount(k.pass)} checks passed`,
      `${plural(result.policies.length, "policy", "policies")} · ${plural(result.skipped.length, "input")} skipped`,
    ].join(" · ")}\n`,
    0,
  );
  if (result.scope) {
    const [head, ...rest] = describeScope(result.scope);
    s.paragraph(`**Selection:** ${head}`, 0);
    if (rest.length > 0)
      s.details("Why each render was judged", rest.map((l) => `- ${l.trim()}`).join("\n"), 1);
  }
  if (result.objects === 0)
    s.paragraph(
      result.scope && result.scope.judged.length === 0 && result.scope.units > 0
        ? "No render is affected by this change: nothing to judge."
        : "No Kubernetes object was checked.",
      0,
    );
  // Two columns, so the message is on screen at 1000 px: what and where in the first, the message in the second.
  const row = (r: PolicyResult): TableRow => {
    const icon = r.notBound ? "➖" : (VERDICT_ICON[r.verdict] ?? "");
    const object = r.kind ? `${r.kind} ${r.namespace ? `${r.namespace}/` : ""}${r.name}` : "";
    // The kustomization or chart that rendered the object, unless the file is already inside it.
    const via = r.via && !r.file.startsWith(`${r.via}/`) ? ` (via ${escapeMarkdown(r.via)})` : "";
    return [
      {
        raw: [
          `${icon} **${escapeMarkdown(r.policy)}**${r.notBound ? " (not bound)" : ""}`,
          escapeMarkdown(object),
          `${sourceLink(ctx.github, r.file, r.line)}${via}`,
        ]
          .filter(Boolean)
          .join("<br>"),
      },
      r.message,
    ];
  };
  const header = ["finding", "message"];
  if (rows.length > 0) {
    const top = rows.slice(0, TOP_FINDINGS);
    s.heading(
      rows.length > top.length ? `Findings (${top.length} of ${formatCount(rows.length)})` : "Findings",
      3,
      1,
    );
    s.table(header, top.map(row), 1);
    const rest = rows.slice(TOP_FINDINGS, MAX_FINDING_ROWS);
    if (rest.length > 0) {
      const beyond = rows.length - TOP_FINDINGS - rest.length;
      s.details(
        `${plural(rows.length - TOP_FINDINGS, "more finding")}`,
        markdownTable(header, rest.map(row)) +
          (beyond > 0
            ? `\n${formatCount(beyond)} more are in the SARIF file and the \`result\` output.\n`
            : ""),
        2,
      );
    }
  }
  const byRule = countsByPolicy(result).filter((r) => r.fail + r.warn + r.error + r.skip + r.notBound > 0);
  if (byRule.length > 0)
    s.details(
      `Findings by rule (${plural(byRule.length, "rule")})`,
      markdownTable(
        ["rule", "fail", "warn", "waived", "error", "not bound"],
        byRule.map((r) => [r.policy, r.fail, r.warn, r.skip, r.error, r.notBound]),
      ),
      2,
    );
  const worst = worstObjects(result);
  if (worst.length > 0)
    s.details(
      `Objects with the most findings (${worst.length})`,
      markdownTable(
        ["object", "source", "fail", "warn"],
        worst.map((w) => [w.object, { raw: sourceLink(ctx.github, w.file) }, w.fail, w.warn]),
      ),
      3,
    );
  if (result.skipped.length > 0)
    s.details(
      `Skipped inputs (${formatCount(result.skipped.length)})`,
      result.skipped
        .slice(0, MAX_FINDING_ROWS)
        .map((x) => `- ${sourceLink(ctx.github, x.path, x.line)}: ${escapeMarkdown(x.reason)}`)
        .join("\n"),
      3,
    );
  s.details(
    "Rendered inputs",
    result.units.map((u) => `- \`${u.path}\` (${u.kind}): ${plural(u.objects, "object")}`).join("\n") ||
      "none",
    3,
  );
}
