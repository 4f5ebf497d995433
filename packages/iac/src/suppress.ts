import type { SyntaxNode } from "./parser.ts";
import type { IacFinding } from "./types.ts";

/**
 * An exemption written next to the code it exempts: `// iac-check: ignore <rule-id> <reason>`.
 * In a .bicep file it covers the declaration or property that follows it (or that it trails on the same line);
 * in a .bicepparam file it covers the whole deployment checked with those parameters (one environment).
 */
export interface Suppression {
  rule: string;
  reason: string;
  /** Where the comment is (relative file, 1-based line). */
  file: string;
  line: number;
  /** Files and 1-based inclusive line range covered; `lines` undefined: every line of those files. */
  files: ReadonlySet<string>;
  lines?: [number, number];
  used: boolean;
}

const PATTERN = /^\/\/\s*iac-check:\s*ignore\b\s*(\S*)\s*(.*)$/i;

/** A malformed or unknown-rule suppression comment: an error finding at the comment. */
const invalid = (file: string, line: number, message: string): IacFinding => ({
  rule: "Platform.IaC.Suppression",
  severity: "error",
  verdict: "error",
  message,
  file,
  line,
});

function parseComment(
  text: string,
  file: string,
  line: number,
  knownRules: ReadonlySet<string>,
): { rule: string; reason: string } | IacFinding | undefined {
  const m = PATTERN.exec(text.trim());
  if (!m) return undefined;
  const [, rule = "", reason = ""] = m;
  if (!rule)
    return invalid(
      file,
      line,
      "iac-check: ignore needs a rule id and a reason: // iac-check: ignore <rule-id> <reason>",
    );
  if (!knownRules.has(rule.toLowerCase()))
    return invalid(
      file,
      line,
      `iac-check: ignore names an unknown rule '${rule}'; use a rule id from the findings`,
    );
  if (reason.trim().length < 3)
    return invalid(
      file,
      line,
      `iac-check: ignore ${rule} needs a reason after the rule id (why the exemption is safe)`,
    );
  return { rule, reason: reason.trim() };
}

/** Suppression comments of a parsed .bicep file: each covers the node it precedes (or trails on its line). */
export function bicepSuppressions(
  root: SyntaxNode,
  file: string,
  knownRules: ReadonlySet<string>,
): { suppressions: Suppression[]; findings: IacFinding[] } {
  const suppressions: Suppression[] = [];
  const findings: IacFinding[] = [];
  const visit = (node: SyntaxNode): void => {
    if (node.type === "comment") {
      const line = node.startPosition.row + 1;
      const parsed = parseComment(node.text, file, line, knownRules);
      if (!parsed) return;
      if ("verdict" in parsed) {
        findings.push(parsed);
        return;
      }
      const prev = node.previousNamedSibling;
      let target: SyntaxNode | null =
        prev && prev.type !== "comment" && prev.endPosition.row === node.startPosition.row ? prev : null;
      const next = (n: SyntaxNode | null): SyntaxNode | null => {
        let s = n?.nextNamedSibling ?? null;
        while (s?.type === "comment") s = s.nextNamedSibling;
        return s;
      };
      target ??= next(node);
      // Decorators (`@batchSize(1)`) are siblings of the declaration they decorate: cover both.
      const end = target?.type === "decorators" ? (next(target) ?? target) : target;
      suppressions.push({
        ...parsed,
        file,
        line,
        files: new Set([file]),
        lines: target && end ? [target.startPosition.row + 1, end.endPosition.row + 1] : [line, line],
        used: false,
      });
      return;
    }
    for (const child of node.namedChildren) visit(child);
  };
  visit(root);
  return { suppressions, findings };
}

/** Suppression comments of a parameters file: each covers every finding in `files` (the deployment it parameterizes). */
export function parameterSuppressions(
  text: string,
  file: string,
  files: ReadonlySet<string>,
  knownRules: ReadonlySet<string>,
): { suppressions: Suppression[]; findings: IacFinding[] } {
  const suppressions: Suppression[] = [];
  const findings: IacFinding[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const parsed = parseComment(raw, file, i + 1, knownRules);
    if (!parsed) return;
    if ("verdict" in parsed) findings.push(parsed);
    else suppressions.push({ ...parsed, file, line: i + 1, files, used: false });
  });
  return { suppressions, findings };
}

/** Marks findings covered by a suppression (`suppressed`), and warns about suppressions that matched nothing. */
export function applySuppressions(findings: IacFinding[], suppressions: Suppression[]): IacFinding[] {
  for (const f of findings) {
    if (f.verdict === "error") continue;
    const s = suppressions.find(
      (x) =>
        x.rule.toLowerCase() === f.rule.toLowerCase() &&
        x.files.has(f.file) &&
        (!x.lines || (f.line >= x.lines[0] && f.line <= x.lines[1])),
    );
    if (!s) continue;
    s.used = true;
    f.suppressed = { justification: s.reason, file: s.file, line: s.line };
  }
  return suppressions
    .filter((s) => !s.used)
    .map((s) => ({
      rule: "Platform.IaC.UnusedSuppression",
      severity: "warning",
      verdict: "fail",
      message: `iac-check: ignore ${s.rule} matches no finding here; remove the comment (the control now passes or the rule id is wrong)`,
      file: s.file,
      line: s.line,
    }));
}
