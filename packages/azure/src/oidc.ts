// GitHub OIDC → Entra sign-in, the part that needs no Azure SDK at run time: the options, the authority checks
// and the GitHub ID-token request (also used by keyless signing with audience "sigstore").
import type { TokenCredentialOptions } from "@azure/identity";
import {
  createLogger,
  fetchWithRetry,
  jwtClaims,
  type Logger,
  PlatformError,
  type RetryOptions,
} from "@platform/core";

/** The audience Entra ID expects on a federated (workload identity) client assertion. */
export const AZURE_TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

export const DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com";

/** Options for createAzureCredential and requestGitHubOidcToken; everything defaults from the environment. */
export interface AzureCredentialOptions {
  /** Environment to read instead of `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Receives debug lines; every token obtained is registered with its masker. */
  log?: Logger;
  /** Entra tenant (directory) ID; default `AZURE_TENANT_ID`. */
  tenantId?: string;
  /** Application (client) ID of the app registration or managed identity; default `AZURE_CLIENT_ID`. */
  clientId?: string;
  /** Entra authority, e.g. `https://login.microsoftonline.us`; default `AZURE_AUTHORITY_HOST`, else the public cloud. */
  authorityHost?: string;
  /**
   * Skip instance discovery (authority validation through login.microsoftonline.com). Needed for
   * authorities Microsoft does not list, such as Azure Stack, ADFS or a local fake.
   */
  disableInstanceDiscovery?: boolean;
  /** fetch used for the GitHub OIDC token request. */
  fetch?: typeof fetch;
  /** Retry policy for the GitHub OIDC token request. */
  retry?: Omit<RetryOptions, "fetch" | "log">;
  /** Passed to @azure/identity's HTTP pipeline: proxy, TLS trust (`tlsOptions.ca`), retries, an own `httpClient`. */
  clientOptions?: Omit<TokenCredentialOptions, "authorityHost">;
}

// Instance discovery asks login.microsoftonline.com to vouch for the authority; the national clouds are
// listed there, other authorities (Azure Stack, ADFS, a local test fake) are not and must skip it.
const MICROSOFT_AUTHORITY = /(^|\.)(microsoftonline\.(com|us|de)|chinacloudapi\.cn)$/i;

/** True for the public and national-cloud Entra authorities (and for no authority: the public default). */
export function isMicrosoftAuthority(authorityHost: string | undefined): boolean {
  if (!authorityHost) return true;
  const host = URL.parse(authorityHost)?.hostname;
  return host !== undefined && MICROSOFT_AUTHORITY.test(host);
}

/** Requests a GitHub Actions OIDC ID token for `audience` from the job's token endpoint. */
export async function requestGitHubOidcToken(
  audience: string,
  opts: AzureCredentialOptions = {},
): Promise<string> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? silentLogger();
  const base = nonEmpty(env.ACTIONS_ID_TOKEN_REQUEST_URL);
  const requestToken = log.secret(nonEmpty(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN));
  if (!base || !requestToken) throw oidcUnavailableError(env);
  if (!URL.canParse(base)) {
    throw new PlatformError("AZURE_OIDC_URL_INVALID", "ACTIONS_ID_TOKEN_REQUEST_URL is not a valid URL", {
      category: "environment",
      hint: "The runner sets this variable; do not override it in the workflow's env.",
    });
  }
  // The runner's URL already carries `?api-version=…`; the audience is appended, as actions/toolkit does.
  const url = `${base}${base.includes("?") ? "&" : "?"}audience=${encodeURIComponent(audience)}`;
  const response = await fetchWithRetry(
    url,
    { headers: { Authorization: `Bearer ${requestToken}`, Accept: "application/json" } },
    { ...opts.retry, fetch: opts.fetch, log },
  );

  if (!response.ok) {
    // Mask the whole body before cutting it, so no fragment of a token can slip past the masker.
    const text = log.masker.mask(await response.text().catch(() => "")).trim();
    const detail = text ? `: ${text.slice(0, 200)}` : "";
    const rejected = response.status === 401 || response.status === 403 || response.status === 404;
    throw new PlatformError(
      rejected ? "AZURE_OIDC_REJECTED" : "AZURE_OIDC_FAILED",
      `GitHub ${rejected ? "refused" : "could not serve"} the OIDC token request (HTTP ${response.status})${detail}`,
      { category: "environment", hint: oidcStatusHint(response.status) },
    );
  }

  let value: unknown;
  try {
    value = ((await response.json()) as { value?: unknown } | null)?.value;
  } catch {
    value = undefined;
  }
  if (typeof value !== "string" || value === "") {
    throw new PlatformError(
      "AZURE_OIDC_BAD_RESPONSE",
      "GitHub's OIDC token response carried no token in its `value` field",
      {
        category: "environment",
        hint: "GitHub's token service answered unexpectedly; re-run the job, and check githubstatus.com if it persists.",
      },
    );
  }
  log.secret(value);
  const claims = peekClaims(value);
  log.debug(
    `GitHub OIDC token for audience ${audience}: sub=${claims?.sub ?? "?"}, expires ${claims?.exp ? new Date(claims.exp * 1000).toISOString() : "?"}`,
  );
  return value;
}

function oidcStatusHint(status: number): string {
  if (status === 401 || status === 403) {
    return "The ID-token request token is valid only inside the running job that received it; request the token from a step of that job, which needs `permissions: id-token: write`.";
  }
  if (status === 404) {
    return "The job's ID-token endpoint no longer exists; the job has probably finished. Request the token from a step that runs in the job.";
  }
  return "GitHub's token service is failing; re-run the job, and check githubstatus.com if it persists.";
}

export function oidcUnavailableError(env: NodeJS.ProcessEnv): PlatformError {
  if (env.GITHUB_ACTIONS === "true") {
    return new PlatformError(
      "AZURE_OIDC_PERMISSION",
      "This GitHub Actions job may not request an OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN are not set), so it cannot sign in to Azure; it needs `permissions: id-token: write`",
      {
        category: "usage",
        hint: "Add `permissions: { id-token: write, contents: read }` to the workflow job (a permissions block replaces the defaults, so list all the job needs). Workflows triggered from forks never get id-token: write.",
      },
    );
  }
  return new PlatformError(
    "AZURE_OIDC_UNAVAILABLE",
    "A GitHub OIDC token can only be requested inside a GitHub Actions job",
    {
      category: "environment",
      hint: "Outside GitHub Actions, sign in with the Azure CLI (az login) or another DefaultAzureCredential source.",
    },
  );
}

export function checkAuthorityHost(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  if (!URL.canParse(host) || new URL(host).protocol !== "https:") {
    throw new PlatformError(
      "AZURE_AUTHORITY_HOST_INVALID",
      `The Entra authority host "${host}" is not an https URL`,
      {
        category: "usage",
        input: "authority-host",
        hint: "Set AZURE_AUTHORITY_HOST to the https URL of the Entra authority, e.g. https://login.microsoftonline.us, or leave it unset for the public cloud.",
      },
    );
  }
  return host;
}

export function hasOidcRequestVariables(env: NodeJS.ProcessEnv): boolean {
  return (
    nonEmpty(env.ACTIONS_ID_TOKEN_REQUEST_URL) !== undefined &&
    nonEmpty(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) !== undefined
  );
}

export interface AssertionClaims {
  iss?: string;
  sub?: string;
  exp?: number;
}

export function peekClaims(jwt: string): AssertionClaims | undefined {
  const claims = jwtClaims(jwt);
  if (!claims) return undefined;
  return {
    iss: typeof claims.iss === "string" ? claims.iss : undefined,
    sub: typeof claims.sub === "string" ? claims.sub : undefined,
    exp: typeof claims.exp === "number" ? claims.exp : undefined,
  };
}

export function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

// Without a caller's logger, tokens are still registered here so error text can be masked.
export function silentLogger(): Logger {
  return createLogger({ write() {} });
}
