// A local stand-in for Azure Container Registry's token service, held to the published data-plane API
// description (test/fixtures/specs/containerregistry/data-plane/…/2021-07-01/containerregistry.json):
// - POST /oauth2/exchange  (grant_type=access_token, service, [tenant], access_token=<Entra token>)
//   → {"refresh_token": "<ACR refresh JWT>"}
// - POST /oauth2/token     (grant_type=refresh_token, service, scope, refresh_token) → {"access_token": …}
// - GET  /oauth2/token?service&scope (Docker token protocol, Basic credentials) → 401: no admin user here
// Every request's form fields (required, enum) and every answer are checked against the spec; departures
// land in `mismatches`. Access tokens are real registry tokens: JWTs signed (ES256, x5c) with a key whose
// certificate a REAL docker-registry trusts (its `auth.token.rootcertbundle`), carrying only the actions
// the identity's role grants (AcrPull → pull; AcrPush → pull, push) — so the registry itself enforces them.
import { createPrivateKey, randomUUID, sign, X509Certificate } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SPECS_ROOT, SwaggerCatalog } from "../fakes/arm/index.ts";
import { selfSignedCertificate } from "../fakes/entra.ts";

export const ACR_DATA_PLANE_SPEC = `${SPECS_ROOT}/containerregistry/data-plane/Azure.ContainerRegistry/stable/2021-07-01/containerregistry.json`;

export type AcrRole = "AcrPull" | "AcrPush";

export interface AcrTokenFakeOptions {
  /** The registry's service name (the challenge's `service`, the tokens' `aud`). */
  service: string;
  /** The principal an Entra access token belongs to, or undefined to refuse it. */
  acceptAadToken(token: string): string | undefined;
  /** Roles of each principal on the registry. */
  roles(principal: string): AcrRole[];
}

export interface AcrTokenFake {
  url: string;
  /** `<url>/oauth2/token`: the realm the registry's challenge names. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate of the token-signing key (the registry's rootcertbundle). */
  certificatePem: string;
  requests: Array<{ operationId: string; form: Record<string, string[]>; status: number }>;
  mismatches: string[];
  /** Every token issued (refresh and access), for masking assertions. */
  issued: string[];
  /** The next `count` requests get 429 with Retry-After. */
  throttle(count: number, retryAfterSeconds: number): void;
  close(): Promise<void>;
}

const ISSUER = "Azure Container Registry";

export async function startAcrTokenFake(opts: AcrTokenFakeOptions): Promise<AcrTokenFake> {
  const catalog = new SwaggerCatalog([ACR_DATA_PLANE_SPEC]);
  const { cert, key } = await selfSignedCertificate();
  const privateKey = createPrivateKey(key);
  const x5c = new X509Certificate(cert).raw.toString("base64");
  const requests: AcrTokenFake["requests"] = [];
  const mismatches: string[] = [];
  const issued: string[] = [];
  const refreshTokens = new Map<string, string>(); // token → principal
  let throttled = 0;
  let retryAfter = 0;

  const jwt = (claims: Record<string, unknown>): string => {
    const header = Buffer.from(JSON.stringify({ typ: "JWT", alg: "ES256", x5c: [x5c] })).toString(
      "base64url",
    );
    const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
    const sig = sign("sha256", Buffer.from(`${header}.${body}`), {
      key: privateKey,
      dsaEncoding: "ieee-p1363",
    });
    const token = `${header}.${body}.${sig.toString("base64url")}`;
    issued.push(token);
    return token;
  };
  const now = () => Math.floor(Date.now() / 1000);
  const acrError = (status: number, code: string, message: string) => ({
    status,
    body: { errors: [{ code, message }] },
  });

  const handle = (
    method: string,
    url: URL,
    headers: IncomingMessage["headers"],
    form: Record<string, string[]>,
  ) => {
    const path = url.pathname;
    const match = catalog.find(method, path);
    if (!match) {
      mismatches.push(`${method} ${path}: not in the ACR data-plane spec`);
      return { operationId: "(none)", reply: acrError(404, "NOT_FOUND", "no such operation") };
    }
    const op = match.op;
    mismatches.push(
      ...catalog.validateRequest(match, { query: Object.fromEntries(url.searchParams), headers, form }),
    );
    if (op.operationId === "Authentication_GetAcrAccessTokenFromLogin") {
      // The Docker token protocol (what a client without an Entra identity tries): ACR answers it only
      // for admin-user or repository-token Basic credentials, which this registry has none of.
      return {
        operationId: op.operationId,
        reply: acrError(
          401,
          "UNAUTHORIZED",
          "authentication required, visit https://aka.ms/acr/authorization for more information.",
        ),
      };
    }
    const f = (name: string) => form[name]?.[0] ?? "";
    if (f("service") !== opts.service) {
      return {
        operationId: op.operationId,
        reply: acrError(400, "UNAUTHORIZED", `unknown service ${f("service")}`),
      };
    }
    if (op.operationId === "Authentication_ExchangeAadAccessTokenForAcrRefreshToken") {
      if (f("grant_type") !== "access_token") {
        return {
          operationId: op.operationId,
          reply: acrError(400, "UNSUPPORTED", "grant_type must be access_token"),
        };
      }
      const principal = opts.acceptAadToken(f("access_token"));
      if (!principal) {
        return {
          operationId: op.operationId,
          reply: acrError(401, "UNAUTHORIZED", "the AAD access token is not valid"),
        };
      }
      const refresh = jwt({
        jti: randomUUID(),
        sub: principal,
        nbf: now() - 5,
        exp: now() + 3 * 3600,
        iat: now(),
        iss: ISSUER,
        aud: opts.service,
        grant_type: "refresh_token",
        tenant: f("tenant") || undefined,
      });
      refreshTokens.set(refresh, principal);
      return { operationId: op.operationId, reply: { status: 200, body: { refresh_token: refresh } } };
    }
    // Authentication_ExchangeAcrRefreshTokenForAcrAccessToken
    const principal = refreshTokens.get(f("refresh_token"));
    if (f("grant_type") !== "refresh_token" || !principal) {
      return { operationId: op.operationId, reply: acrError(401, "UNAUTHORIZED", "invalid refresh token") };
    }
    const roles = opts.roles(principal);
    const allowed = new Set<string>();
    if (roles.includes("AcrPull") || roles.includes("AcrPush")) allowed.add("pull");
    if (roles.includes("AcrPush")) allowed.add("push");
    const scopes = (form.scope ?? []).flatMap((s) => s.split(" ")).filter(Boolean);
    const access = scopes.map((s) => {
      const [type, ...rest] = s.split(":");
      const actions = rest.pop()!.split(",");
      return { type, name: rest.join(":"), actions: actions.filter((a) => allowed.has(a)) };
    });
    const token = jwt({
      jti: randomUUID(),
      sub: principal,
      nbf: now() - 5,
      exp: now() + 300,
      iat: now(),
      iss: ISSUER,
      aud: opts.service,
      access,
    });
    return { operationId: op.operationId, reply: { status: 200, body: { access_token: token } } };
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake");
      const form: Record<string, string[]> = {};
      if (req.method === "POST") {
        if (!/^application\/x-www-form-urlencoded/.test(req.headers["content-type"] ?? "")) {
          mismatches.push(
            `${req.method} ${url.pathname}: Content-Type ${req.headers["content-type"]} is not form-urlencoded`,
          );
        }
        for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString("utf8"))) {
          form[k] = [...(form[k] ?? []), v];
        }
      }
      if (throttled > 0) {
        throttled--;
        // A throttled call is still one the spec must describe, and the 429 answer its error shape.
        const match = catalog.find(req.method ?? "GET", url.pathname);
        const body = { errors: [{ code: "TOOMANYREQUESTS", message: "throttled" }] };
        if (!match) mismatches.push(`${req.method} ${url.pathname}: not in the ACR data-plane spec`);
        else mismatches.push(...catalog.validateResponse(match.op, 429, body));
        requests.push({ operationId: "(throttled)", form, status: 429 });
        res.writeHead(429, { "retry-after": String(retryAfter), "content-type": "application/json" });
        res.end(JSON.stringify(body));
        return;
      }
      const { operationId, reply } = handle(req.method ?? "GET", url, req.headers, form);
      const op = catalog.byId(operationId);
      if (op) mismatches.push(...catalog.validateResponse(op, reply.status, reply.body));
      requests.push({ operationId, form, status: reply.status });
      res.writeHead(reply.status, { "content-type": "application/json" });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    realm: `${url}/oauth2/token`,
    service: opts.service,
    issuer: ISSUER,
    certificatePem: cert,
    requests,
    mismatches,
    issued,
    throttle(count, seconds) {
      throttled = count;
      retryAfter = seconds;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}
