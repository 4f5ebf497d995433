// Image references per the distribution reference grammar (distribution/reference, the grammar
// docker and containerd use). The grammar itself lives in core (checkImageReference) so policy, gitops
// and oci accept exactly the same strings; here a bad reference is an error that names the bad part.
import { checkImageReference, NAME_MAX_LENGTH, PlatformError, TAG_MAX_LENGTH } from "@platform/core";

export { NAME_MAX_LENGTH, TAG_MAX_LENGTH };

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

export interface ParseReferenceOptions {
  /** The action input or CLI option the string came from, named in errors. */
  input?: string;
  /** Require a tag or digest (default false: a bare name is allowed). */
  requireTagOrDigest?: boolean;
  /** Require a digest (e.g. for signing and promotion). */
  requireDigest?: boolean;
}

/**
 * Parses `[registry[:port]/]path[:tag][@digest]` with core's strict grammar (checkImageReference).
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
  const c = checkImageReference(s);
  if (!c.ok) throw bad(c.part, c.why, c.hint);
  if (opts.requireDigest && !c.digest) {
    throw bad("the reference", "has no digest", "Address the image by digest: repo@sha256:<64 hex>.");
  }
  if (opts.requireTagOrDigest && !c.digest && !c.tag)
    throw bad("the reference", "has neither a tag nor a digest");
  return makeReference(c.registry, c.repository, c.tag, c.digest);
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
