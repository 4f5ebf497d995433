// The HTTP side of a registry client: per-registry auth (Bearer and Basic challenges, token cache, ACR's
// Entra exchange), retries, request counters, and the mapping of failures to PlatformErrors.
import {
  createLogger,
  fetchWithRetry,
  type Logger,
  PlatformError,
  type RetryOptions,
  redactUrl,
} from "@platform/core";
import {
  ACR_ENTRA_SCOPE,
  authError,
  type Challenge,
  type CredentialProvider,
  jwtExpiry,
  parseWwwAuthenticate,
  type RegistryCredential,
  scopesCover,
  type TokenResponse,
} from "./auth.ts";
import { apiHost, isLoopbackRegistry } from "./reference.ts";
import { errorDetail, notFound, registryError } from "./registry-errors.ts";
import { NODE_UPLOAD_MIN_BYTES, nodeUploadFetch } from "./transport.ts";

/** HTTP requests made by a client (every attempt, token requests included), for benchmarks. */
export interface RequestStats {
  requests: number;
  byMethod: Record<string, number>;
  bytesSent: number;
}

/** What a session needs: credentials, logging, transport and retry policy. */
export interface SessionOptions {
  /** Credentials per registry host; default anonymous everywhere. */
  credentials?: CredentialProvider;
  log?: Logger;
  /** fetch used for every request (tests, proxies). */
  fetch?: typeof fetch;
  userAgent?: string;
  /** Retry policy (429/503 with Retry-After, backoff) for every request. */
  retry?: Omit<RetryOptions, "fetch" | "log">;
}

/** A repository in a registry: `{ registry, repository }` (a Reference works). */
export interface Repo {
  registry: string;
  repository: string;
}

/** For checks made before a write: ask for a pull,push token at once (one token per repository, not two). */
export interface AccessOptions {
  push?: boolean;
}

/** The actions a read asks a token for: pull, or pull,push when a write follows. */
export function access(opts: AccessOptions): string[] {
  return opts.push ? ["pull", "push"] : ["pull"];
}

interface AuthState {
  credential?: RegistryCredential;
  challenge?: Challenge;
  tokens: Array<{ scopes: string[]; token: string; expiresAt: number }>;
  /** Token requests in flight by scope set: concurrent requests (six blob mounts at once) share one. */
  pending: Map<string, Promise<string>>;
  refreshToken?: { token: string; expiresAt: number };
}

/** One request: what a caller of `send` describes. */
export interface SendInit {
  method: string;
  /** Path below the registry root (`/v2/…`) or an absolute URL (upload locations). */
  path: string;
  scopes: string[];
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Statuses that are answers, not failures (the caller reads them). */
  ok: readonly number[];
  /** What this request is, for errors. */
  what: string;
}

const REFRESH_MARGIN_MS = 30_000;

/** One client's connection to registries: auth state per registry, shared by every request it sends. */
export class RegistrySession {
  /** Request counters (every HTTP attempt, token requests included). */
  readonly stats: RequestStats = { requests: 0, byMethod: {}, bytesSent: 0 };
  readonly log: Logger;
  private readonly credentials: CredentialProvider;
  private readonly baseFetch: typeof fetch;
  private readonly customFetch: boolean;
  private readonly userAgent: string;
  private readonly retry: Omit<RetryOptions, "fetch" | "log">;
  private readonly auth = new Map<string, AuthState>();

  constructor(opts: SessionOptions = {}) {
    this.log = opts.log ?? createLogger({ write() {} });
    this.credentials = opts.credentials ?? (() => ({ kind: "anonymous" }));
    this.baseFetch = opts.fetch ?? fetch;
    this.customFetch = opts.fetch !== undefined;
    this.userAgent = opts.userAgent ?? "platform-oci/0.1";
    this.retry = opts.retry ?? {};
  }

  /** Base URL of a registry's API: `https://host` (or `http://` for loopback hosts). */
  baseUrl(registry: string): string {
    return `${isLoopbackRegistry(registry) ? "http" : "https"}://${apiHost(registry)}`;
  }

  /** Makes a Location header absolute against the URL that answered (it may be relative). */
  absolute(registry: string, location: string, responseUrl: string): string {
    return new URL(location, responseUrl || `${this.baseUrl(registry)}/`).toString();
  }

  private counting(): typeof fetch {
    return (input, init) => {
      this.stats.requests++;
      const m = (init?.method ?? "GET").toUpperCase();
      this.stats.byMethod[m] = (this.stats.byMethod[m] ?? 0) + 1;
      const b = init?.body;
      if (b instanceof Uint8Array) this.stats.bytesSent += b.byteLength;
      // Large uploads go through node:http(s) (see transport.ts) unless the caller chose a fetch.
      if (!this.customFetch && b instanceof Uint8Array && b.byteLength >= NODE_UPLOAD_MIN_BYTES) {
        return nodeUploadFetch(input, init);
      }
      return this.baseFetch(input, init);
    };
  }

  /** Sends one request with the registry's auth (answering one challenge), retries and error mapping. */
  async send(registry: string, init: SendInit): Promise<Response> {
    const url = /^https?:\/\//.test(init.path) ? init.path : `${this.baseUrl(registry)}${init.path}`;
    const state = this.state(registry);
    // Credentials go only to the registry's own origin: an upload Location naming another host or
    // plain http:// never receives the Authorization header.
    const ownOrigin = new URL(url).origin === new URL(this.baseUrl(registry)).origin;
    let res: Response | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const authorization = ownOrigin
        ? await this.authorization(registry, init.scopes, attempt > 0)
        : undefined;
      const headers: Record<string, string> = { "User-Agent": this.userAgent, ...init.headers };
      if (authorization) headers.Authorization = authorization;
      if (init.body) headers["Content-Length"] = String(init.body.byteLength);
      res = await fetchWithRetry(
        url,
        { method: init.method, headers, body: init.body as RequestInit["body"] },
        {
          ...this.retry,
          // An upload attempt may take as long as its size needs at a slow 1 MB/s, beyond the default 30 s.
          ...(init.body && init.body.byteLength > 1_000_000 && this.retry.attemptTimeoutMs === undefined
            ? { attemptTimeoutMs: 30_000 + Math.ceil(init.body.byteLength / 1000) }
            : {}),
          fetch: this.counting(),
          log: this.log,
        },
      );
      // Relative Locations resolve against the URL that answered; a custom fetch may not set it.
      if (!res.url) Object.defineProperty(res, "url", { value: url });
      for (const w of res.headers.get("warning")?.split(/,(?=\s*299)/) ?? []) {
        const text = /^\s*299\s+\S+\s+"(.*)"\s*$/.exec(w)?.[1];
        if (text) this.log.warn(`${registry}: ${text}`);
      }
      if (res.status !== 401 || attempt > 0 || !ownOrigin) break;
      const header = res.headers.get("www-authenticate");
      const challenges = header ? parseWwwAuthenticate(header) : [];
      const challenge =
        challenges.find((c) => c.scheme === "bearer") ?? challenges.find((c) => c.scheme === "basic");
      if (!challenge) break;
      await res.body?.cancel();
      state.challenge = challenge;
      // A token that was refused (expired, or granted less than asked) is not asked again.
      state.tokens = state.tokens.filter((t) => !scopesCover(t.scopes, init.scopes));
    }
    res = res!;
    if (init.ok.includes(res.status)) return res;
    const detail = this.log.masker.mask(await errorDetail(res));
    if (res.status === 401 || res.status === 403) {
      const refused = parseWwwAuthenticate(res.headers.get("www-authenticate") ?? "").find(
        (c) => c.params.error,
      );
      const why = refused ? `${refused.params.error}${detail ? `; ${detail}` : ""}` : detail;
      throw authError(registry, res.status, init.scopes, why, isAcr(registry, state));
    }
    if (res.status === 404) throw notFound(`${init.what}`, detail);
    throw registryError(registry, `${init.method} ${init.what}`, res.status, detail);
  }

  private state(registry: string): AuthState {
    let s = this.auth.get(registry);
    if (!s) {
      s = { tokens: [], pending: new Map() };
      this.auth.set(registry, s);
    }
    return s;
  }

  private async credential(registry: string): Promise<RegistryCredential> {
    const s = this.state(registry);
    s.credential ??= await this.credentials(registry);
    if (s.credential.kind === "basic") this.log.secret(s.credential.password);
    if (s.credential.kind === "refresh-token") this.log.secret(s.credential.refreshToken);
    if (s.credential.kind === "bearer") this.log.secret(s.credential.token);
    return s.credential;
  }

  /** The Authorization header for a request, fetching a token for `scopes` if the challenge asks for one. */
  private async authorization(
    registry: string,
    scopes: string[],
    afterChallenge: boolean,
  ): Promise<string | undefined> {
    const s = this.state(registry);
    const cred = await this.credential(registry);
    if (cred.kind === "bearer") return `Bearer ${cred.token}`;
    if (!s.challenge) return undefined;
    if (s.challenge.scheme === "basic") {
      if (cred.kind === "basic")
        return `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString("base64")}`;
      if (cred.kind === "refresh-token" && cred.username) {
        return `Basic ${Buffer.from(`${cred.username}:${cred.refreshToken}`).toString("base64")}`;
      }
      if (afterChallenge)
        throw authError(registry, 401, scopes, "the registry asks for a user name and password");
      return undefined;
    }
    const now = Date.now();
    s.tokens = s.tokens.filter((t) => t.expiresAt > now + 5_000);
    const cached = s.tokens.find((t) => scopesCover(t.scopes, scopes));
    if (cached) return `Bearer ${cached.token}`;
    const key = scopes.join(" ");
    let pending = s.pending.get(key);
    if (!pending) {
      pending = this.fetchToken(registry, s, cred, scopes).finally(() => s.pending.delete(key));
      s.pending.set(key, pending);
    }
    return `Bearer ${await pending}`;
  }

  private async fetchToken(
    registry: string,
    s: AuthState,
    cred: RegistryCredential,
    scopes: string[],
  ): Promise<string> {
    const challenge = s.challenge!;
    const realm = challenge.params.realm;
    if (!realm || !URL.canParse(realm)) {
      throw registryError(
        registry,
        "auth",
        401,
        `the Bearer challenge has no valid realm (${realm ?? "none"})`,
      );
    }
    const realmUrl = new URL(realm);
    if (
      realmUrl.protocol !== "https:" &&
      !(realmUrl.protocol === "http:" && isLoopbackRegistry(realmUrl.host))
    ) {
      throw new PlatformError(
        "OCI_AUTH_INSECURE_REALM",
        `${registry} sends credentials to ${realm} over plain HTTP`,
        {
          category: "environment",
          hint: "Token endpoints must use https (plain http only for loopback test registries).",
        },
      );
    }
    const service = challenge.params.service;
    let refreshToken: string | undefined;
    if (cred.kind === "refresh-token") refreshToken = cred.refreshToken;
    if (cred.kind === "acr") refreshToken = await this.acrRefreshToken(registry, s, cred, realmUrl, service);
    let res: Response;
    const fetchOpts = { ...this.retry, fetch: this.counting(), log: this.log };
    if (refreshToken) {
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken });
      if (service) form.set("service", service);
      form.set("scope", scopes.join(" "));
      // Docker's OAuth2 token flow wants a client_id; ACR's token API (2021-07-01) has no such field.
      if (cred.kind === "refresh-token") form.set("client_id", "platform");
      res = await fetchWithRetry(
        realmUrl,
        {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded", "User-Agent": this.userAgent },
          body: form.toString(),
        },
        { ...fetchOpts, idempotent: true },
      );
    } else {
      const u = new URL(realmUrl);
      if (service) u.searchParams.set("service", service);
      for (const sc of scopes) u.searchParams.append("scope", sc);
      const headers: Record<string, string> = { "User-Agent": this.userAgent };
      if (cred.kind === "basic") {
        headers.Authorization = `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString("base64")}`;
      }
      res = await fetchWithRetry(u, { headers }, fetchOpts);
    }
    if (!res.ok) {
      const detail = this.log.masker.mask(await errorDetail(res));
      throw authError(
        registry,
        res.status,
        scopes,
        `the token service ${redactUrl(realmUrl)} refused: ${detail}`,
        isAcr(registry, s),
      );
    }
    const body = (await res.json().catch(() => ({}))) as TokenResponse;
    const token = this.log.secret(body.token ?? body.access_token);
    if (!token) throw registryError(registry, "token", res.status, "the token response has no token");
    if (body.refresh_token) this.log.secret(body.refresh_token);
    const issued = body.issued_at ? Date.parse(body.issued_at) : Date.now();
    const lifetime = (body.expires_in && body.expires_in > 0 ? body.expires_in : 60) * 1000;
    const expiresAt = Math.min(
      (Number.isNaN(issued) ? Date.now() : Math.min(issued, Date.now())) + lifetime,
      jwtExpiry(token) ?? Number.POSITIVE_INFINITY,
    );
    s.tokens.push({ scopes, token, expiresAt });
    return token;
  }

  /** ACR: an Entra access token exchanged at `/oauth2/exchange` for an ACR refresh token (cached until near expiry). */
  private async acrRefreshToken(
    registry: string,
    s: AuthState,
    cred: Extract<RegistryCredential, { kind: "acr" }>,
    realm: URL,
    service: string | undefined,
  ): Promise<string> {
    if (s.refreshToken && s.refreshToken.expiresAt > Date.now() + REFRESH_MARGIN_MS)
      return s.refreshToken.token;
    const scope = cred.scope ?? ACR_ENTRA_SCOPE;
    const aad = await cred.credential.getToken(scope);
    if (!aad?.token) {
      throw new PlatformError(
        "OCI_ACR_ENTRA_TOKEN",
        `No Entra token for ${scope} to sign in to ${registry}`,
        {
          category: "environment",
          hint: "Check the Azure sign-in (azure/login or OIDC federation) of this job.",
        },
      );
    }
    this.log.secret(aad.token);
    const form = new URLSearchParams({
      grant_type: "access_token",
      service: service ?? registry,
      access_token: aad.token,
    });
    if (cred.tenantId) form.set("tenant", cred.tenantId);
    const url = new URL("/oauth2/exchange", realm);
    const res = await fetchWithRetry(
      url,
      {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "User-Agent": this.userAgent },
        body: form.toString(),
      },
      { ...this.retry, fetch: this.counting(), log: this.log, idempotent: true },
    );
    if (!res.ok) {
      const detail = this.log.masker.mask(await errorDetail(res));
      throw new PlatformError(
        "OCI_ACR_EXCHANGE_FAILED",
        `${registry} refused the Entra token at /oauth2/exchange (HTTP ${res.status})${detail ? `: ${detail}` : ""}`,
        {
          category: "environment",
          hint: "Grant the signed-in identity a role on the registry (AcrPull to read, AcrPush to push), and check that the registry allows Entra authentication.",
        },
      );
    }
    const body = (await res.json().catch(() => ({}))) as { refresh_token?: string };
    const token = this.log.secret(body.refresh_token);
    if (!token)
      throw registryError(registry, "/oauth2/exchange", res.status, "the answer has no refresh_token");
    s.refreshToken = { token, expiresAt: jwtExpiry(token) ?? Date.now() + 60 * 60 * 1000 };
    return token;
  }
}

/** Whether a registry is an ACR, for error hints: signed in as one, or its host or token service says so. */
function isAcr(registry: string, state: AuthState): boolean {
  return (
    state.credential?.kind === "acr" ||
    /\.azurecr\./.test(`${registry} ${state.challenge?.params.service ?? ""}`)
  );
}
