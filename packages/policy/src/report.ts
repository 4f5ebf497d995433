import type { PolicyCheckResult } from "./check.ts";
import type { PolicyResult } from "./types.ts";

/** Rows that need attention, worst first (error, fail, warn, skip), then by file and line. */
export function findings(result: PolicyCheckResult): PolicyResult[] {
  const rank = { error: 0, fail: 1, warn: 2, skip: 3, pass: 4 } as const;
  return result.results
    .filter((r) => r.verdict !== "pass")
    .sort(
      (a, b) =>
        rank[a.verdict] - rank[b.verdict] ||
        a.file.localeCompare(b.file) ||
        a.line - b.line ||
        a.policy.localeCompare(b.policy),
    );
}

/** Per-rule counts for summaries; `skip` counts waived findings only, `notBound` policies nothing enforces. */
export interface PolicyCounts {
  policy: string;
  fail: number;
  warn: number;
  skip: number;
  error: number;
  pass: number;
  notBound: number;
}

/** Per-policy counts of fail/warn/skip, for summaries. */
export function countsByPolicy(result: PolicyCheckResult): PolicyCounts[] {
  const by = new Map<string, PolicyCounts>();
  for (const r of result.results) {
    let row = by.get(r.policy);
    if (!row) {
      row = { policy: r.policy, fail: 0, warn: 0, skip: 0, error: 0, pass: 0, notBound: 0 };
      by.set(r.policy, row);
    }
    if (r.notBound) row.notBound++;
    else row[r.verdict]++;
  }
  return [...by.values()].sort(
    (a, b) => b.fail + b.error - (a.fail + a.error) || b.warn - a.warn || a.policy.localeCompare(b.policy),
  );
}

/** Objects with the most failures ("worst objects"). */
export function worstObjects(
  result: PolicyCheckResult,
  limit = 10,
): Array<{ object: string; file: string; fail: number; warn: number }> {
  const by = new Map<string, { object: string; file: string; fail: number; warn: number }>();
  for (const r of result.results) {
    if (r.verdict !== "fail" && r.verdict !== "warn") continue;
    if (!r.kind || r.kind === "Waiver") continue;
    const key = `${r.kind}/${r.namespace}/${r.name}`;
    let row = by.get(key);
    if (!row) {
      row = {
        object: `${r.kind} ${r.namespace ? `${r.namespace}/` : ""}${r.name}`,
        file: r.file,
        fail: 0,
        warn: 0,
      };
      by.set(key, row);
    }
    row[r.verdict]++;
  }
  return [...by.values()]
    .sort((a, b) => b.fail - a.fail || b.warn - a.warn || a.object.localeCompare(b.object))
    .slice(0, limit);
}

/** A plain-text table for terminals. */
export function renderTable(
  result: PolicyCheckResult,
  opts: { color?: boolean; limit?: number } = {},
): string {
  const rows = findings(result);
  const c = (code: number, s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const mark = {
    error: c(35, "ERROR"),
    fail: c(31, "FAIL "),
    warn: c(33, "WARN "),
    skip: c(90, "SKIP "),
    pass: c(32, "PASS "),
  };
  const lines: string[] = [];
  const limit = opts.limit ?? 200;
  for (const r of rows.slice(0, limit)) {
    const obj = r.kind ? `${r.kind} ${r.namespace ? `${r.namespace}/` : ""}${r.name}` : "";
    lines.push(
      `${r.notBound ? c(90, "NOT BOUND") : mark[r.verdict]} ${r.file}:${r.line}${r.column ? `:${r.column}` : ""}  ${r.policy}${obj ? `  ${obj}` : ""}${r.via ? `  (via ${r.via})` : ""}\n       ${r.message}`,
    );
  }
  if (rows.length > limit) lines.push(`… ${rows.length - limit} more (use --json for all)`);
  if (result.skipped.length > 0) {
    lines.push("", `skipped ${result.skipped.length} input(s) that are not objects to check:`);
    for (const s of result.skipped.slice(0, limit))
      lines.push(`  ${s.path}${s.line ? `:${s.line}` : ""}  ${s.reason}`);
    if (result.skipped.length > limit)
      lines.push(`  … ${result.skipped.length - limit} more (use --json for all)`);
  }
  lines.push(
    "",
    summaryLine(result),
    `mode ${result.mode}: ${result.passed ? c(32, "PASSED") : c(31, "FAILED")}`,
  );
  return lines.join("\n");
}

/** One line of counts: objects, policies, and each verdict (waived and not-bound skips apart). */
export function summaryLine(result: PolicyCheckResult): string {
  const k = result.counts;
  const other = k.skip - result.waived - result.notBound;
  return `${result.objects} object(s), ${result.policies.length} polic${result.policies.length === 1 ? "y" : "ies"}: ${k.fail} violation(s), ${k.warn} warning(s), ${k.error} error(s), ${result.waived} waived${result.notBound ? `, ${result.notBound} not bound` : ""}${other > 0 ? `, ${other} not evaluated` : ""}, ${k.pass} passed${result.skipped.length ? `; ${result.skipped.length} input(s) skipped` : ""}`;
}
