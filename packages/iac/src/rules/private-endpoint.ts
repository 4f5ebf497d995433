// Private endpoints and their DNS zone groups: one rule shape shared by every service reached over Private Link.
import { getProp, isUnknown } from "../evaluate.ts";
import type { ArmResource } from "../types.ts";
import { childrenOf, deployed, type IacRule, idTarget, lc, type RuleOutcome, sameType } from "./rule.ts";

const PE = "Microsoft.Network/privateEndpoints";
export const DNS_ZONE = "Microsoft.Network/privateDnsZones";

/** Private endpoints (deployed) whose connection targets `res` with `groupId`; `maybe` when the target is not known. */
function privateEndpointsOf(res: ArmResource, groupId: string, all: readonly ArmResource[]) {
  const sure: ArmResource[] = [];
  const maybe: ArmResource[] = [];
  const resName = lc(res.name);
  for (const pe of all) {
    if (!deployed(pe) || !sameType(pe.type, PE)) continue;
    const props = getProp(pe.body, "properties");
    const conns = [
      getProp(props, "privateLinkServiceConnections"),
      getProp(props, "manualPrivateLinkServiceConnections"),
    ];
    let match: boolean | "unknown" = false;
    for (const list of conns) {
      if (isUnknown(list)) match = "unknown";
      if (!Array.isArray(list)) continue;
      for (const c of list) {
        const cp = getProp(c, "properties");
        const target = idTarget(getProp(cp, "privateLinkServiceId"));
        const groups = getProp(cp, "groupIds");
        const groupOk = Array.isArray(groups)
          ? groups.some((g) => lc(g) === groupId.toLowerCase())
            ? true
            : groups.some(isUnknown)
              ? "unknown"
              : false
          : "unknown";
        if (!target) {
          if (match === false) match = "unknown";
          continue;
        }
        if (!sameType(target.type, res.type) || groupOk === false) continue;
        const tName = lc(target.name);
        // `privateLinkServiceId: kv.id` names the declaration itself: no need to know its name.
        const bySymbol =
          target.symbol &&
          !res.parent &&
          target.symbol.file === res.file &&
          target.symbol.name === res.symbol;
        const ok = bySymbol ? true : !tName || !resName ? "unknown" : tName === resName;
        if (ok === true && groupOk === true) match = true;
        else if (ok !== false && match === false) match = "unknown";
      }
    }
    if (match === true && pe.condition === true) sure.push(pe);
    else if (match !== false) maybe.push(pe);
  }
  return { sure, maybe };
}

/** Whether a private endpoint has a DNS zone group registering it in a zone whose name matches `zone`. */
function zoneGroupOutcome(pe: ArmResource, zone: RegExp, zoneLabel: string, all: readonly ArmResource[]) {
  const { sure, maybe } = childrenOf(pe, `${PE}/privateDnsZoneGroups`, all);
  let unknown: string | undefined;
  for (const g of [...sure, ...maybe]) {
    const configs = getProp(getProp(g.body, "properties"), "privateDnsZoneConfigs");
    if (!Array.isArray(configs)) {
      unknown ??= `zone group at ${g.file}:${g.line} lists no known privateDnsZoneConfigs`;
      continue;
    }
    for (const c of configs) {
      const target = idTarget(getProp(getProp(c, "properties"), "privateDnsZoneId"));
      const name = target && sameType(target.type, DNS_ZONE) ? target.name : undefined;
      if (typeof name === "string" && zone.test(name)) {
        if (sure.includes(g)) return { verdict: "pass", detail: "" } as RuleOutcome;
        unknown ??= `zone group at ${g.file}:${g.line} may belong to it (names or conditions not known)`;
      } else if (typeof name !== "string")
        unknown ??= `a privateDnsZoneId at ${g.file}:${g.line} is not known`;
    }
  }
  const at = { resource: pe, path: [] as string[] };
  return unknown
    ? ({ verdict: "unknown", detail: unknown, at } as RuleOutcome)
    : ({
        verdict: "fail",
        detail: `private endpoint ${typeof pe.name === "string" ? pe.name : pe.symbol} has no privateDnsZoneGroups entry for ${zoneLabel}`,
        at,
      } as RuleOutcome);
}

export /** "Reached only through a private endpoint with `groupId`, registered in the private DNS zone `zoneLabel`". */
function privateEndpointRule(
  id: string,
  type: string,
  what: string,
  groupId: string,
  zone: RegExp,
  zoneLabel: string,
): IacRule {
  return {
    id,
    severity: "error",
    type,
    title: `${what} has a private endpoint registered in ${zoneLabel}`,
    fix: `declare a Microsoft.Network/privateEndpoints with privateLinkServiceConnections [{ properties: { privateLinkServiceId: <${what} id>, groupIds: ['${groupId}'] } }] and a privateDnsZoneGroups child whose privateDnsZoneConfigs point at the ${zoneLabel} zone`,
    path: [],
    evaluate: (res, all) => {
      const { sure, maybe } = privateEndpointsOf(res, groupId, all);
      const outcomes = sure.map((pe) => zoneGroupOutcome(pe, zone, zoneLabel, all));
      if (outcomes.some((o) => o.verdict === "pass")) return [{ verdict: "pass", detail: "" }];
      if (outcomes.length > 0 && maybe.length === 0) return [outcomes[0]!];
      if (maybe.length > 0)
        return [
          {
            verdict: "unknown",
            detail: `private endpoint at ${maybe[0]!.file}:${maybe[0]!.line} may target it (ids or conditions not known)`,
          },
        ];
      return [{ verdict: "fail", detail: `no private endpoint with groupIds ['${groupId}'] targets it` }];
    },
  };
}
