/** An image reference split per the distribution reference grammar (docker.io normalised). */
export interface ImageRef {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
  valid: boolean;
}

/** The distribution grammar's pieces (also used to write the same grammar in CEL for native policies). */
export const IMAGE_GRAMMAR = {
  digest: /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/,
  tag: /^[\w][\w.-]{0,127}$/,
  pathComponent: /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/,
} as const;
const { digest: DIGEST, tag: TAG, pathComponent: PATH_COMPONENT } = IMAGE_GRAMMAR;

/**
 * Parses `[registry/]path[:tag][@digest]`. The first component is a registry when it contains a dot
 * or a colon, or is `localhost`; otherwise the registry is docker.io and a single-component path gets
 * `library/`, as docker and containerd resolve it.
 */
export function parseImageRef(ref: string): ImageRef {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split("/");
  let registry = "docker.io";
  const first = parts[0] ?? "";
  if (
    parts.length > 1 &&
    (first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("["))
  ) {
    registry = first.toLowerCase();
    parts.shift();
  }
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = "docker.io";
  if (registry === "docker.io" && parts.length === 1) parts.unshift("library");
  const repository = parts.join("/");
  const valid =
    repository.length > 0 &&
    parts.every((p) => PATH_COMPONENT.test(p)) &&
    (tag === undefined || TAG.test(tag)) &&
    (digest === undefined || DIGEST.test(digest));
  return { registry, repository, tag, digest, valid };
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
