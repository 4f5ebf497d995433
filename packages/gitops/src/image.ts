// The image reference grammar of distribution/reference, enough to split `name[:tag][@digest]` and to
// compare repositories the way the container runtime resolves them (`nginx` is docker.io/library/nginx).
import { checkImageReference } from "@platform/core";

const DOMAIN_PART = "[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?";
const DOMAIN = `(?:\\[[0-9a-fA-F:]+\\]|${DOMAIN_PART}(?:\\.${DOMAIN_PART})*)(?::[0-9]+)?`;
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const NAME = `(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);

export const TAG_PATTERN: RegExp = new RegExp(`^${TAG}$`);
export const SHA256_DIGEST: RegExp = /^sha256:[0-9a-f]{64}$/;

/** An image reference split into its parts, with where each part sits in the string it came from. */
export interface ParsedImage {
  /** The name as written: registry (if any) and path, without tag or digest. */
  name: string;
  /** The normalised repository, e.g. `docker.io/library/nginx`. */
  repository: string;
  tag?: string;
  digest?: string;
  /** Offsets of the tag (after `:`) and the digest (after `@`) in the parsed string. */
  tagRange?: [number, number];
  digestRange?: [number, number];
}

/** Parses `name[:tag][@digest]`; undefined when the string is not an image reference. */
export function parseImage(ref: string): ParsedImage | undefined {
  const m = REFERENCE.exec(ref);
  // The split needs the offsets; whether the runtime accepts the string is core's one grammar.
  if (!m || !checkImageReference(ref).ok) return undefined;
  const name = m[1]!;
  const repository = normaliseName(name);
  if (!repository) return undefined;
  const out: ParsedImage = { name, repository };
  let at = name.length;
  if (m[2] !== undefined) {
    out.tag = m[2];
    out.tagRange = [at + 1, at + 1 + m[2].length];
    at += 1 + m[2].length;
  }
  if (m[3] !== undefined) {
    out.digest = m[3];
    out.digestRange = [at + 1, at + 1 + m[3].length];
  }
  return out;
}

/**
 * The repository a name resolves to, as the runtime resolves it: a first component with a dot, a colon, an
 * upper-case letter or `localhost` is a registry host (compared case-insensitively); otherwise Docker Hub, with `library/` for
 * official images. Undefined when the name is not a repository name.
 */
export function normaliseRepository(name: string): string | undefined {
  const parsed = parseImage(name);
  return parsed && parsed.tag === undefined && parsed.digest === undefined ? parsed.repository : undefined;
}

function normaliseName(name: string): string {
  const slash = name.indexOf("/");
  const first = slash < 0 ? "" : name.slice(0, slash);
  let host = "docker.io";
  let path = name;
  if (slash >= 0 && (/[.:]/.test(first) || first === "localhost" || first !== first.toLowerCase())) {
    host = first.toLowerCase();
    path = name.slice(slash + 1);
  }
  if (host === "index.docker.io" || host === "registry-1.docker.io") host = "docker.io";
  if (host === "docker.io" && !path.includes("/")) path = `library/${path}`;
  return `${host}/${path}`;
}

/** Joins a Helm-style registry and repository the way charts template them (`{{ registry }}/{{ repository }}`). */
export function joinRegistry(registry: string | undefined, repository: string): string {
  const r = registry?.trim().replace(/\/+$/, "");
  return r ? `${r}/${repository}` : repository;
}
