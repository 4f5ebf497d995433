// The one image-reference grammar of the project: distribution/reference (the grammar docker, containerd
// and so the kubelet use), strict. @platform/oci throws on a bad reference; policies classify with it.

/** An image reference split per the distribution reference grammar (docker.io normalised). */
export interface ImageRef {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
  /** Whether the runtime would accept it (checkImageReference found no problem). */
  valid: boolean;
}

/** Repository names (registry + path) may not exceed this many characters. */
export const NAME_MAX_LENGTH = 255;
/** Tags are at most this many characters (`[\w][\w.-]{0,127}`). */
export const TAG_MAX_LENGTH = 128;

/**
 * The grammar's pieces (also used to write the same grammar in CEL for native policies). `digest` accepts
 * only the algorithms the runtime verifies (sha256 with 64, sha512 with 128 lower-case hex characters).
 */
export const IMAGE_GRAMMAR = {
  digest: /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/,
  tag: /^[\w][\w.-]{0,127}$/,
  pathComponent: /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/,
  domainComponent: /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/,
  port: /^[0-9]+$/,
  /** A whole registry host: name or bracketed IPv6, optional port 0-65535 (what checkImageReference accepts). */
  host: /^(?:\[[a-fA-F0-9:.]+(?:%[a-zA-Z0-9._~-]+)?\]|(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*)(?::0*(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?$/,
} as const;

const IPV6 = /^\[[a-fA-F0-9:.]+(?:%[a-zA-Z0-9._~-]+)?\]$/;
/** distribution's digest syntax; anything matching it but not IMAGE_GRAMMAR.digest is an unsupported algorithm. */
const DIGEST_SYNTAX = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const HEX64 = /^[a-f0-9]{64}$/;

/** A reference the grammar accepts, or the part it refuses and why. */
export type ImageReferenceCheck =
  | { ok: true; registry: string; repository: string; tag?: string; digest?: string }
  | { ok: false; part: string; why: string; hint?: string };

/**
 * Checks `[registry[:port]/]path[:tag][@digest]` against the strict grammar. The first path component is
 * the registry when it contains `.` or `:`, is `localhost`, an IPv6 literal in brackets, or has upper-case
 * letters; otherwise the registry is `docker.io` and a one-component path gets `library/`.
 * `index.docker.io` and `registry-1.docker.io` are normalised to `docker.io`.
 */
export function checkImageReference(s: string): ImageReferenceCheck {
  const bad = (part: string, why: string, hint?: string): ImageReferenceCheck => ({
    ok: false,
    part,
    why,
    ...(hint ? { hint } : {}),
  });
  if (typeof s !== "string" || s.length === 0) return bad("the reference", "is empty");
  if (/\s/.test(s)) return bad("the reference", "contains white space");
  if (s.includes("://"))
    return bad(
      "the reference",
      "has a URL scheme",
      "Drop the scheme (https://, docker://): write host/repo:tag.",
    );

  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_SYNTAX.test(digest)) return bad(`the digest "${digest}"`, "is not algorithm:hex");
    if (!IMAGE_GRAMMAR.digest.test(digest)) {
      const alg = digest.slice(0, digest.indexOf(":"));
      if (alg !== "sha256" && alg !== "sha512")
        return bad(`the digest algorithm "${alg}"`, "is not supported (sha256 or sha512)");
      return bad(
        `the digest "${digest}"`,
        `must be ${alg === "sha256" ? 64 : 128} lower-case hex characters`,
      );
    }
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  // A colon after the last slash separates the tag — unless it is inside a bracketed IPv6 host without a path.
  if (colon > lastSlash && !(lastSlash < 0 && rest.startsWith("["))) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (tag.length === 0) return bad("the tag", "is empty");
    if (tag.length > TAG_MAX_LENGTH)
      return bad(`the tag "${tag.slice(0, 20)}…"`, `is longer than ${TAG_MAX_LENGTH}`);
    if (!IMAGE_GRAMMAR.tag.test(tag))
      return bad(`the tag "${tag}"`, "may only contain letters, digits, _ . - (not starting with . or -)");
  }
  if (rest.length === 0) return bad("the repository", "is missing");

  let registry = "docker.io";
  let path = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (
      first.includes(".") ||
      first.includes(":") ||
      first === "localhost" ||
      first !== first.toLowerCase()
    ) {
      const domain = checkDomain(first);
      if (typeof domain !== "string") return domain;
      registry = domain;
      path = rest.slice(slash + 1);
    }
  } else if (rest.startsWith("[")) {
    return bad("the repository", "is missing after the registry");
  }
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = "docker.io";

  if (path.length === 0) return bad("the repository", "is missing after the registry");
  const components = path.split("/");
  for (const c of components) {
    if (c.length === 0) return bad(`the repository "${path}"`, "has an empty path component");
    if (c !== c.toLowerCase())
      return bad(
        `the repository "${path}"`,
        "must be lower-case",
        "Repository names are lower-case: letters a-z, digits and . _ __ - between them.",
      );
    if (!IMAGE_GRAMMAR.pathComponent.test(c))
      return bad(`the path component "${c}"`, "may only contain a-z 0-9 separated by . _ __ or -");
  }
  if (registry === "docker.io" && components.length === 1) {
    if (HEX64.test(path)) return bad(`"${path}"`, "looks like an image ID, not a repository name");
    path = `library/${path}`;
  }
  const nameLength = registry.length + 1 + path.length;
  if (nameLength > NAME_MAX_LENGTH)
    return bad("the name (registry/repository)", `is ${nameLength} characters; at most ${NAME_MAX_LENGTH}`);
  return {
    ok: true,
    registry,
    repository: path,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

function checkDomain(domain: string): string | ImageReferenceCheck {
  const bad = (part: string, why: string): ImageReferenceCheck => ({ ok: false, part, why });
  let host = domain;
  let port: string | undefined;
  if (domain.startsWith("[")) {
    const close = domain.indexOf("]");
    if (close < 0) return bad(`the registry "${domain}"`, "has an unclosed IPv6 bracket");
    host = domain.slice(0, close + 1);
    const after = domain.slice(close + 1);
    if (after) {
      if (!after.startsWith(":")) return bad(`the registry "${domain}"`, "has text after the IPv6 address");
      port = after.slice(1);
    }
    if (!IPV6.test(host)) return bad(`the registry host "${host}"`, "is not an IPv6 address");
  } else {
    const c = domain.lastIndexOf(":");
    if (c >= 0) {
      host = domain.slice(0, c);
      port = domain.slice(c + 1);
    }
    for (const part of host.split("."))
      if (!IMAGE_GRAMMAR.domainComponent.test(part))
        return bad(`the registry host "${host}"`, "is not a valid host name");
  }
  if (port !== undefined && (!IMAGE_GRAMMAR.port.test(port) || Number(port) > 65535))
    return bad(`the registry port "${port}"`, "is not a port number (0-65535)");
  return domain.toLowerCase();
}

/**
 * Classifies a reference: the strict grammar's parts and `valid: true` when the runtime would accept it;
 * otherwise a best-effort split (for messages) with `valid: false`.
 */
export function parseImageRef(ref: string): ImageRef {
  const c = checkImageReference(ref);
  if (c.ok)
    return { registry: c.registry, repository: c.repository, tag: c.tag, digest: c.digest, valid: true };
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split("/");
  const first = parts[0] ?? "";
  let registry = "docker.io";
  if (parts.length > 1 && (/[.:[]/.test(first) || first === "localhost" || first !== first.toLowerCase())) {
    registry = first.toLowerCase();
    parts.shift();
  }
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = "docker.io";
  if (registry === "docker.io" && parts.length === 1) parts.unshift("library");
  return { registry, repository: parts.join("/"), tag, digest, valid: false };
}

/**
 * Whether an image is from a trusted location: an entry is a registry host (matches all of it) or a
 * host/path prefix, matched on whole path components so `acr.io/team` does not trust `acr.io/teamevil`.
 */
export function isTrustedImage(ref: ImageRef, trusted: readonly string[]): boolean {
  const full = `${ref.registry}/${ref.repository}`;
  return trusted.some((entry) => {
    const e = entry.toLowerCase().replace(/\/+$/, "");
    return full === e || full.startsWith(`${e}/`) || ref.registry === e;
  });
}
