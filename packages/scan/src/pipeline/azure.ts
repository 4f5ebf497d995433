import { createAzureCredential, type Logger } from "@platform/core";

type Credential = ReturnType<typeof createAzureCredential>;

// Instance discovery asks login.microsoftonline.com about the authority; authorities it does not list
// (Azure Stack, ADFS, a test fake) must skip it.
const MICROSOFT_AUTHORITY =
  /(^|\.)(microsoftonline\.(com|us|de)|chinacloudapi\.cn|partner\.microsoftonline\.cn)$/i;

/**
 * core's Azure credential (GitHub OIDC federation in a job, DefaultAzureCredential elsewhere), created on
 * the first token request: only ACR sign-in, Defender and ACR promotion need Azure, so a run against
 * another registry never asks for OIDC.
 */
export function lazyAzureCredential(env: NodeJS.ProcessEnv, log: Logger): Credential {
  let credential: Credential | undefined;
  const host = env.AZURE_AUTHORITY_HOST ? URL.parse(env.AZURE_AUTHORITY_HOST)?.hostname : undefined;
  return {
    getToken: (...args: Parameters<Credential["getToken"]>) => {
      credential ??= createAzureCredential({
        env,
        log,
        disableInstanceDiscovery: host !== undefined && !MICROSOFT_AUTHORITY.test(host),
      });
      return credential.getToken(...args);
    },
  };
}
