// Local fakes of the GitHub Actions OIDC token endpoint and the Microsoft Entra v2.0 token
// endpoint, shaped after the published formats:
// - GitHub: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=… with `Authorization: Bearer
//   $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answering `{ "value": "<jwt>" }`; issuer metadata at
//   /.well-known/openid-configuration and keys at /.well-known/jwks.
// - Entra: OpenID metadata at /{tenant}/v2.0/.well-known/openid-configuration and a form POST to
//   /{tenant}/oauth2/v2.0/token (client_credentials + jwt-bearer client_assertion), answering
//   `{ token_type, expires_in, ext_expires_in, access_token }` or an AADSTS error body.
// MSAL only talks to https authorities, so the Entra fake serves TLS with a throwaway
// self-signed certificate made by `openssl` at start-up; callers trust `ca` explicitly.
import { execFile } from "node:child_process";
import { generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign, verify } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

/** One request as the fake saw it, in arrival order. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: string;
  /** Decoded body of an application/x-www-form-urlencoded request. */
  form?: Record<string, string>;
  /** Status the fake answered with. */
  status: number;
  /** True when the answer came from `failNext` rather than the fake's logic. */
  injected: boolean;
}

export interface FailureOptions {
  /** How many matching requests get the injected answer (default 1). */
  count?: number;
  /** Only requests whose path contains this string, or matches this pattern, are affected. */
  path?: string | RegExp;
  headers?: Record<string, string>;
  /** Response body; defaults to a small JSON error. */
  body?: string;
}

export interface FakeServer {
  /** Base URL, `http(s)://127.0.0.1:<ephemeral port>`, without a trailing slash. */
  url: string;
  requests: RecordedRequest[];
  /** Answers the next matching request(s) with `status` instead of the normal response. */
  failNext(status: number, opts?: FailureOptions): void;
  close(): Promise<void>;
}

export interface JwtClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  [claim: string]: unknown;
}

export interface GitHubOidcFakeOptions {
  /** Value for ACTIONS_ID_TOKEN_REQUEST_TOKEN (default: random). */
  requestToken?: string;
  /** `iss` of minted tokens (default GitHub's real issuer). */
  issuer?: string;
  /** `sub` of minted tokens (default a branch subject of octo-org/octo-repo). */
  subject?: string;
  /** Lifetime of minted tokens in seconds (default 300). */
  lifetimeSeconds?: number;
  /** Extra or overriding claims for every minted token. */
  claims?: Record<string, unknown>;
}

export interface GitHubOidcFake extends FakeServer {
  issuer: string;
  requestToken: string;
  /** Value for ACTIONS_ID_TOKEN_REQUEST_URL; carries `?api-version=2.0` like the real one. */
  requestUrl: string;
  /** The variables a job with `permissions: id-token: write` sees. */
  env: Record<string, string>;
  /** Every ID token handed out, in order. */
  minted: Array<{ token: string; claims: JwtClaims }>;
  /** The claims of a token this fake signed and that is unexpired, or undefined. */
  verify(jwt: string, now?: number): JwtClaims | undefined;
}

export interface EntraFakeOptions {
  /**
   * Identity provider whose tokens are accepted as client assertions (normally the GitHub OIDC
   * fake). Without it any JWT-shaped assertion is accepted.
   */
  trust?: { issuer: string; verify(jwt: string, now?: number): JwtClaims | undefined };
  /** Federated-credential subjects allowed; any subject when absent. */
  subjects?: string[];
  /** `expires_in` of issued access tokens (default 3599, as Entra reports it). */
  expiresIn?: number;
}

export interface EntraFake extends FakeServer {
  /** Same as `url`: pass it as `authorityHost` / AZURE_AUTHORITY_HOST. */
  authorityHost: string;
  /** PEM of the self-signed certificate the fake serves; trust it (tlsOptions.ca). */
  ca: string;
  /** Every access token issued, in order, with the request it answered. */
  issued: Array<{ accessToken: string; tenant: string; clientId: string; scope: string; assertion: string }>;
}

export const TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";
const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** Starts a fake GitHub Actions OIDC token endpoint on 127.0.0.1 (plain HTTP). */
export async function startGitHubOidcFake(opts: GitHubOidcFakeOptions = {}): Promise<GitHubOidcFake> {
  const keys = new SigningKey();
  const requestToken = opts.requestToken ?? randomBytes(48).toString("base64url");
  const issuer = opts.issuer ?? "https://token.actions.githubusercontent.com";
  const idTokenPath = `/_apis/distributedtask/hubs/Actions/plans/${randomUUID()}/jobs/${randomUUID()}/idtoken`;
  const minted: GitHubOidcFake["minted"] = [];
  const repository = "octo-org/octo-repo";

  const server = await startFakeServer({}, (req) => {
    if (req.method === "GET" && req.path === "/.well-known/openid-configuration") {
      return json(200, {
        issuer,
        jwks_uri: `${server.url}/.well-known/jwks`,
        subject_types_supported: ["public", "pairwise"],
        response_types_supported: ["id_token"],
        claims_supported: [
          "sub",
          "aud",
          "exp",
          "iat",
          "iss",
          "jti",
          "nbf",
          "ref",
          "repository",
          "repository_owner",
          "run_id",
        ],
        id_token_signing_alg_values_supported: ["RS256"],
        scopes_supported: ["openid"],
      });
    }
    if (req.method === "GET" && req.path === "/.well-known/jwks") return json(200, { keys: [keys.jwk()] });
    if (req.path !== idTokenPath) return json(404, { message: "Not Found" });
    if (req.method !== "GET") return json(405, { message: "Method Not Allowed" });
    const auth = req.headers.authorization ?? "";
    if (!/^bearer /i.test(auth) || auth.slice(7) !== requestToken) {
      return json(401, { message: "The request token is missing, expired or not valid for this job." });
    }
    const now = Math.floor(Date.now() / 1000);
    const claims: JwtClaims = {
      jti: randomUUID(),
      sub: opts.subject ?? `repo:${repository}:ref:refs/heads/main`,
      // Without an audience GitHub defaults to the URL of the repository owner.
      aud: req.query.audience ?? "https://github.com/octo-org",
      ref: "refs/heads/main",
      ref_type: "branch",
      repository,
      repository_owner: "octo-org",
      run_id: "1234567890",
      run_attempt: "1",
      event_name: "push",
      job_workflow_ref: `${repository}/.github/workflows/deliver.yml@refs/heads/main`,
      // The caller workflow (same as job_workflow_ref unless a reusable workflow runs): Fulcio's Build Config URI.
      workflow_ref: `${repository}/.github/workflows/deliver.yml@refs/heads/main`,
      repository_id: "1296269",
      repository_owner_id: "9919",
      repository_visibility: "private",
      sha: "0123456789abcdef0123456789abcdef01234567",
      runner_environment: "github-hosted",
      iss: issuer,
      nbf: now - 300,
      iat: now,
      exp: now + (opts.lifetimeSeconds ?? 300),
      ...opts.claims,
    };
    const token = keys.sign(claims);
    minted.push({ token, claims });
    return json(200, { value: token });
  });

  const requestUrl = `${server.url}${idTokenPath}?api-version=2.0`;
  return Object.assign(server, {
    issuer,
    requestToken,
    requestUrl,
    env: {
      GITHUB_ACTIONS: "true",
      ACTIONS_ID_TOKEN_REQUEST_URL: requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
    },
    minted,
    verify(jwt: string, now = Date.now() / 1000) {
      const claims = keys.verify(jwt);
      return claims && claims.iss === issuer && claims.exp > now ? claims : undefined;
    },
  });
}

/** Starts a fake Microsoft Entra v2.0 authority on https://127.0.0.1 with a fresh self-signed certificate. */
export async function startEntraFake(opts: EntraFakeOptions = {}): Promise<EntraFake> {
  const tls = await selfSignedCertificate();
  const keys = new SigningKey();
  const issued: EntraFake["issued"] = [];
  const expiresIn = opts.expiresIn ?? 3599;

  const server = await startFakeServer(tls, (req) => {
    const metadata = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(req.path);
    if (req.method === "GET" && metadata) return json(200, openIdConfiguration(server.url, metadata[1]!));
    const jwks = /^\/([^/]+)\/discovery\/v2\.0\/keys$/.exec(req.path);
    if (req.method === "GET" && jwks) return json(200, { keys: [keys.jwk()] });
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(req.path);
    if (!token) return json(404, { error: "not_found" });
    if (req.method !== "POST")
      return entraError(req, 405, "invalid_request", 900561, "The endpoint only accepts POST requests.");

    const tenant = token[1]!;
    const form = req.form ?? {};
    for (const param of ["grant_type", "client_id", "scope"]) {
      if (!form[param])
        return entraError(
          req,
          400,
          "invalid_request",
          900144,
          `The request body must contain the following parameter: '${param}'.`,
        );
    }
    if (form.grant_type !== "client_credentials") {
      return entraError(
        req,
        400,
        "unsupported_grant_type",
        70003,
        "The app requested an unsupported grant type.",
      );
    }
    const scope = form.scope!;
    if (!scope.endsWith("/.default")) {
      return entraError(
        req,
        400,
        "invalid_scope",
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    const assertion = form.client_assertion;
    if (!assertion) {
      return entraError(
        req,
        401,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    if (form.client_assertion_type !== JWT_BEARER) {
      return entraError(
        req,
        400,
        "invalid_request",
        900144,
        `The 'client_assertion_type' parameter must be '${JWT_BEARER}'.`,
      );
    }
    const claims = decodeJwt(assertion)?.payload;
    if (!claims) return entraError(req, 401, "invalid_client", 50027, "JWT token is invalid or malformed.");
    if (opts.trust) {
      if (claims.iss !== opts.trust.issuer) {
        return entraError(
          req,
          401,
          "invalid_client",
          700211,
          `No matching federated identity record found for presented assertion issuer '${claims.iss}'.`,
        );
      }
      if (claims.exp <= Date.now() / 1000) {
        return entraError(
          req,
          401,
          "invalid_client",
          700024,
          "Client assertion is not within its valid time range.",
        );
      }
      if (!opts.trust.verify(assertion)) {
        return entraError(req, 401, "invalid_client", 50013, "Assertion failed signature validation.");
      }
    }
    if (claims.aud !== TOKEN_EXCHANGE_AUDIENCE) {
      return entraError(
        req,
        401,
        "invalid_client",
        700212,
        `No matching federated identity record found for presented assertion audience '${claims.aud}'.`,
      );
    }
    if (opts.subjects && !opts.subjects.includes(claims.sub)) {
      return entraError(
        req,
        401,
        "invalid_client",
        700213,
        `No matching federated identity record found for presented assertion subject '${claims.sub}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
      );
    }

    const now = Math.floor(Date.now() / 1000);
    const accessToken = keys.sign({
      aud: scope.slice(0, -"/.default".length),
      iss: `https://sts.windows.net/${tenant}/`,
      iat: now,
      nbf: now,
      exp: now + expiresIn,
      appid: form.client_id,
      idtyp: "app",
      oid: randomUUID(),
      sub: randomUUID(),
      tid: tenant,
      jti: randomUUID(),
      ver: "1.0",
    });
    issued.push({ accessToken, tenant, clientId: form.client_id!, scope, assertion });
    return json(
      200,
      { token_type: "Bearer", expires_in: expiresIn, ext_expires_in: expiresIn, access_token: accessToken },
      echoRequestId(req),
    );
  });

  return Object.assign(server, { authorityHost: server.url, ca: tls.cert, issued });
}

/** Splits a compact JWS into its decoded header and payload; undefined if it is not JWT-shaped. */
export function decodeJwt(
  token: string,
): { header: Record<string, unknown>; payload: JwtClaims } | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return undefined;
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8")),
      payload: JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")),
    };
  } catch {
    return undefined;
  }
}

/** A throwaway self-signed certificate for 127.0.0.1/localhost, made with the `openssl` CLI; nothing is kept on disk. */
export async function selfSignedCertificate(): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), "fake-tls-"));
  try {
    const keyFile = join(dir, "key.pem");
    const certFile = join(dir, "cert.pem");
    // A P-256 key keeps generation fast; the SAN is what Node checks against 127.0.0.1.
    const args =
      "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1";
    await promisify(execFile)("openssl", [
      ...args.split(" "),
      ...["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", keyFile, "-out", certFile],
    ]);
    return { cert: await readFile(certFile, "utf8"), key: await readFile(keyFile, "utf8") };
  } catch (err) {
    throw new Error("The Entra fake needs the openssl CLI to make its TLS certificate", { cause: err });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

type Handler = (req: Omit<RecordedRequest, "status" | "injected">) => Reply;

async function startFakeServer(tls: { cert?: string; key?: string }, handler: Handler): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const failures: Array<{ status: number; remaining: number; opts: FailureOptions }> = [];

  const onRequest = (incoming: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (c: Buffer) => chunks.push(c));
    incoming.on("end", () => {
      const url = new URL(incoming.url ?? "/", "http://fake");
      const body = Buffer.concat(chunks).toString("utf8");
      const isForm = (incoming.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
      const req = {
        method: incoming.method ?? "GET",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: incoming.headers,
        body,
        ...(isForm ? { form: Object.fromEntries(new URLSearchParams(body)) } : {}),
      };
      const failure = failures.find((f) => f.remaining > 0 && pathMatches(req.path, f.opts.path));
      let reply: Reply;
      if (failure) {
        failure.remaining--;
        reply = {
          status: failure.status,
          headers: { "content-type": "application/json", ...failure.opts.headers },
          body: failure.opts.body ?? JSON.stringify({ message: `injected HTTP ${failure.status}` }),
        };
      } else {
        reply = handler(req);
      }
      requests.push({ ...req, status: reply.status, injected: failure !== undefined });
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body);
    });
  };

  const server: Server = tls.cert
    ? createHttpsServer({ cert: tls.cert, key: tls.key }, onRequest)
    : createHttpServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls.cert ? "https" : "http"}://127.0.0.1:${port}`,
    requests,
    failNext(status, opts = {}) {
      failures.push({ status, remaining: opts.count ?? 1, opts });
    },
    close() {
      // Clients keep connections alive; without this, close() would wait for them to idle out.
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function pathMatches(path: string, filter: string | RegExp | undefined): boolean {
  if (filter === undefined) return true;
  return typeof filter === "string" ? path.includes(filter) : filter.test(path);
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}

function echoRequestId(req: { headers: IncomingHttpHeaders }): Record<string, string> {
  const id = req.headers["client-request-id"];
  return typeof id === "string" ? { "client-request-id": id } : {};
}

function entraError(
  req: { headers: IncomingHttpHeaders },
  status: number,
  error: string,
  code: number,
  description: string,
): Reply {
  const traceId = randomUUID();
  const correlationId =
    typeof req.headers["client-request-id"] === "string" ? req.headers["client-request-id"] : randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
  return json(
    status,
    {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
    echoRequestId(req),
  );
}

function openIdConfiguration(base: string, tenant: string): Record<string, unknown> {
  return {
    token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
    jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    // MSAL rejects metadata whose issuer is not on the authority's scheme, host and port.
    issuer: `${base}/${tenant}/v2.0`,
    request_uri_parameter_supported: false,
    authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/${tenant}/oauth2/v2.0/logout`,
    claims_supported: ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver"],
    tenant_region_scope: null,
    cloud_instance_name: "microsoftonline.com",
    cloud_graph_host_name: "graph.windows.net",
    msgraph_host: "graph.microsoft.com",
  };
}

/** An RS256 key pair that signs and checks compact JWS tokens. */
class SigningKey {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  readonly kid = randomBytes(16).toString("hex");

  constructor() {
    const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
  }

  jwk(): Record<string, unknown> {
    return { ...this.publicKey.export({ format: "jwk" }), kid: this.kid, alg: "RS256", use: "sig" };
  }

  sign(claims: Record<string, unknown>): string {
    const header = b64url({ typ: "JWT", alg: "RS256", kid: this.kid });
    const signingInput = `${header}.${b64url(claims)}`;
    return `${signingInput}.${sign("sha256", Buffer.from(signingInput), this.privateKey).toString("base64url")}`;
  }

  verify(token: string): JwtClaims | undefined {
    const decoded = decodeJwt(token);
    if (decoded?.header.alg !== "RS256" || decoded.header.kid !== this.kid) return undefined;
    const [header, payload, signature] = token.split(".");
    const ok = verify(
      "sha256",
      Buffer.from(`${header}.${payload}`),
      this.publicKey,
      Buffer.from(signature!, "base64url"),
    );
    return ok ? decoded.payload : undefined;
  }
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}
