// The Azure credential itself (@azure/identity, MSAL): imported only where a sign-in happens (lazyAzureCredential
// loads this module on its first token request), so actions and CLI commands that never sign in do not load it.
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import {
  ClientAssertionCredential,
  type ClientAssertionCredentialOptions,
  DefaultAzureCredential,
} from "@azure/identity";
import { errorMessage, type Logger, PlatformError } from "@platform/core";
import {
  type AssertionClaims,
  AZURE_TOKEN_EXCHANGE_AUDIENCE,
  type AzureCredentialOptions,
  checkAuthorityHost,
  DEFAULT_AUTHORITY_HOST,
  hasOidcRequestVariables,
  isMicrosoftAuthority,
  nonEmpty,
  oidcUnavailableError,
  peekClaims,
  requestGitHubOidcToken,
  silentLogger,
} from "./oidc.ts";

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
    // The chain reads AZURE_CLIENT_ID from process.env; an env passed in (the CLI's --client-id) must count too.
    const clientId =
      nonEmpty(opts.clientId) ?? (env === process.env ? undefined : nonEmpty(env.AZURE_CLIENT_ID));
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

function findPlatformError(err: unknown): PlatformError | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    if (e instanceof PlatformError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
