// Registry authentication: WWW-Authenticate challenges (RFC 7235 / RFC 6750), the distribution
// token protocol (GET realm with Basic, or the OAuth2 POST form for refresh tokens), and Azure
// Container Registry's Entra → /oauth2/exchange → /oauth2/token flow.
import type { TokenCredential } from "@azure/core-auth";
import { jwtClaims, PlatformError } from "@platform/core";

/** One challenge of a WWW-Authenticate header: the scheme (lower-cased) and its parameters. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a WWW-Authenticate header into its challenges. Parameter values may be quoted strings
 * holding commas and escaped quotes (`scope="repository:a:pull,push"`); names are lower-cased.
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skipWs = () => {
    while (i < n && (header[i] === " " || header[i] === "\t")) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  while (i < n) {
    skipWs();
    while (i < n && header[i] === ",") {
      i++;
      skipWs();
    }
    if (i >= n) break;
    const scheme = token();
    if (!scheme) {
      i++;
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    skipWs();
    // Parameters until the next scheme (a token not followed by "=").
    for (;;) {
      skipWs();
      const save = i;
      const name = token();
      skipWs();
      if (!name || header[i] !== "=") {
        // The start of the next challenge (a token not followed by "=").
        i = save;
        break;
      }
      i++; // "="
      skipWs();
      let value = "";
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === "\\" && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++; // closing quote
      } else {
        const start = i;
        while (i < n && header[i] !== "," && header[i] !== " ") i++;
        value = header.slice(start, i);
      }
      challenge.params[name.toLowerCase()] = value;
      skipWs();
      if (header[i] === ",") {
        i++;
        continue;
      }
      break;
    }
  }
  return out;
}

/** How to sign in to one registry. */
export type RegistryCredential =
  | { kind: "anonymous" }
  | { kind: "basic"; username: string; password: string }
  /** A registry refresh/identity token (docker login with a token; ACR's refresh token). */
  | { kind: "refresh-token"; refreshToken: string; username?: string }
  /** A ready registry access token, sent as-is. */
  | { kind: "bearer"; token: string }
  /** Azure Container Registry with an Entra credential: exchanged for an ACR refresh token. */
  | { kind: "acr"; credential: TokenCredential; tenantId?: string; scope?: string };

/** Maps a registry host to its credential (called once per registry per client). */
export type CredentialProvider = (registry: string) => RegistryCredential | Promise<RegistryCredential>;

/** The Entra scope for ACR's token exchange (the Azure SDK's default audience). */
export const ACR_ENTRA_SCOPE = "https://containerregistry.azure.net/.default";

/** ACR login servers in the public and sovereign clouds. */
export const isAcrHost = (host: string): boolean =>
  /\.azurecr\.(io|us|cn)$|\.azurecr\.microsoftazure\.de$/i.test(host);

/** A credential provider: ACR hosts (`*.azurecr.io` and sovereign clouds) use `credential`; others anonymous. */
export function acrCredentials(
  credential: TokenCredential,
  opts: { tenantId?: string; scope?: string; hosts?: (registry: string) => boolean } = {},
): CredentialProvider {
  const isAcr = opts.hosts ?? isAcrHost;
  return (registry) =>
    isAcr(registry)
      ? { kind: "acr", credential, tenantId: opts.tenantId, scope: opts.scope }
      : { kind: "anonymous" };
}

/** `repository:<name>:<actions>` */
export function repositoryScope(repository: string, actions: readonly string[]): string {
  return `repository:${repository}:${actions.join(",")}`;
}

/** Whether a token granted for `granted` scopes covers every scope in `wanted`. */
export function scopesCover(granted: readonly string[], wanted: readonly string[]): boolean {
  const have = new Map<string, Set<string>>();
  for (const s of granted) {
    const c = s.lastIndexOf(":");
    const key = s.slice(0, c);
    const set = have.get(key) ?? new Set<string>();
    for (const a of s.slice(c + 1).split(",")) set.add(a);
    have.set(key, set);
  }
  return wanted.every((s) => {
    const c = s.lastIndexOf(":");
    const set = have.get(s.slice(0, c));
    return (
      !!set &&
      s
        .slice(c + 1)
        .split(",")
        .every((a) => set.has(a) || set.has("*"))
    );
  });
}

/** The RBAC role that grants a scope, for error hints. */
export function roleHint(registry: string, scopes: readonly string[], acr?: boolean): string {
  const push = scopes.some((s) => /:(?:[^:]*,)?(push|\*)(?:,|$)/.test(s) || s.endsWith(",push"));
  const isAcr = acr ?? /\.azurecr\./.test(registry);
  if (isAcr) {
    return push
      ? "Grant the identity the AcrPush role on the registry (or, on registries with ABAC repository permissions, Container Registry Repository Writer on the repository)."
      : "Grant the identity the AcrPull role on the registry (or, on registries with ABAC repository permissions, Container Registry Repository Reader on the repository).";
  }
  return push
    ? "Give the credential push (write) access to the repository in the registry."
    : "Give the credential pull (read) access to the repository, or check the repository name.";
}

/** JSON from a token endpoint: `token` or `access_token`, optional `expires_in` (default 60 s). */
export interface TokenResponse {
  token?: string;
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  issued_at?: string;
}

/** Expiry (ms epoch) of a JWT from its `exp` claim, without verifying it; undefined if unreadable. */
export function jwtExpiry(jwt: string): number | undefined {
  const exp = jwtClaims(jwt)?.exp;
  return typeof exp === "number" ? exp * 1000 : undefined;
}

export function authError(
  registry: string,
  status: number,
  scopes: readonly string[],
  detail: string,
  acr?: boolean,
): PlatformError {
  const scopeText = scopes.length ? scopes.join(" ") : "(registry access)";
  return new PlatformError(
    status === 403 || /insufficient_scope|denied/i.test(detail) ? "OCI_DENIED" : "OCI_UNAUTHORIZED",
    `${registry} denied ${scopeText} (HTTP ${status})${detail ? `: ${detail}` : ""}`,
    { category: "environment", hint: roleHint(registry, scopes, acr) },
  );
}
