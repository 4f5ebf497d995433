import { sarifLocation, sarifLog } from "@platform/core";
import { IAC_RULES } from "./rules/index.ts";
import type { CheckResult, IacFinding } from "./types.ts";

/** Rules that are not controls: the checker's own read/parse/evaluation problems. */
const META_RULES: Record<string, { title: string; fix: string }> = {
  "Platform.IaC.ParseError": {
    title: "Bicep file parses",
    fix: "Fix the syntax at the reported line; keep to syntax tree-sitter-bicep parses (no spread `...`, no `resourceInput<>`, no postfix `!`).",
  },
  "Platform.IaC.ReadError": { title: "Bicep file is readable", fix: "Check the path and permissions." },
  "Platform.IaC.EvalError": {
    title: "Bicep file evaluates",
    fix: "An internal error of the static evaluator: report it with the file.",
  },
  "Platform.IaC.ModuleError": {
    title: "Modules can be followed",
    fix: "Remove the module cycle or flatten the nesting (at most 8 levels).",
  },
  "Platform.IaC.Suppression": {
    title: "Suppression comments are well-formed",
    fix: "Write `// iac-check: ignore <rule-id> <reason>` with a rule id from the findings and a reason.",
  },
  "Platform.IaC.UnusedSuppression": {
    title: "Suppression comments still match a finding",
    fix: "Remove the `// iac-check: ignore` comment: the control passes now (or the rule id is wrong).",
  },
};

/** Whether a finding fails the check: a provable violation or an unreadable file, at error severity. */
export function isBlocking(f: IacFinding, opts: { failOnUnknown?: boolean } = {}): boolean {
  return !f.suppressed && f.severity === "error" && (f.verdict !== "unknown" || opts.failOnUnknown === true);
}

/** Findings counted by verdict; suppressed findings are counted apart. */
export function countFindings(findings: readonly IacFinding[]): {
  fail: number;
  unknown: number;
  error: number;
  suppressed: number;
} {
  const c = { fail: 0, unknown: 0, error: 0, suppressed: 0 };
  for (const f of findings) c[f.suppressed ? "suppressed" : f.verdict]++;
  return c;
}

const verdictLabel = (f: IacFinding): string =>
  f.suppressed
    ? "SUPPRESSED"
    : f.verdict === "fail"
      ? f.severity === "warning"
        ? "WARN"
        : "FAIL"
      : f.verdict === "error"
        ? "ERROR"
        : "UNKNOWN";

/** The message, with the exemption's reason and place when suppressed. */
const messageOf = (f: IacFinding): string =>
  f.suppressed
    ? `${f.message} [suppressed at ${f.suppressed.file}:${f.suppressed.line}: ${f.suppressed.justification}]`
    : f.message;

const sarifLevel = (f: IacFinding): "error" | "warning" | "note" =>
  f.verdict === "unknown" ? "note" : f.severity === "warning" ? "warning" : "error";

/** SARIF 2.1.0 log for GitHub code scanning: one rule per reported rule id, one result per finding, at file:line of the .bicep. */
export function toIacSarif(
  findings: readonly IacFinding[],
  tool: { version?: string; informationUri?: string } = {},
): Record<string, unknown> {
  const ruleIds = [...new Set(findings.map((f) => f.rule))].sort();
  const rules = ruleIds.map((id) => {
    const rule = IAC_RULES.find((r) => r.id === id);
    const meta = META_RULES[id];
    const title = rule?.title ?? meta?.title ?? id;
    const fix = rule?.fix ?? meta?.fix ?? "See the message.";
    return {
      id,
      name: id.replace(/[^A-Za-z0-9]+/g, ""),
      shortDescription: { text: title },
      fullDescription: { text: rule ? `${title} (${rule.type}).` : `${title}.` },
      help: { text: `To fix: ${fix}`, markdown: `**To fix:** ${fix}` },
      defaultConfiguration: { level: rule?.severity === "warning" ? "warning" : "error" },
      properties: { tags: ["iac", "bicep", "azure", "security"] },
    };
  });
  const index = new Map(ruleIds.map((id, i) => [id, i]));
  return sarifLog(
    { name: "platform-iac", version: tool.version, informationUri: tool.informationUri },
    rules,
    findings.map((f) => ({
      ruleId: f.rule,
      ruleIndex: index.get(f.rule),
      level: sarifLevel(f),
      kind: f.verdict === "unknown" ? "review" : "fail",
      message: {
        text: `${f.resourceName ? `${f.resourceType} ${f.resourceName}: ` : ""}${f.message}`,
      },
      locations: [sarifLocation(f.file, f.line, f.column)],
      ...(f.suppressed
        ? {
            suppressions: [
              {
                kind: "inSource",
                justification: f.suppressed.justification,
                location: {
                  physicalLocation: {
                    artifactLocation: { uri: f.suppressed.file },
                    region: { startLine: f.suppressed.line },
                  },
                },
              },
            ],
          }
        : {}),
      partialFingerprints: {
        platformIac: `${f.rule}|${f.resourceType ?? ""}|${f.resourceName ?? ""}|${f.field ?? ""}|${f.file}`,
      },
    })),
  );
}

const paint = (on: boolean, code: string, s: string): string => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

/** The terminal table: one row per finding (verdict, rule, location, resource), then a summary line. */
export function renderIacTable(
  result: CheckResult,
  opts: { color?: boolean; failOnUnknown?: boolean } = {},
): string {
  const color = opts.color === true;
  const rows = [...result.findings]
    .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.rule.localeCompare(b.rule))
    .map((f) => [
      verdictLabel(f),
      f.rule,
      `${f.file}:${f.line}`,
      f.resourceName ?? f.resourceType ?? "",
      messageOf(f),
    ]);
  const head = ["verdict", "rule", "location", "resource", "message"];
  const widths = head.slice(0, 4).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r
      .slice(0, 4)
      .map((c, i) => c.padEnd(widths[i]!))
      .concat(r[4]!)
      .join("  ")
      .trimEnd();
  const colorFor = (v: string) => (v === "FAIL" || v === "ERROR" ? "31" : v === "SUPPRESSED" ? "2" : "33");
  const lines = rows.length
    ? [
        paint(color, "1", fmt(head)),
        ...rows.map((r) => {
          const line = fmt(r);
          return paint(color, colorFor(r[0]!), r[0]!) + line.slice(r[0]!.length);
        }),
        "",
      ]
    : [];
  const c = countFindings(result.findings);
  const blocking = result.findings.filter((f) => isBlocking(f, opts)).length;
  const files = new Set(result.resources.map((r) => r.file)).size;
  lines.push(
    `${blocking === 0 ? paint(color, "32", "PASSED") : paint(color, "31", "FAILED")}: ${result.resources.length} resources in ${files} files, ${result.rulesEvaluated} rule evaluations; ${c.fail} failed, ${c.unknown} unknown, ${c.error} errors${c.suppressed ? `, ${c.suppressed} suppressed` : ""}`,
  );
  return lines.join("\n");
}

/** A Markdown job summary (GitHub step summary): verdict, counts by rule, then each finding. */
export function renderIacMarkdown(result: CheckResult, opts: { failOnUnknown?: boolean } = {}): string {
  const blocking = result.findings.filter((f) => isBlocking(f, opts)).length;
  const c = countFindings(result.findings);
  const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const out = [
    `## IaC check: ${blocking === 0 ? "passed" : "failed"}`,
    "",
    "| resources | rule evaluations | failed | unknown | errors | suppressed |",
    "|---|---|---|---|---|---|",
    `| ${result.resources.length} | ${result.rulesEvaluated} | ${c.fail} | ${c.unknown} | ${c.error} | ${c.suppressed} |`,
  ];
  if (result.findings.length > 0) {
    out.push("", "| verdict | rule | location | message |", "|---|---|---|---|");
    for (const f of result.findings)
      out.push(
        `| ${verdictLabel(f).toLowerCase()} | ${f.rule} | \`${f.file}:${f.line}\` | ${esc(messageOf(f))} |`,
      );
  }
  return `${out.join("\n")}\n`;
}
