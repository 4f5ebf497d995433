import { sarifLocation, sarifLog } from "@platform/core";
import { BUILTIN_RULES } from "./builtin/rules.ts";
import type { PolicyResult } from "./types.ts";

/** SARIF 2.1.0 log for GitHub code scanning: one rule per policy, one result per fail/warn/error. */
export function toSarif(
  results: PolicyResult[],
  tool: { version: string; informationUri?: string },
): Record<string, unknown> {
  const reported = results.filter(
    (r) => r.verdict === "fail" || r.verdict === "warn" || r.verdict === "error" || r.verdict === "skip",
  );
  const ruleIds = [...new Set(reported.map((r) => r.policy))].sort();
  const rules = ruleIds.map((id) => {
    const builtin = BUILTIN_RULES.find((b) => id === `${b.id}/${b.name}`);
    const sample = reported.find((r) => r.policy === id);
    return {
      id,
      name: builtin?.name ?? id.replace(/[^A-Za-z0-9]+/g, "-"),
      shortDescription: { text: builtin?.title ?? sample?.title ?? id },
      fullDescription: {
        text: builtin ? `${builtin.title}. Enforces: ${builtin.enforces}.` : (sample?.title ?? id),
      },
      help: { text: builtin?.fix ?? "See the message." },
      defaultConfiguration: { level: builtin?.severity === "warning" ? "warning" : "error" },
      properties: { tags: ["kubernetes", "security", "platform"] },
    };
  });
  const index = new Map(ruleIds.map((id, i) => [id, i]));
  return sarifLog(
    { name: "platform-policy", version: tool.version, informationUri: tool.informationUri },
    rules,
    reported.map((r) => ({
      ruleId: r.policy,
      ruleIndex: index.get(r.policy),
      level: r.verdict === "warn" ? "warning" : r.verdict === "skip" ? "note" : "error",
      message: {
        text: `${r.kind ? `${r.kind} ${r.namespace ? `${r.namespace}/` : ""}${r.name}: ` : ""}${r.message}`,
      },
      locations: [sarifLocation(r.file, r.line, r.column)],
      ...(r.verdict === "skip" && r.waiver
        ? {
            suppressions: [
              {
                kind: "external",
                justification: `${r.waiver.reason} (owner ${r.waiver.owner}, expires ${r.waiver.expires})`,
              },
            ],
          }
        : {}),
      partialFingerprints: {
        platformObject: `${r.policy}|${r.kind}|${r.namespace}|${r.name}|${r.field ?? ""}`,
      },
    })),
  );
}
