// Azure sign-in. Importing this loads no Azure SDK: the credential loads @azure/identity on its first token
// request. createAzureCredential (eager) is the subpath @platform/azure/credential.
export { lazyAzureCredential } from "./lazy.ts";
export {
  AZURE_TOKEN_EXCHANGE_AUDIENCE,
  type AzureCredentialOptions,
  isMicrosoftAuthority,
  requestGitHubOidcToken,
} from "./oidc.ts";
