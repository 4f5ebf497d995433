// Managed identities: federated credentials.
import type { IacRule } from "./rule.ts";

/** Rules on user-assigned identities' federated credentials. */
export const IDENTITY_RULES: readonly IacRule[] = [
  {
    id: "Platform.Identity.FederatedAudience",
    severity: "error",
    type: "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
    title: "Federated identity credentials accept only the Entra token exchange audience",
    fix: "set properties.audiences: ['api://AzureADTokenExchange']",
    path: ["properties", "audiences"],
    ok: (v) =>
      Array.isArray(v) &&
      v.length > 0 &&
      v.every((a) => typeof a === "string" && a.toLowerCase() === "api://azureadtokenexchange"),
  },
];
