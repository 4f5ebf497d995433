import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import {
  ClientAssertionCredential,
  type ClientAssertionCredentialOptions,
  DefaultAzureCredential,
  type TokenCredentialOptions,
} from "@azure/identity";
import { errorMessage, PlatformError } from "./errors.ts";
import { fetchWithRetry, type RetryOptions } from "./http.ts";
import { createLogger, type Logger } from "./log.ts";

/** The audience Entra ID expects on a federated (workload identity) client assertion. */
export const AZURE_TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

const DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com";

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

/**
 * createAzureCredential, made on the first token request: a run that never needs Azure (an anonymous
 * registry, a PEM key) never asks for GitHub OIDC, and input errors surface before any sign-in.
 */
export function lazyAzureCredential(opts: AzureCredentialOptions = {}): TokenCredential {
  let credential: TokenCredential | undefined;
  return {
    // async: a sign-in error rejects the token request rather than throwing from it.
    getToken: async (scopes, options) => {
      credential ??= createAzureCredential(opts);
      return credential.getToken(scopes, options);
    },
  };
}

/** An Azure credential: GitHub OIDC federation inside a GitHub Actions job, DefaultAzureCredential anywhere else. */
export function createAzureCredential(opts: AzureCredentialOptions = {}): TokenCredential {
  const env = opts.env ?? process.env;
  const log = opts.log ?? silentLogger();
  const authorityHost = checkAuthorityHost(opts.authorityHost ?? nonEmpty(env.AZURE_AUTHORITY_HOST));
  const common = {
    ...opts.clientOptions,
    disableInstanceDiscovery: opts.disableInstanceDiscovery ?? !isMicrosoftAuthority(authorityHost),
  };

  if (!hasOidcRequestVariables(env)) {
    if (env.GITHUB_ACTIONS === "true") throw oidcUnavailableError(env);
    log.debug("No GitHub OIDC token endpoint in the environment; using DefaultAzureCredential");
    const clientId = nonEmpty(opts.clientId);
    return new DefaultAzureCredential({
      ...common,
      ...(authorityHost ? { authorityHost } : {}),
      tenantId: nonEmpty(opts.tenantId) ?? nonEmpty(env.AZURE_TENANT_ID),
      // AZURE_CLIENT_ID is read by the chain itself; an explicit client ID selects the identity.
      ...(clientId ? { managedIdentityClientId: clientId, workloadIdentityClientId: clientId } : {}),
    });
  }

  const tenantId = nonEmpty(opts.tenantId) ?? nonEmpty(env.AZURE_TENANT_ID);
  if (!tenantId) {
    throw new PlatformError(
      "AZURE_TENANT_ID_MISSING",
      "No Entra tenant ID was given for GitHub OIDC sign-in to Azure",
      {
        category: "usage",
        input: "tenant-id",
        hint: "Set the AZURE_TENANT_ID environment variable (or the tenant-id input) to the directory ID of the tenant that holds the app registration.",
      },
    );
  }
  if (!/^[0-9A-Za-z.-]+$/.test(tenantId)) {
    throw new PlatformError("AZURE_TENANT_ID_INVALID", `"${tenantId}" is not a valid Entra tenant ID`, {
      category: "usage",
      input: "tenant-id",
      hint: "Use the tenant's directory ID (a GUID) or its primary domain, such as contoso.onmicrosoft.com.",
    });
  }
  const clientId = nonEmpty(opts.clientId) ?? nonEmpty(env.AZURE_CLIENT_ID);
  if (!clientId) {
    throw new PlatformError(
      "AZURE_CLIENT_ID_MISSING",
      "No client ID was given for GitHub OIDC sign-in to Azure",
      {
        category: "usage",
        input: "client-id",
        hint: "Set the AZURE_CLIENT_ID environment variable (or the client-id input) to the application (client) ID of the app registration or user-assigned managed identity that trusts this repository.",
      },
    );
  }

  const context: FailureContext = { log, tenantId, clientId };
  const fetchAssertion = async (): Promise<string> => {
    const token = await requestGitHubOidcToken(AZURE_TOKEN_EXCHANGE_AUDIENCE, { ...opts, env, log });
    context.lastAssertion = peekClaims(token);
    return token;
  };
  log.debug(`Signing in to Azure with GitHub OIDC federation (tenant ${tenantId}, client ${clientId})`);
  return new GitHubOidcCredential(
    tenantId,
    clientId,
    fetchAssertion,
    { ...common, authorityHost: authorityHost ?? DEFAULT_AUTHORITY_HOST },
    context,
  );
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

interface FailureContext {
  log: Logger;
  tenantId: string;
  clientId: string;
  /** Public claims of the last assertion sent, for hints about the federated credential. */
  lastAssertion?: AssertionClaims;
}

/**
 * A GitHub ID token lives only minutes, so every getToken gets a newly fetched assertion and long
 * jobs keep working after the first one has expired. Within one getToken the fetch is shared:
 * @azure/identity hands the callback to MSAL twice (as the request's assertion and as the app's
 * configured one), and MSAL resolves both before it even looks at its token cache.
 */
class AssertionPerCall {
  private pending: Promise<string> | undefined;
  private readonly fetchAssertion: () => Promise<string>;

  constructor(fetchAssertion: () => Promise<string>) {
    this.fetchAssertion = fetchAssertion;
  }

  /** Starts a new getToken call: the next assertion asked for is fetched anew. */
  renew(): void {
    this.pending = undefined;
  }

  readonly get = (): Promise<string> => {
    if (!this.pending) {
      const attempt = this.fetchAssertion();
      // A failed fetch is not shared: a retry by MSAL or the caller should ask GitHub again.
      attempt.catch(() => {
        if (this.pending === attempt) this.pending = undefined;
      });
      this.pending = attempt;
    }
    return this.pending;
  };
}

/** ClientAssertionCredential that registers each access token for masking and fails with a PlatformError. */
class GitHubOidcCredential extends ClientAssertionCredential {
  private readonly assertions: AssertionPerCall;
  private readonly context: FailureContext;

  constructor(
    tenantId: string,
    clientId: string,
    fetchAssertion: () => Promise<string>,
    options: ClientAssertionCredentialOptions,
    context: FailureContext,
  ) {
    const assertions = new AssertionPerCall(fetchAssertion);
    super(tenantId, clientId, assertions.get, options);
    this.assertions = assertions;
    this.context = context;
  }

  override async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    this.assertions.renew();
    let token: AccessToken;
    try {
      token = await super.getToken(scopes, options);
    } catch (err) {
      throw tokenFailure(err, scopes, this.context);
    }
    this.context.log.secret(token.token);
    return token;
  }
}

function tokenFailure(err: unknown, scopes: string | string[], ctx: FailureContext): PlatformError {
  // MSAL wraps whatever the assertion callback threw; our own error carries the useful hint.
  const own = findPlatformError(err);
  if (own) return own;
  const detail = ctx.log.masker.mask(errorMessage(err));
  const aadsts = /AADSTS(\d+)/.exec(detail)?.[1];
  return new PlatformError(
    "AZURE_TOKEN_FAILED",
    `Entra ID did not issue a token for ${[scopes].flat().join(" ")} (tenant ${ctx.tenantId}, client ${ctx.clientId}): ${detail}`,
    { category: "environment", hint: entraHint(aadsts, ctx), cause: err },
  );
}

function entraHint(aadsts: string | undefined, ctx: FailureContext): string {
  const claims = ctx.lastAssertion;
  switch (aadsts) {
    case "70025":
    case "700211":
    case "700212":
    case "700213":
      return (
        `Add a federated credential to the app or managed identity ${ctx.clientId} with issuer ${claims?.iss ?? "https://token.actions.githubusercontent.com"}, ` +
        `subject ${claims?.sub ?? "repo:<owner>/<repo>:<ref or environment>"} and audience ${AZURE_TOKEN_EXCHANGE_AUDIENCE}; ` +
        "the subject changes with the trigger (branch, tag, environment or pull_request)."
      );
    case "700016":
      return `No application ${ctx.clientId} exists in tenant ${ctx.tenantId}: check AZURE_CLIENT_ID and AZURE_TENANT_ID.`;
    case "90002":
      return `Tenant ${ctx.tenantId} was not found: check AZURE_TENANT_ID (and AZURE_AUTHORITY_HOST for sovereign clouds).`;
    case "700024":
      return "The GitHub OIDC token was outside its validity window when Entra ID checked it; check the runner's clock.";
    default:
      return "Check the federated credential on the app registration and that the runner can reach the Entra authority host.";
  }
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

function oidcUnavailableError(env: NodeJS.ProcessEnv): PlatformError {
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

function checkAuthorityHost(host: string | undefined): string | undefined {
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

function hasOidcRequestVariables(env: NodeJS.ProcessEnv): boolean {
  return (
    nonEmpty(env.ACTIONS_ID_TOKEN_REQUEST_URL) !== undefined &&
    nonEmpty(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) !== undefined
  );
}

interface AssertionClaims {
  iss?: string;
  sub?: string;
  exp?: number;
}

/** The public claims of a JWT, without verifying it; undefined if it is not JWT-shaped. */
/** The claims of a JWT, decoded without verifying it (for expiry and diagnostics); undefined if unreadable. */
export function jwtClaims(jwt: string): Record<string, unknown> | undefined {
  const payload = jwt.split(".")[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as unknown;
    return claims && typeof claims === "object" && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function peekClaims(jwt: string): AssertionClaims | undefined {
  const claims = jwtClaims(jwt);
  if (!claims) return undefined;
  return {
    iss: typeof claims.iss === "string" ? claims.iss : undefined,
    sub: typeof claims.sub === "string" ? claims.sub : undefined,
    exp: typeof claims.exp === "number" ? claims.exp : undefined,
  };
}

function findPlatformError(err: unknown): PlatformError | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    if (e instanceof PlatformError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

// Without a caller's logger, tokens are still registered here so error text can be masked.
function silentLogger(): Logger {
  return createLogger({ write() {} });
}
