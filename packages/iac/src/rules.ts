import { getProp, isUnknown } from "./evaluate.ts";
import type { ArmResource, IacFinding, Severity, Value } from "./types.ts";

/** A control on one ARM resource type: the property at `path` must satisfy `ok`. */
export interface IacRule {
  id: string;
  severity: Severity;
  /** ARM resource type, compared case-insensitively. */
  type: string;
  title: string;
  /** How to fix it, in Bicep terms. */
  fix: string;
  /** Path relative to the resource body, e.g. ["properties", "disableLocalAccounts"]. */
  path: readonly string[];
  /** Whether the known value passes; `undefined` means the property is absent. */
  ok(value: Value | undefined): boolean;
}

const AKS = "Microsoft.ContainerService/managedClusters";
const ACR = "Microsoft.ContainerRegistry/registries";
const KV = "Microsoft.KeyVault/vaults";

const isTrue = (v: Value | undefined): boolean => v === true;
/** Absent counts as false: the ARM default is the secure one. */
const isFalseOrAbsent = (v: Value | undefined): boolean => v === undefined || v === null || v === false;
const oneOf =
  (...allowed: string[]) =>
  (v: Value | undefined): boolean =>
    typeof v === "string" && allowed.some((a) => a.toLowerCase() === v.toLowerCase());

/** The first rule set: PSRule for Azure ids where one exists, `Platform.*` for the architecture's own controls. */
export const IAC_RULES: readonly IacRule[] = [
  {
    id: "Azure.AKS.PrivateCluster",
    severity: "error",
    type: AKS,
    title: "AKS API server is private",
    fix: "set properties.apiServerAccessProfile.enablePrivateCluster: true (instead of authorized IP ranges)",
    path: ["properties", "apiServerAccessProfile", "enablePrivateCluster"],
    ok: isTrue,
  },
  {
    id: "Azure.AKS.LocalAccounts",
    severity: "error",
    type: AKS,
    title: "AKS local accounts are disabled",
    fix: "set properties.disableLocalAccounts: true",
    path: ["properties", "disableLocalAccounts"],
    ok: isTrue,
  },
  {
    id: "Azure.AKS.AzureRBAC",
    severity: "error",
    type: AKS,
    title: "AKS uses Azure RBAC for Kubernetes authorization",
    fix: "set properties.aadProfile.enableAzureRBAC: true (with aadProfile.managed: true)",
    path: ["properties", "aadProfile", "enableAzureRBAC"],
    ok: isTrue,
  },
  {
    id: "Azure.AKS.NetworkPolicy",
    severity: "error",
    type: AKS,
    title: "AKS enforces network policies",
    fix: "set properties.networkProfile.networkPolicy: 'cilium' (with networkDataplane: 'cilium'); 'azure' and 'calico' also pass",
    path: ["properties", "networkProfile", "networkPolicy"],
    ok: oneOf("cilium", "azure", "calico"),
  },
  {
    id: "Platform.AKS.OIDCIssuer",
    severity: "error",
    type: AKS,
    title: "AKS OIDC issuer is enabled",
    fix: "set properties.oidcIssuerProfile.enabled: true",
    path: ["properties", "oidcIssuerProfile", "enabled"],
    ok: isTrue,
  },
  {
    id: "Platform.AKS.WorkloadIdentity",
    severity: "error",
    type: AKS,
    title: "AKS workload identity is enabled",
    fix: "set properties.securityProfile.workloadIdentity.enabled: true",
    path: ["properties", "securityProfile", "workloadIdentity", "enabled"],
    ok: isTrue,
  },
  {
    id: "Azure.AKS.SecretStore",
    severity: "error",
    type: AKS,
    title: "AKS Key Vault secrets provider add-on is enabled",
    fix: "set properties.addonProfiles.azureKeyvaultSecretsProvider.enabled: true",
    path: ["properties", "addonProfiles", "azureKeyvaultSecretsProvider", "enabled"],
    ok: isTrue,
  },
  {
    id: "Azure.AKS.SecretStoreRotation",
    severity: "error",
    type: AKS,
    title: "AKS Key Vault secrets provider rotates secrets",
    fix: "set properties.addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation: 'true' (a string)",
    path: ["properties", "addonProfiles", "azureKeyvaultSecretsProvider", "config", "enableSecretRotation"],
    ok: oneOf("true"),
  },
  {
    id: "Azure.AKS.AutoUpgrade",
    severity: "error",
    type: AKS,
    title: "AKS auto-upgrade channel is set",
    fix: "set properties.autoUpgradeProfile.upgradeChannel: 'stable' (or 'patch', 'rapid', 'node-image'; not 'none')",
    path: ["properties", "autoUpgradeProfile", "upgradeChannel"],
    ok: oneOf("stable", "patch", "rapid", "node-image"),
  },
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

const show = (v: Value | undefined): string => (v === undefined ? "absent" : JSON.stringify(v));

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
      const { value, unknownAt } = lookup(res.body, rule.path);
      const field = rule.path.join(".");
      const at = res.locate(rule.path);
      const base = {
        rule: rule.id,
        severity: rule.severity,
        file: at.file,
        line: at.line,
        resourceType: res.type,
        ...(typeof res.name === "string" ? { resourceName: res.name } : {}),
        field,
      };
      if (isUnknown(value)) {
        findings.push({
          ...base,
          verdict: "unknown",
          message: `${rule.title}: cannot be proven statically (${unknownAt || field}: ${value.reason}); ${rule.fix}`,
        });
      } else if (!rule.ok(value)) {
        findings.push({
          ...base,
          verdict: "fail",
          message: `${rule.title}: ${field} is ${show(value)}; ${rule.fix}`,
        });
      }
    }
  }
  return { findings, evaluated };
}
