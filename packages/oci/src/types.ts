// OCI image-spec / Docker schema 2 shapes, media types and digest helpers.
import { createHash } from "node:crypto";
import { PlatformError } from "@platform/core";

/** Media types the client understands. */
export const MediaType = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  ociEmpty: "application/vnd.oci.empty.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
} as const;

/** The Accept list for manifest requests: OCI manifest + index, Docker v2 manifest + list. */
export const MANIFEST_ACCEPT = [
  MediaType.ociManifest,
  MediaType.ociIndex,
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
].join(", ");

/** The `{}` blob OCI artifacts use as config. */
export const EMPTY_JSON = new Uint8Array([0x7b, 0x7d]);
export const EMPTY_JSON_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  "os.version"?: string;
  "os.features"?: string[];
}

/** A content descriptor (image-spec descriptor.md). */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
  platform?: Platform;
  data?: string;
}

/** An image manifest (OCI or Docker schema 2). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** An image index / Docker manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export type Manifest = ImageManifest | ImageIndex;

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;
}

export function isManifestMediaType(mediaType: string): boolean {
  return (
    mediaType === MediaType.ociManifest ||
    mediaType === MediaType.dockerManifest ||
    isIndexMediaType(mediaType)
  );
}

export function isIndex(m: Manifest): m is ImageIndex {
  return Array.isArray((m as ImageIndex).manifests);
}

/** `sha256:<hex>` of the bytes. */
export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** The digest of `bytes` with the algorithm `expected` uses. */
export function digestOf(bytes: Uint8Array, algorithm = "sha256"): string {
  if (algorithm !== "sha256" && algorithm !== "sha512") throw unsupportedAlgorithm(algorithm);
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

function unsupportedAlgorithm(algorithm: string): PlatformError {
  return new PlatformError("OCI_DIGEST_UNSUPPORTED", `Digest algorithm "${algorithm}" is not supported`, {
    hint: "Use sha256 (or sha512) digests.",
  });
}

/** An incremental hasher for the algorithm of `expected`. */
export function hasherFor(expected: string): { update(b: Uint8Array): void; digest(): string } {
  const algorithm = expected.slice(0, expected.indexOf(":"));
  if (algorithm !== "sha256" && algorithm !== "sha512") throw unsupportedAlgorithm(algorithm);
  const h = createHash(algorithm);
  return {
    update: (b) => {
      h.update(b);
    },
    digest: () => `${algorithm}:${h.digest("hex")}`,
  };
}

/** Throws `OCI_DIGEST_MISMATCH` unless `bytes` hash to `expected`. */
export function verifyDigest(bytes: Uint8Array, expected: string, what: string): void {
  const actual = digestOf(bytes, expected.slice(0, expected.indexOf(":")));
  if (actual !== expected) throw digestMismatch(what, expected, actual);
}

export function digestMismatch(what: string, expected: string, actual: string): PlatformError {
  return new PlatformError(
    "OCI_DIGEST_MISMATCH",
    `Digest mismatch for ${what}: expected ${expected}, got ${actual}`,
    {
      category: "environment",
      hint: "The content changed in transit or in storage; do not use it. Retry, and if it persists check the registry and any proxy in between.",
    },
  );
}

/** The artifact type of a manifest as the referrers API reports it: `artifactType`, else `config.mediaType`. */
export function artifactTypeOf(m: Manifest): string | undefined {
  if (m.artifactType) return m.artifactType;
  return isIndex(m) ? undefined : m.config?.mediaType;
}

/**
 * Parses manifest bytes into an object; the media type comes from `mediaType` (a header or the
 * caller), else the manifest's own `mediaType` field, else its shape.
 * @throws PlatformError `OCI_MANIFEST_INVALID`
 */
export function parseManifest(
  bytes: Uint8Array,
  mediaType?: string,
  what = "manifest",
): { manifest: Manifest; mediaType: string } {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw invalidManifest(what, "is not JSON", err);
  }
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw invalidManifest(what, "is not an object");
  const m = value as Partial<ImageManifest & ImageIndex>;
  // Both an index's and a manifest's fields make the document mean different things to different
  // clients (CVE-2021-41190): refuse it.
  if ("manifests" in m && ("layers" in m || "config" in m)) {
    throw invalidManifest(what, "has both manifests and layers/config (ambiguous: CVE-2021-41190)");
  }
  if (m.schemaVersion !== 2)
    throw invalidManifest(what, `has schemaVersion ${String(m.schemaVersion)}, not 2`);
  const header = mediaType?.split(";")[0]?.trim();
  const type =
    (header && isManifestMediaType(header) ? header : undefined) ??
    m.mediaType ??
    (Array.isArray(m.manifests) ? MediaType.ociIndex : MediaType.ociManifest);
  if (isIndexMediaType(type)) {
    // Some registries write `"manifests": null` for an empty index.
    if (m.manifests === null || m.manifests === undefined) (m as ImageIndex).manifests = [];
    if (!Array.isArray(m.manifests)) throw invalidManifest(what, "has no manifests list");
    for (const d of m.manifests) checkDescriptor(d, what);
  } else if (isManifestMediaType(type)) {
    if (!m.config) throw invalidManifest(what, "has no config descriptor");
    checkDescriptor(m.config, what);
    if (m.layers === null || m.layers === undefined) m.layers = [];
    if (!Array.isArray(m.layers)) throw invalidManifest(what, "has no layers list");
    for (const d of m.layers) checkDescriptor(d, what);
  } else {
    throw invalidManifest(what, `has the unsupported media type ${type}`);
  }
  if (m.subject) checkDescriptor(m.subject, what);
  return { manifest: m as Manifest, mediaType: type };
}

function checkDescriptor(d: unknown, what: string): void {
  const x = d as Partial<Descriptor> | null;
  if (
    !x ||
    typeof x.mediaType !== "string" ||
    typeof x.digest !== "string" ||
    !/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(x.digest) ||
    typeof x.size !== "number" ||
    !Number.isSafeInteger(x.size) ||
    x.size < 0
  ) {
    throw invalidManifest(what, `has an invalid descriptor ${JSON.stringify(d)?.slice(0, 200)}`);
  }
}

function invalidManifest(what: string, why: string, cause?: unknown): PlatformError {
  return new PlatformError("OCI_MANIFEST_INVALID", `The ${what} ${why}`, {
    category: "environment",
    hint: "Only OCI image manifests/indexes and Docker schema 2 manifests/lists are supported.",
    cause,
  });
}

/** Descriptor of manifest bytes: media type, sha256 digest, size, plus artifactType/annotations given. */
export function describeBytes(
  bytes: Uint8Array,
  mediaType: string,
  extra: Partial<Descriptor> = {},
): Descriptor {
  return { mediaType, digest: sha256Digest(bytes), size: bytes.byteLength, ...extra };
}

/** Encodes a manifest as canonical-enough JSON bytes (no extra white space). */
export function encodeJson(value: unknown): Uint8Array {
  return new Uint8Array(Buffer.from(JSON.stringify(value), "utf8"));
}

/** The digests a manifest points at, children first: index → manifests; image → config + layers. */
export function childDescriptors(m: Manifest): Descriptor[] {
  return isIndex(m) ? [...m.manifests] : [m.config, ...m.layers];
}
