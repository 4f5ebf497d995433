// The rule set, assembled from one file per resource family, and the engine that runs it.
import { getProp, isUnknown } from "../evaluate.ts";
import type { ArmResource, IacFinding, Value } from "../types.ts";
import { ACR_RULES } from "./acr.ts";
import { AKS_RULES } from "./aks.ts";
import { FRONT_DOOR_RULES } from "./front-door.ts";
import { IDENTITY_RULES } from "./identity.ts";
import { KEY_VAULT_RULES } from "./key-vault.ts";
import { type IacRule, show } from "./rule.ts";

export { type IacRule, idTarget, type RuleOutcome } from "./rule.ts";

/**
 * The first rule set: PSRule for Azure ids where one exists, `Platform.*` for the architecture's own controls.
 * Grouped by resource family; only the order within one resource type shows in the output (findings follow it
 * per resource), and each family keeps that order.
 */
export const IAC_RULES: readonly IacRule[] = [
  ...AKS_RULES,
  ...ACR_RULES,
  ...KEY_VAULT_RULES,
  ...FRONT_DOOR_RULES,
  ...IDENTITY_RULES,
];

function lookup(body: Value, path: readonly string[]): { value: Value | undefined; unknownAt?: string } {
  let current: Value | undefined = body;
  for (let i = 0; i < path.length; i++) {
    if (isUnknown(current)) return { value: current, unknownAt: path.slice(0, i).join(".") };
    current = getProp(current, path[i]!);
    if (current === undefined) return { value: undefined };
  }
  return isUnknown(current) ? { value: current, unknownAt: path.join(".") } : { value: current };
}

/** Run the rules on deployable resources; returns findings and the number of (rule, resource) evaluations. */
export function evaluateRules(
  resources: readonly ArmResource[],
  rules: readonly IacRule[] = IAC_RULES,
): { findings: IacFinding[]; evaluated: number } {
  const findings: IacFinding[] = [];
  let evaluated = 0;
  for (const res of resources) {
    if (res.existing || res.condition === false) continue;
    const type = res.type.toLowerCase();
    for (const rule of rules) {
      if (rule.type.toLowerCase() !== type) continue;
      evaluated++;
      const base = (at: { file: string; line: number }, path: readonly string[]) => ({
        rule: rule.id,
        severity: rule.severity,
        file: at.file,
        line: at.line,
        resourceType: res.type,
        ...(typeof res.name === "string" ? { resourceName: res.name } : {}),
        ...(path.length > 0 ? { field: path.join(".") } : {}),
      });
      if (rule.evaluate) {
        for (const o of rule.evaluate(res, resources)) {
          if (o.verdict === "pass") continue;
          const target = o.at?.resource ?? res;
          const path = o.at?.path ?? rule.path;
          findings.push({
            ...base(target.locate(path), path),
            verdict: o.verdict,
            message:
              o.verdict === "unknown"
                ? `${rule.title}: cannot be proven statically (${o.detail}); ${rule.fix}`
                : `${rule.title}: ${o.detail}; ${rule.fix}`,
          });
        }
        continue;
      }
      const { value, unknownAt } = lookup(res.body, rule.path);
      const field = rule.path.join(".");
      const b = base(res.locate(rule.path), rule.path);
      if (value === undefined && rule.absent) {
        findings.push({
          ...b,
          verdict: "unknown",
          message: `${rule.title}: cannot be proven statically (${field} ${rule.absent}); ${rule.fix}`,
        });
      } else if (isUnknown(value)) {
        findings.push({
          ...b,
          verdict: "unknown",
          message: `${rule.title}: cannot be proven statically (${unknownAt || field}: ${value.reason}); ${rule.fix}`,
        });
      } else if (rule.ok && !rule.ok(value)) {
        findings.push({
          ...b,
          verdict: "fail",
          message: `${rule.title}: ${field} is ${show(value)}; ${rule.fix}`,
        });
      }
    }
  }
  return { findings, evaluated };
}
