// Key Vault: authorization, deletion safety and network access.

import { isUnknown } from "../evaluate.ts";
import { privateEndpointRule } from "./private-endpoint.ts";
import { type IacRule, isTrue, oneOf, show, valueAt } from "./rule.ts";

const KV = "Microsoft.KeyVault/vaults";

/** Rules on Microsoft.KeyVault/vaults, in evaluation order. */
export const KEY_VAULT_RULES: readonly IacRule[] = [
  {
    id: "Azure.KeyVault.RBAC",
    severity: "error",
    type: KV,
    title: "Key Vault uses Azure RBAC",
    fix: "set properties.enableRbacAuthorization: true and grant roles instead of access policies",
    path: ["properties", "enableRbacAuthorization"],
    ok: isTrue,
  },
  {
    id: "Azure.KeyVault.PurgeProtect",
    severity: "error",
    type: KV,
    title: "Key Vault purge protection is enabled",
    fix: "set properties.enablePurgeProtection: true",
    path: ["properties", "enablePurgeProtection"],
    ok: isTrue,
  },
  {
    id: "Platform.KeyVault.PublicAccess",
    severity: "error",
    type: KV,
    title: "Key Vault public network access is disabled",
    fix: "set properties.publicNetworkAccess: 'Disabled' and reach the vault through its private endpoint",
    path: ["properties", "publicNetworkAccess"],
    ok: oneOf("Disabled"),
  },
  {
    id: "Azure.KeyVault.SoftDelete",
    severity: "error",
    type: KV,
    title: "Key Vault soft delete is enabled",
    fix: "remove properties.enableSoftDelete: false (soft delete is on by default) or set it to true",
    path: ["properties", "enableSoftDelete"],
    ok: (v) => v === undefined || v === null || v === true,
  },
  privateEndpointRule(
    "Platform.KeyVault.PrivateEndpoint",
    KV,
    "Key Vault",
    "vault",
    /^privatelink\.vaultcore\.azure\.net$/i,
    "privatelink.vaultcore.azure.net",
  ),
  {
    id: "Azure.KeyVault.Firewall",
    severity: "error",
    type: KV,
    title: "Key Vault firewall denies by default",
    fix: "set properties.networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices' } (with publicNetworkAccess: 'Disabled')",
    path: ["properties", "networkAcls", "defaultAction"],
    // With public network access off there is no public traffic for the firewall to admit (PSRule passes it too).
    evaluate: (res) => {
      const access = valueAt(res, "properties", "publicNetworkAccess");
      if (oneOf("Disabled")(access)) return [{ verdict: "pass", detail: "" }];
      const v = valueAt(res, "properties", "networkAcls", "defaultAction");
      if (oneOf("Deny")(v)) return [{ verdict: "pass", detail: "" }];
      const unknown = [v, access].find(isUnknown);
      if (unknown) return [{ verdict: "unknown", detail: unknown.reason }];
      return [
        {
          verdict: "fail",
          detail: `networkAcls.defaultAction is ${show(v)} and publicNetworkAccess ${show(access)}`,
        },
      ];
    },
  },
];
