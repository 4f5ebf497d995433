// Referrers (OCI distribution 1.1): the pure parts — the descriptor a referrer is listed under,
// the `sha256-<hex>` fallback tag, and safe add/remove on the fallback index.
import { PlatformError } from "@platform/core";
import {
  artifactTypeOf,
  type Descriptor,
  type ImageIndex,
  type Manifest,
  MediaType,
  sha256Digest,
} from "./types.ts";

/** The fallback tag for a subject digest: `sha256:<hex>` → `sha256-<hex>`. */
export function referrersTag(subjectDigest: string): string {
  const [alg, hex] = subjectDigest.split(":");
  if (!alg || !hex) {
    throw new PlatformError("OCI_DIGEST_INVALID", `"${subjectDigest}" is not a digest (algorithm:hex)`);
  }
  // The tag grammar allows at most 128 characters.
  return `${alg}-${hex}`.slice(0, 128);
}

/** The descriptor a referrer manifest is listed under: its media type, digest, size, artifactType and annotations. */
export function referrerDescriptor(bytes: Uint8Array, mediaType: string, manifest: Manifest): Descriptor {
  const d: Descriptor = { mediaType, digest: sha256Digest(bytes), size: bytes.byteLength };
  const artifactType = artifactTypeOf(manifest);
  if (artifactType) d.artifactType = artifactType;
  if (manifest.annotations && Object.keys(manifest.annotations).length)
    d.annotations = { ...manifest.annotations };
  return d;
}

/** An empty OCI image index. */
export function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
}

/** The index with `d` added (replacing any entry of the same digest); the input is not changed. */
export function addToIndex(index: ImageIndex, d: Descriptor): { index: ImageIndex; changed: boolean } {
  const existing = index.manifests.find((m) => m.digest === d.digest);
  if (existing && JSON.stringify(existing) === JSON.stringify(d)) return { index, changed: false };
  const manifests = index.manifests.filter((m) => m.digest !== d.digest);
  manifests.push(d);
  return { index: { ...index, mediaType: index.mediaType ?? MediaType.ociIndex, manifests }, changed: true };
}

/** The index without the entry for `digest`; the input is not changed. */
export function removeFromIndex(index: ImageIndex, digest: string): { index: ImageIndex; changed: boolean } {
  const manifests = index.manifests.filter((m) => m.digest !== digest);
  if (manifests.length === index.manifests.length) return { index, changed: false };
  return { index: { ...index, manifests }, changed: true };
}

/** Referrer descriptors of the given artifact type (all when undefined), deduplicated by digest. */
export function filterReferrers(descriptors: readonly Descriptor[], artifactType?: string): Descriptor[] {
  const seen = new Set<string>();
  const out: Descriptor[] = [];
  for (const d of descriptors) {
    if (seen.has(d.digest)) continue;
    if (artifactType !== undefined && d.artifactType !== artifactType) continue;
    seen.add(d.digest);
    out.push(d);
  }
  return out;
}

/** The `rel="next"` target of a Link header, if any. */
export function nextLink(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*(.*)$/.exec(part);
    if (m && /(?:^|;)\s*rel="?next"?\s*(?:;|$)/i.test(m[2]!)) return m[1];
  }
  return undefined;
}
