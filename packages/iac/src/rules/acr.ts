// Azure Container Registry: access, network, SKU and resilience.

import { privateEndpointRule } from "./private-endpoint.ts";
import { childrenOf, type IacRule, isFalseOrAbsent, oneOf } from "./rule.ts";

const ACR = "Microsoft.ContainerRegistry/registries";

/** Rules on Microsoft.ContainerRegistry/registries, in evaluation order. */
export const ACR_RULES: readonly IacRule[] = [
  {
    id: "Azure.ACR.AdminUser",
    severity: "error",
    type: ACR,
    title: "ACR admin user is disabled",
    fix: "set properties.adminUserEnabled: false and pull with Entra identities (AcrPull)",
    path: ["properties", "adminUserEnabled"],
    ok: isFalseOrAbsent,
  },
  {
    id: "Azure.ACR.AnonymousAccess",
    severity: "error",
    type: ACR,
    title: "ACR anonymous pull is disabled",
    fix: "set properties.anonymousPullEnabled: false",
    path: ["properties", "anonymousPullEnabled"],
    ok: isFalseOrAbsent,
  },
  {
    id: "Azure.ACR.Firewall",
    severity: "error",
    type: ACR,
    title: "ACR public network access is disabled",
    fix: "set properties.publicNetworkAccess: 'Disabled' and reach the registry through its private endpoint",
    path: ["properties", "publicNetworkAccess"],
    ok: oneOf("Disabled"),
  },
  {
    id: "Azure.ACR.MinSku",
    severity: "error",
    type: ACR,
    title: "ACR uses the Premium SKU",
    fix: "set sku: { name: 'Premium' } (private endpoints, geo-replication and zone redundancy need it)",
    path: ["sku", "name"],
    ok: oneOf("Premium"),
  },
  {
    id: "Platform.ACR.ZoneRedundancy",
    severity: "error",
    type: ACR,
    title: "ACR is zone redundant",
    fix: "set properties.zoneRedundancy: 'Enabled'",
    path: ["properties", "zoneRedundancy"],
    ok: oneOf("Enabled"),
  },
  {
    id: "Azure.ACR.GeoReplica",
    severity: "error",
    type: ACR,
    title: "ACR is geo-replicated to the standby region",
    fix: "declare a replications child (Microsoft.ContainerRegistry/registries/replications) in the standby region",
    path: [],
    evaluate: (res, all) => {
      const { sure, maybe } = childrenOf(res, `${ACR}/replications`, all);
      if (sure.length > 0) return [{ verdict: "pass", detail: "" }];
      if (maybe.length > 0)
        return [
          {
            verdict: "unknown",
            detail: `replication at ${maybe[0]!.file}:${maybe[0]!.line} may belong to it (names or conditions not known)`,
          },
        ];
      return [{ verdict: "fail", detail: "no replications are declared for it" }];
    },
  },
  privateEndpointRule(
    "Platform.ACR.PrivateEndpoint",
    ACR,
    "ACR",
    "registry",
    /^privatelink\.azurecr\.io$/i,
    "privatelink.azurecr.io",
  ),
];
