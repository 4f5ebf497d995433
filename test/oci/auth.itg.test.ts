// Registry auth end to end against a REAL docker-registry 2.8 with token auth: its Bearer challenge names
// an ACR-shaped token service (test/oci/acr-fake.ts, held to the ACR data-plane spec) whose JWTs the
// registry verifies. The client signs in like on Azure: GitHub OIDC → Entra (fakes) → @platform/azure's
// credential → POST /oauth2/exchange → POST /oauth2/token per scope. The registry itself enforces the
// actions the role grants, so an AcrPull identity really cannot push.

import { createAzureCredential } from "@platform/azure/credential";
import { isPlatformError, memoryLogger, type PlatformError } from "@platform/core";
import { ACR_ENTRA_SCOPE, copyImage, RegistryClient } from "@platform/oci";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type EntraFake, type GitHubOidcFake, startEntraFake, startGitHubOidcFake } from "../fakes/entra.ts";
import { type RunningRegistry, requireRegistry, startRegistry } from "../harness/registry.ts";
import { type AcrRole, type AcrTokenFake, startAcrTokenFake } from "./acr-fake.ts";
import { pushImage, randomImage } from "./images.ts";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const PUSHER = "11111111-2222-3333-4444-555555555555";
const PULLER = "99999999-2222-3333-4444-555555555555";
const SERVICE = "itgacr.azurecr.io";

describe.skipIf(!requireRegistry("distribution").ok)(
  "ACR token exchange against a token-auth registry",
  () => {
    let github: GitHubOidcFake;
    let entra: EntraFake;
    let acr: AcrTokenFake;
    let reg: RunningRegistry;
    const roles: Record<string, AcrRole[]> = { [PUSHER]: ["AcrPush"], [PULLER]: ["AcrPull"] };

    beforeAll(async () => {
      github = await startGitHubOidcFake();
      entra = await startEntraFake({ trust: github });
      acr = await startAcrTokenFake({
        service: SERVICE,
        acceptAadToken: (t) =>
          entra.issued.find((i) => i.accessToken === t && i.scope === ACR_ENTRA_SCOPE)?.clientId,
        roles: (p) => roles[p] ?? [],
      });
      reg = await startRegistry("distribution", {
        auth: { realm: acr.realm, service: SERVICE, issuer: acr.issuer, certificatePem: acr.certificatePem },
      });
    });
    // After every test: the fake saw nothing its spec does not describe (cleared so a failure names its test).
    afterEach(() => expect(acr?.mismatches.splice(0)).toEqual([]));
    afterAll(async () => {
      await reg?.stop();
      await Promise.all([acr?.close(), entra?.close(), github?.close()]);
    });

    const clientFor = (clientId: string) => {
      const log = memoryLogger();
      const credential = createAzureCredential({
        env: {
          ...github.env,
          AZURE_TENANT_ID: TENANT,
          AZURE_CLIENT_ID: clientId,
          AZURE_AUTHORITY_HOST: entra.url,
        },
        disableInstanceDiscovery: true,
        clientOptions: { tlsOptions: { ca: entra.ca } },
        log,
      });
      return {
        log,
        client: new RegistryClient({
          log,
          credentials: () => ({ kind: "acr", credential, tenantId: TENANT }),
          retry: { baseDelayMs: 1 },
        }),
      };
    };

    it("pushes and pulls with an AcrPush identity: one exchange, one token per scope set, every token masked, spec-clean", async () => {
      const { client, log } = clientFor(PUSHER);
      const before = acr.requests.length;
      acr.throttle(1, 0); // the first exchange is throttled (429 + Retry-After) and retried
      const img = randomImage([2000, 100]);
      const repo = { registry: reg.host, repository: "team/app" };
      await pushImage(client, repo, img, "v1");
      const m = await client.getManifest(`${reg.host}/team/app:v1`);
      expect(m.digest).toBe(img.descriptor.digest);
      const mine = acr.requests.slice(before);
      expect(mine.map((r) => r.operationId)).toEqual([
        "(throttled)",
        "Authentication_ExchangeAadAccessTokenForAcrRefreshToken",
        "Authentication_ExchangeAcrRefreshTokenForAcrAccessToken",
      ]);
      const exchange = mine[1]!.form;
      expect(exchange.grant_type).toEqual(["access_token"]);
      expect(exchange.service).toEqual([SERVICE]);
      expect(exchange.tenant).toEqual([TENANT]);
      expect(mine[2]!.form.scope).toEqual(["repository:team/app:pull,push"]);
      expect(acr.mismatches).toEqual([]);
      // Every token (Entra, ACR refresh, ACR access) was registered with the masker the moment it existed.
      const tokens = [...acr.issued, ...entra.issued.map((i) => i.accessToken)];
      expect(tokens.length).toBeGreaterThanOrEqual(3);
      for (const t of tokens) expect(log.masker.mask(`x ${t} y`)).toBe("x *** y");
      const text = log.lines.map((l) => l.line).join("\n");
      for (const t of tokens) expect(text).not.toContain(t);
    });

    it("a copy within the registry mounts six blobs at once on one token for their scope set", async () => {
      const img = randomImage([100, 200, 300, 400, 500]);
      await pushImage(clientFor(PUSHER).client, { registry: reg.host, repository: "team/src" }, img, "v1");
      const before = acr.requests.length;
      const r = await copyImage(`${reg.host}/team/src:v1`, `${reg.host}/team/dst:v1`, {
        client: clientFor(PUSHER).client,
        referrers: false,
      });
      expect(r.blobs.mounted).toBe(6);
      expect(acr.requests.slice(before).map((q) => q.form?.scope?.join(" ") ?? q.operationId)).toEqual([
        "Authentication_ExchangeAadAccessTokenForAcrRefreshToken",
        "repository:team/src:pull",
        "repository:team/dst:pull,push",
        "repository:team/dst:pull,push repository:team/src:pull",
      ]);
    });

    it("an AcrPull identity reads, and a push fails naming the denied scope and the role that grants it", async () => {
      const { client } = clientFor(PULLER);
      const m = await client.getManifest(`${reg.host}/team/app:v1`);
      expect(m.mediaType).toContain("manifest");
      const img = randomImage([50]);
      const err = (await client
        .pushBlob({ registry: reg.host, repository: "team/app" }, img.layers[0]!)
        .catch((e: unknown) => e)) as PlatformError;
      expect(isPlatformError(err, "OCI_DENIED")).toBe(true);
      expect(err.message).toContain("repository:team/app:pull,push");
      expect(err.hint).toContain("AcrPush");
      expect(err.hint).toContain("Container Registry Repository Writer");
      expect(acr.mismatches).toEqual([]);
    });

    it("an identity without a role on the registry gets a token with no actions, and the registry refuses it", async () => {
      const { client } = clientFor("00000000-aaaa-bbbb-cccc-000000000000");
      // The exchange succeeds (Entra knows the identity); the ACR access token grants nothing on the repository.
      roles["00000000-aaaa-bbbb-cccc-000000000000"] = [];
      const err = (await client.resolve(`${reg.host}/team/app:v1`).catch((e: unknown) => e)) as PlatformError;
      const claims = JSON.parse(Buffer.from(acr.issued.at(-1)!.split(".")[1]!, "base64url").toString());
      expect(claims).toMatchObject({ sub: "00000000-aaaa-bbbb-cccc-000000000000" });
      expect(claims.access).toEqual([{ type: "repository", name: "team/app", actions: [] }]);
      expect(isPlatformError(err, "OCI_DENIED")).toBe(true);
      expect(err.message).toContain("repository:team/app:pull");
      expect(err.hint).toContain("AcrPull");
    });
  },
);
