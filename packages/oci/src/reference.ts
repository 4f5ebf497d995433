// Image references per the distribution reference grammar (distribution/reference, the grammar
// docker and containerd use), strict: unlike core's parseImageRef (a lenient classifier for
// policies), a bad reference is an error that names the bad part.
import { IMAGE_GRAMMAR, PlatformError } from "@platform/core";

/** A parsed image reference: `registry/repository[:tag][@digest]`, docker.io normalised. */
export interface Reference {
  /** Registry host as written (lower-cased), with port: `docker.io`, `myacr.azurecr.io`, `127.0.0.1:5000`, `[::1]:5000`. */
  registry: string;
  /** Repository path inside the registry, e.g. `library/nginx`, `team/app`. */
  repository: string;
  tag?: string;
  digest?: string;
  /** Canonical form `registry/repository[:tag][@digest]`. */
  toString(): string;
}

/** Repository names (registry + path) may not exceed this many characters. */
export const NAME_MAX_LENGTH = 255;
/** Tags are at most this many characters (`[\w][\w.-]{0,127}`). */
export const TAG_MAX_LENGTH = 128;

const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6 = /^\[[a-fA-F0-9:.]+(?:%[a-zA-Z0-9._~-]+)?\]$/;
const PORT = /^[0-9]+$/;
const DIGEST_GRAMMAR = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const KNOWN_DIGESTS: Record<string, RegExp> = { sha256: /^[a-f0-9]{64}$/, sha512: /^[a-f0-9]{128}$/ };
const HEX64 = /^[a-f0-9]{64}$/;

export interface ParseReferenceOptions {
  /** The action input or CLI option the string came from, named in errors. */
  input?: string;
  /** Require a tag or digest (default false: a bare name is allowed). */
  requireTagOrDigest?: boolean;
  /** Require a digest (e.g. for signing and promotion). */
  requireDigest?: boolean;
}

/**
 * Parses `[registry[:port]/]path[:tag][@digest]`. The first path component is the registry when it
 * contains `.` or `:`, is `localhost`, an IPv6 literal in brackets, or has upper-case letters;
 * otherwise the registry is `docker.io` and a one-component path gets `library/`. `index.docker.io`
 * and `registry-1.docker.io` are normalised to `docker.io`.
 * @throws PlatformError `OCI_REFERENCE_INVALID` naming the bad part.
 */
export function parseReference(s: string, opts: ParseReferenceOptions = {}): Reference {
  const bad = (part: string, why: string, hint?: string): PlatformError =>
    new PlatformError("OCI_REFERENCE_INVALID", `Invalid image reference "${s}": ${part} ${why}`, {
      input: opts.input,
      hint:
        hint ??
        "Write it as registry/repository[:tag][@sha256:<64 hex>], e.g. myacr.azurecr.io/team/app@sha256:… (repository lower-case).",
    });
  if (typeof s !== "string" || s.length === 0) throw bad("the reference", "is empty");
  if (s !== s.trim() || /\s/.test(s)) throw bad("the reference", "contains white space");
  if (s.includes("://")) {
    throw bad(
      "the reference",
      "has a URL scheme",
      "Drop the scheme (https://, docker://): write host/repo:tag.",
    );
  }

  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_GRAMMAR.test(digest)) throw bad(`the digest "${digest}"`, "is not algorithm:hex");
    const [alg, hex] = digest.split(":") as [string, string];
    const known = KNOWN_DIGESTS[alg];
    if (!known) throw bad(`the digest algorithm "${alg}"`, "is not supported (sha256 or sha512)");
    if (!known.test(hex)) {
      throw bad(`the digest "${digest}"`, `must be ${alg === "sha256" ? 64 : 128} lower-case hex characters`);
    }
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  // A colon after the last slash separates the tag — unless it is inside a bracketed IPv6 host
  // without a path (which the missing slash rules out below anyway).
  if (colon > lastSlash && !(lastSlash < 0 && rest.startsWith("["))) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (tag.length === 0) throw bad("the tag", "is empty");
    if (tag.length > TAG_MAX_LENGTH)
      throw bad(`the tag "${tag.slice(0, 20)}…"`, `is longer than ${TAG_MAX_LENGTH}`);
    if (!IMAGE_GRAMMAR.tag.test(tag)) {
      throw bad(`the tag "${tag}"`, "may only contain letters, digits, _ . - (not starting with . or -)");
    }
  }
  if (rest.length === 0) throw bad("the repository", "is missing");

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
      registry = checkDomain(first, bad);
      path = rest.slice(slash + 1);
    }
  } else if (rest.startsWith("[") || rest === "localhost") {
    throw bad("the repository", "is missing after the registry");
  }
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = "docker.io";

  if (path.length === 0) throw bad("the repository", "is missing after the registry");
  const components = path.split("/");
  for (const c of components) {
    if (c.length === 0) throw bad(`the repository "${path}"`, "has an empty path component");
    if (c !== c.toLowerCase()) {
      throw bad(
        `the repository "${path}"`,
        "must be lower-case",
        "Repository names are lower-case: letters a-z, digits and . _ __ - between them.",
      );
    }
    if (!IMAGE_GRAMMAR.pathComponent.test(c)) {
      throw bad(`the path component "${c}"`, "may only contain a-z 0-9 separated by . _ __ or -");
    }
  }
  if (registry === "docker.io" && components.length === 1) {
    if (HEX64.test(path)) throw bad(`"${path}"`, "looks like an image ID, not a repository name");
    path = `library/${path}`;
  }
  const nameLength = registry.length + 1 + path.length;
  if (nameLength > NAME_MAX_LENGTH) {
    throw bad("the name (registry/repository)", `is ${nameLength} characters; at most ${NAME_MAX_LENGTH}`);
  }
  if (opts.requireDigest && !digest) {
    throw bad("the reference", "has no digest", "Address the image by digest: repo@sha256:<64 hex>.");
  }
  if (opts.requireTagOrDigest && !digest && !tag)
    throw bad("the reference", "has neither a tag nor a digest");
  return makeReference(registry, path, tag, digest);
}

function checkDomain(domain: string, bad: (part: string, why: string) => PlatformError): string {
  let host = domain;
  let port: string | undefined;
  if (domain.startsWith("[")) {
    const close = domain.indexOf("]");
    if (close < 0) throw bad(`the registry "${domain}"`, "has an unclosed IPv6 bracket");
    host = domain.slice(0, close + 1);
    const after = domain.slice(close + 1);
    if (after) {
      if (!after.startsWith(":")) throw bad(`the registry "${domain}"`, "has text after the IPv6 address");
      port = after.slice(1);
    }
    if (!IPV6.test(host)) throw bad(`the registry host "${host}"`, "is not an IPv6 address");
  } else {
    const c = domain.lastIndexOf(":");
    if (c >= 0) {
      host = domain.slice(0, c);
      port = domain.slice(c + 1);
    }
    for (const part of host.split(".")) {
      if (!DOMAIN_COMPONENT.test(part)) throw bad(`the registry host "${host}"`, "is not a valid host name");
    }
  }
  if (port !== undefined && (!PORT.test(port) || Number(port) > 65535 || port.length === 0)) {
    throw bad(`the registry port "${port}"`, "is not a port number (0-65535)");
  }
  return domain.toLowerCase();
}

/** Builds a Reference from parts (already valid); `toString()` gives the canonical form. */
export function makeReference(
  registry: string,
  repository: string,
  tag?: string,
  digest?: string,
): Reference {
  return {
    registry,
    repository,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
    toString() {
      return formatReference(this);
    },
  };
}

/** `registry/repository[:tag][@digest]` */
export function formatReference(r: Pick<Reference, "registry" | "repository" | "tag" | "digest">): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
}

/** The host the distribution API is served from: docker.io's API lives at registry-1.docker.io. */
export function apiHost(registry: string): string {
  return registry === "docker.io" ? "registry-1.docker.io" : registry;
}

/** Whether a registry host is loopback (127.0.0.0/8, ::1, localhost): only these are spoken to over plain HTTP. */
export function isLoopbackRegistry(registry: string): boolean {
  let host = registry;
  if (host.startsWith("[")) host = host.slice(1, host.indexOf("]"));
  else if (host.includes(":")) host = host.slice(0, host.lastIndexOf(":"));
  host = host.toLowerCase();
  return host === "localhost" || host === "::1" || /^127(?:\.\d{1,3}){3}$/.test(host);
}
