import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { ClientAssertionCredential, DefaultAzureCredential } from "@azure/identity";
import { memoryLogger, PlatformError } from "@platform/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  decodeJwt,
  type EntraFake,
  type GitHubOidcFake,
  startEntraFake,
  startGitHubOidcFake,
} from "../../../test/fakes/entra.ts";
import { thrownPlatformError } from "../../../test/harness/errors.ts";
import { createAzureCredential } from "./credential.ts";
import {
  AZURE_TOKEN_EXCHANGE_AUDIENCE,
  type AzureCredentialOptions,
  isMicrosoftAuthority,
  lazyAzureCredential,
  requestGitHubOidcToken,
} from "./index.ts";

// The Azure SDK reads its log level once, when @azure/logger loads (vitest gives each test file
// a fresh module graph); verbose output to stderr lets the leak test scan what the SDK prints.
vi.hoisted(() => {
  process.env.AZURE_LOG_LEVEL ??= "verbose";
});

const TENANT = "3f5e4c2a-7b1d-4e8f-9a6c-1d2e3f4a5b6c";
const CLIENT = "0f8f0f0e-1d2c-4b5a-9e8d-7c6b5a4f3e2d";
const ARM = "https://management.azure.com/.default";

let github: GitHubOidcFake;
let entra: EntraFake;
let printed: string[];

beforeEach(async () => {
  github = await startGitHubOidcFake();
  entra = await startEntraFake({ trust: github });
  printed = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
      printed.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return true;
    });
  }
});

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all([github.close(), entra.close()]);
});

function options(
  extra: Partial<AzureCredentialOptions> = {},
  env: NodeJS.ProcessEnv = {},
): AzureCredentialOptions {
  return {
    env: {
      ...github.env,
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT,
      AZURE_AUTHORITY_HOST: entra.url,
      ...env,
    },
    disableInstanceDiscovery: true,
    clientOptions: { tlsOptions: { ca: entra.ca } },
    retry: { sleep: async () => {} },
    ...extra,
  };
}

async function tokenFor(credential: TokenCredential, scope: string): Promise<AccessToken> {
  const token = await credential.getToken(scope);
  if (!token) throw new Error(`no token for ${scope}`);
  return token;
}

async function rejection(promise: Promise<unknown>): Promise<PlatformError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PlatformError);
  return err as PlatformError;
}

describe("createAzureCredential on GitHub Actions", () => {
  it("exchanges a GitHub OIDC token for an Entra access token", async () => {
    const credential = createAzureCredential(options());
    expect(credential).toBeInstanceOf(ClientAssertionCredential);

    const token = await tokenFor(credential, ARM);

    expect(entra.issued).toHaveLength(1);
    expect(token.token).toBe(entra.issued[0]!.accessToken);
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now());

    const oidc = github.requests.filter((r) => r.path.endsWith("/idtoken"));
    expect(oidc).toHaveLength(1);
    expect(oidc[0]!.headers.authorization).toBe(`Bearer ${github.requestToken}`);
    expect(oidc[0]!.query).toEqual({ "api-version": "2.0", audience: AZURE_TOKEN_EXCHANGE_AUDIENCE });

    expect(github.minted).toHaveLength(1);
    const minted = github.minted[0]!;
    expect(minted.claims.aud).toBe(AZURE_TOKEN_EXCHANGE_AUDIENCE);
    const tokenRequest = entra.requests.find((r) => r.path === `/${TENANT}/oauth2/v2.0/token`);
    expect(tokenRequest?.form).toMatchObject({
      grant_type: "client_credentials",
      client_id: CLIENT,
      scope: ARM,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: minted.token,
    });
    // MSAL resolves the token endpoint from the tenant's OpenID metadata before the first request.
    expect(entra.requests[0]!.path).toBe(`/${TENANT}/v2.0/.well-known/openid-configuration`);
  });

  it("mints a fresh OIDC token for every token request", async () => {
    const credential = createAzureCredential(options());
    await credential.getToken(ARM);
    await credential.getToken("https://vault.azure.net/.default");

    expect(github.minted).toHaveLength(2);
    expect(github.minted[0]!.token).not.toBe(github.minted[1]!.token);
    expect(entra.issued.map((i) => i.assertion)).toEqual(github.minted.map((m) => m.token));
  });

  it("fetches a new assertion when the cached access token is about to expire", async () => {
    await entra.close();
    // MSAL treats a token with less than five minutes left as expired and asks Entra again.
    entra = await startEntraFake({ trust: github, expiresIn: 120 });
    const credential = createAzureCredential(options());

    const first = await tokenFor(credential, ARM);
    const second = await tokenFor(credential, ARM);

    expect(first.token).not.toBe(second.token);
    expect(entra.issued).toHaveLength(2);
    expect(entra.issued.map((i) => i.assertion)).toEqual(github.minted.map((m) => m.token));
    expect(new Set(entra.issued.map((i) => i.assertion)).size).toBe(2);
  });

  it("serves a still-valid access token from MSAL's cache", async () => {
    const credential = createAzureCredential(options());
    const first = await tokenFor(credential, ARM);
    const again = await tokenFor(credential, ARM);
    expect(again.token).toBe(first.token);
    expect(entra.issued).toHaveLength(1);
  });

  it("gives concurrent token requests valid assertions", async () => {
    const credential = createAzureCredential(options());
    const scopes = [ARM, "https://vault.azure.net/.default", "https://storage.azure.com/.default"];
    const tokens = await Promise.all(scopes.map((scope) => tokenFor(credential, scope)));
    expect(new Set(tokens.map((t) => t.token)).size).toBe(3);
    expect(entra.issued.map((i) => i.scope).sort()).toEqual([...scopes].sort());
    const minted = new Set(github.minted.map((m) => m.token));
    for (const issued of entra.issued) expect(minted.has(issued.assertion)).toBe(true);
  });

  it("never prints or logs a token, and registers each one for masking", async () => {
    const log = memoryLogger();
    const credential = createAzureCredential(options({ log }));
    const tokens = [
      (await tokenFor(credential, ARM)).token,
      (await tokenFor(credential, "https://vault.azure.net/.default")).token,
    ];
    github.failNext(403, { body: JSON.stringify({ message: `bad request token ${github.requestToken}` }) });
    const failure = await rejection(credential.getToken("https://storage.azure.com/.default"));

    const secrets = [
      github.requestToken,
      ...github.minted.map((m) => m.token),
      ...entra.issued.map((i) => i.accessToken),
    ];
    expect(secrets).toHaveLength(5);
    expect(entra.issued.map((i) => i.accessToken)).toEqual(tokens);

    const output = [
      ...log.lines.map((l) => l.line),
      ...printed,
      failure.message,
      failure.hint ?? "",
      failure.describe(),
      String(failure.stack),
    ].join("\n");
    expect(log.lines.length).toBeGreaterThan(0);
    expect(printed.join("")).toContain("ClientAssertionCredential");
    for (const secret of secrets) {
      expect(output).not.toContain(secret);
      // Registered at creation: the logger masks it from now on.
      expect(log.masker.mask(`x ${secret} y`)).toBe("x *** y");
    }
  });

  it("turns an Entra rejection into a PlatformError with a federated-credential hint", async () => {
    await entra.close();
    entra = await startEntraFake({ trust: github, subjects: ["repo:octo-org/octo-repo:environment:prod"] });
    const log = memoryLogger();

    const err = await rejection(createAzureCredential(options({ log })).getToken(ARM));

    expect(err.code).toBe("AZURE_TOKEN_FAILED");
    expect(err.category).toBe("environment");
    expect(err.message).toContain("AADSTS700213");
    expect(err.hint).toContain("repo:octo-org/octo-repo:ref:refs/heads/main");
    expect(err.hint).toContain(AZURE_TOKEN_EXCHANGE_AUDIENCE);
    expect(err.message).not.toContain(github.minted[0]!.token);
  });
});

describe("createAzureCredential configuration", () => {
  it("requires id-token: write when GitHub Actions gives no OIDC endpoint", () => {
    const err = thrownPlatformError(() =>
      createAzureCredential({
        env: { GITHUB_ACTIONS: "true", AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT },
      }),
    );
    expect(err.code).toBe("AZURE_OIDC_PERMISSION");
    expect(`${err.message}\n${err.hint}`).toContain("id-token: write");
  });

  it("names AZURE_CLIENT_ID when the client ID is missing", () => {
    const err = thrownPlatformError(() => createAzureCredential(options({}, { AZURE_CLIENT_ID: "" })));
    expect(err.code).toBe("AZURE_CLIENT_ID_MISSING");
    expect(err.category).toBe("usage");
    expect(err.input).toBe("client-id");
    expect(err.hint).toContain("AZURE_CLIENT_ID");
  });

  it("names AZURE_TENANT_ID when the tenant ID is missing", () => {
    const err = thrownPlatformError(() => createAzureCredential(options({}, { AZURE_TENANT_ID: undefined })));
    expect(err.code).toBe("AZURE_TENANT_ID_MISSING");
    expect(err.hint).toContain("AZURE_TENANT_ID");
  });

  it("prefers explicit IDs over the environment", async () => {
    const credential = createAzureCredential(
      options({ tenantId: "contoso.onmicrosoft.com", clientId: "explicit-client" }),
    );
    await credential.getToken(ARM);
    expect(entra.issued[0]).toMatchObject({ tenant: "contoso.onmicrosoft.com", clientId: "explicit-client" });
  });

  it("rejects an authority host that is not https", () => {
    const err = thrownPlatformError(() =>
      createAzureCredential(options({ authorityHost: "http://127.0.0.1:1" })),
    );
    expect(err.code).toBe("AZURE_AUTHORITY_HOST_INVALID");
  });

  it("uses DefaultAzureCredential outside GitHub Actions", () => {
    expect(createAzureCredential({ env: {} })).toBeInstanceOf(DefaultAzureCredential);
  });
});

describe("requestGitHubOidcToken", () => {
  it("returns the minted token and appends the audience to a URL without a query", async () => {
    const bare = github.requestUrl.replace(/\?.*$/, "");
    const token = await requestGitHubOidcToken("sts.amazonaws.com", {
      env: { ...github.env, ACTIONS_ID_TOKEN_REQUEST_URL: bare },
    });
    expect(token).toBe(github.minted[0]!.token);
    expect(decodeJwt(token)?.payload).toMatchObject({ aud: "sts.amazonaws.com", iss: github.issuer });
    expect(github.requests[0]!.query).toEqual({ audience: "sts.amazonaws.com" });
  });

  it("fails with a hint and without any token on 403", async () => {
    github.failNext(403, { body: JSON.stringify({ message: `token ${github.requestToken} is not valid` }) });
    const log = memoryLogger();
    const err = await rejection(
      requestGitHubOidcToken(AZURE_TOKEN_EXCHANGE_AUDIENCE, { env: github.env, log }),
    );
    expect(err.code).toBe("AZURE_OIDC_REJECTED");
    expect(err.category).toBe("environment");
    expect(err.message).toContain("HTTP 403");
    expect(err.hint).toContain("id-token: write");
    expect(err.describe()).not.toContain(github.requestToken);
    expect(log.lines.map((l) => l.line).join("\n")).not.toContain(github.requestToken);
  });

  it("rejects a stale request token (401) and an unknown endpoint (404) clearly", async () => {
    const denied = await rejection(
      requestGitHubOidcToken("aud", {
        env: { ...github.env, ACTIONS_ID_TOKEN_REQUEST_TOKEN: "expired-token" },
      }),
    );
    expect(denied.code).toBe("AZURE_OIDC_REJECTED");
    expect(denied.message).toContain("HTTP 401");
    expect(denied.message).not.toContain("expired-token");

    const missing = await rejection(
      requestGitHubOidcToken("aud", {
        env: { ...github.env, ACTIONS_ID_TOKEN_REQUEST_URL: `${github.url}/gone?api-version=2.0` },
      }),
    );
    expect(missing.code).toBe("AZURE_OIDC_REJECTED");
    expect(missing.hint).toMatch(/finished/);
  });

  it("retries a 503 and then succeeds", async () => {
    github.failNext(503, { headers: { "retry-after": "0" } });
    const token = await requestGitHubOidcToken(AZURE_TOKEN_EXCHANGE_AUDIENCE, {
      env: github.env,
      retry: { sleep: async () => {} },
    });
    expect(token).toBe(github.minted[0]!.token);
    expect(github.requests.map((r) => [r.status, r.injected])).toEqual([
      [503, true],
      [200, false],
    ]);
  });

  it("reports a response without a token and keeps the body out of the message", async () => {
    github.failNext(200, { body: JSON.stringify({ count: 1 }) });
    const err = await rejection(requestGitHubOidcToken("aud", { env: github.env }));
    expect(err.code).toBe("AZURE_OIDC_BAD_RESPONSE");
  });

  it("explains that OIDC needs a GitHub Actions job", async () => {
    const err = await rejection(requestGitHubOidcToken("aud", { env: {} }));
    expect(err.code).toBe("AZURE_OIDC_UNAVAILABLE");
  });
});

describe("authorities and the lazy credential", () => {
  it("knows the Microsoft authorities, so instance discovery is skipped only for others", () => {
    expect(isMicrosoftAuthority(undefined)).toBe(true);
    expect(isMicrosoftAuthority("https://login.microsoftonline.com")).toBe(true);
    expect(isMicrosoftAuthority("https://login.microsoftonline.us/")).toBe(true);
    expect(isMicrosoftAuthority("https://login.chinacloudapi.cn")).toBe(true);
    expect(isMicrosoftAuthority("https://127.0.0.1:8443")).toBe(false);
    expect(isMicrosoftAuthority("https://adfs.contoso.com/adfs")).toBe(false);
    expect(isMicrosoftAuthority("https://login.microsoftonline.com.evil.example")).toBe(false);
  });

  it("signs in only when a token is first asked for", async () => {
    // On GitHub without the OIDC variables createAzureCredential throws; lazily, only at getToken.
    const lazy = lazyAzureCredential({ env: { GITHUB_ACTIONS: "true" } });
    await expect(lazy.getToken("https://management.azure.com/.default")).rejects.toThrow(/id-token: write/);
  });
});
