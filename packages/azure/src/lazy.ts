import type { TokenCredential } from "@azure/core-auth";
import type { AzureCredentialOptions } from "./oidc.ts";

/**
 * The credential createAzureCredential (@platform/azure/credential) makes, created on the first token request:
 * a run that never needs Azure (an anonymous registry, a PEM key) never asks for GitHub OIDC or loads the Azure
 * SDK, and input errors surface before any sign-in.
 */
export function lazyAzureCredential(opts: AzureCredentialOptions = {}): TokenCredential {
  let credential: TokenCredential | undefined;
  return {
    // async: a sign-in error rejects the token request rather than throwing from it.
    getToken: async (scopes, options) => {
      // @azure/identity (with MSAL, ~300 KiB bundled) is loaded on the first sign-in, not at start-up.
      credential ??= (await import("./credential.ts")).createAzureCredential(opts);
      return credential.getToken(scopes, options);
    },
  };
}
