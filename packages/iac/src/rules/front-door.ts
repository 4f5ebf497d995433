// Front Door: the WAF policy and Private Link origins.
import { getProp, isUnknown } from "../evaluate.ts";
import type { UnknownValue, Value } from "../types.ts";
import { type IacRule, idTarget, lc, oneOf, show, valueAt } from "./rule.ts";

const FD_WAF = "Microsoft.Network/FrontDoorWebApplicationFirewallPolicies";

/** Rules on Front Door WAF policies and origins, in evaluation order. */
export const FRONT_DOOR_RULES: readonly IacRule[] = [
  {
    id: "Azure.FrontDoorWAF.Enabled",
    severity: "error",
    type: FD_WAF,
    title: "Front Door WAF policy is enabled",
    fix: "set properties.policySettings.enabledState: 'Enabled'",
    path: ["properties", "policySettings", "enabledState"],
    ok: (v) => v === undefined || oneOf("Enabled")(v),
  },
  {
    id: "Azure.FrontDoorWAF.PreventionMode",
    severity: "error",
    type: FD_WAF,
    title: "Front Door WAF policy blocks (Prevention mode)",
    fix: "set properties.policySettings.mode: 'Prevention'",
    path: ["properties", "policySettings", "mode"],
    ok: oneOf("Prevention"),
  },
  {
    id: "Azure.FrontDoorWAF.RuleGroups",
    severity: "error",
    type: FD_WAF,
    title: "Front Door WAF uses the default rule set (≥ 2.1) and the bot manager rule set",
    fix: "add managedRules.managedRuleSets [{ ruleSetType: 'Microsoft_DefaultRuleSet', ruleSetVersion: '2.1', ruleSetAction: 'Block' }, { ruleSetType: 'Microsoft_BotManagerRuleSet', ruleSetVersion: '1.1' }]",
    path: ["properties", "managedRules", "managedRuleSets"],
    evaluate: (res) => {
      const sets = valueAt(res, "properties", "managedRules", "managedRuleSets");
      if (isUnknown(sets)) return [{ verdict: "unknown", detail: sets.reason }];
      const list = Array.isArray(sets) ? sets : [];
      if (
        list.some(
          (x) =>
            isUnknown(x) || isUnknown(getProp(x, "ruleSetType")) || isUnknown(getProp(x, "ruleSetVersion")),
        )
      )
        return [{ verdict: "unknown", detail: "a managed rule set is not known" }];
      const version = (x: Value) => Number.parseFloat(String(getProp(x, "ruleSetVersion") ?? "0"));
      const type = (x: Value) => lc(getProp(x, "ruleSetType"));
      const missing: string[] = [];
      if (!list.some((x) => type(x) === "microsoft_defaultruleset" && version(x) >= 2.1))
        missing.push("Microsoft_DefaultRuleSet ≥ 2.1");
      if (!list.some((x) => type(x) === "microsoft_botmanagerruleset"))
        missing.push("Microsoft_BotManagerRuleSet");
      return missing.length === 0
        ? [{ verdict: "pass", detail: "" }]
        : [{ verdict: "fail", detail: `managed rule sets lack ${missing.join(" and ")}` }];
    },
  },
  {
    id: "Platform.FrontDoor.PrivateLinkOrigin",
    severity: "error",
    type: "Microsoft.Cdn/profiles/originGroups/origins",
    title: "Front Door reaches its origin over Private Link",
    fix: "set properties.sharedPrivateLinkResource: { privateLink: { id: <Private Link Service id> }, privateLinkLocation: <region>, requestMessage: '…' } (Premium_AzureFrontDoor)",
    path: ["properties", "sharedPrivateLinkResource", "privateLink", "id"],
    evaluate: (res) => {
      const link = valueAt(res, "properties", "sharedPrivateLinkResource");
      const v = getProp(getProp(link, "privateLink"), "id");
      if ((typeof v === "string" && v.trim() !== "") || idTarget(v)) return [{ verdict: "pass", detail: "" }];
      if (isUnknown(link) || isUnknown(v))
        return [{ verdict: "unknown", detail: (isUnknown(link) ? link : (v as UnknownValue)).reason }];
      return [{ verdict: "fail", detail: `sharedPrivateLinkResource.privateLink.id is ${show(v)}` }];
    },
  },
];
