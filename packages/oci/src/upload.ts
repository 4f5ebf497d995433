// Blob uploads: the existence check, cross-repository mounts, and monolithic or chunked uploads hashed while sent.
import { PlatformError } from "@platform/core";
import { repositoryScope } from "./auth.ts";
import { registryError } from "./registry-errors.ts";
import { type AccessOptions, access, type RegistrySession, type Repo } from "./session.ts";
import type { BlobReader } from "./stream.ts";
import { digestMismatch, hasherFor, sha256Digest, verifyDigest } from "./types.ts";

/** Content to upload: bytes, or a reader that can read any range (files) or sequential ranges (streams). */
export type BlobContent = Uint8Array | BlobReader;

export interface PushBlobOptions {
  /** The blob's digest (required for a reader; computed for bytes). */
  digest?: string;
  /** Repositories in the same registry to try a cross-repository mount from, in order. */
  mountFrom?: readonly string[];
  /** Skip the existence HEAD (the caller just checked). */
  skipExistsCheck?: boolean;
}

export interface PushBlobResult {
  digest: string;
  size: number;
  /** What happened: it was there already, a mount, or an upload (monolithic/chunked). */
  outcome: "exists" | "mounted" | "uploaded" | "uploaded-chunked";
}

export interface MountResult {
  mounted: boolean;
  /** When not mounted, the upload session the registry opened instead (202). */
  uploadLocation?: string;
}

/** Where uploads switch to chunks, and the chunk size. */
export interface UploadLimits {
  monolithicMax: number;
  chunkBytes: number;
}

/** Whether the repository has the blob (HEAD). */
export async function blobExists(
  session: RegistrySession,
  repo: Repo,
  digest: string,
  opts: AccessOptions = {},
): Promise<boolean> {
  const res = await session.send(repo.registry, {
    method: "HEAD",
    path: `/v2/${repo.repository}/blobs/${digest}`,
    scopes: [repositoryScope(repo.repository, access(opts))],
    ok: [200, 404],
    what: `blob ${digest} in ${repo.registry}/${repo.repository}`,
  });
  await res.body?.cancel();
  return res.status === 200;
}

/**
 * Tries a cross-repository mount (`POST …/blobs/uploads/?mount=<digest>&from=<repo>`): 201 means
 * mounted; 202 means the registry opened an upload session instead (returned for the upload).
 */
export async function mountBlob(
  session: RegistrySession,
  repo: Repo,
  from: string,
  digest: string,
): Promise<MountResult> {
  const res = await session.send(repo.registry, {
    method: "POST",
    path: `/v2/${repo.repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
    scopes: [repositoryScope(repo.repository, ["pull", "push"]), repositoryScope(from, ["pull"])],
    headers: { "Content-Length": "0" },
    ok: [201, 202],
    what: `mount of ${digest} from ${from} into ${repo.registry}/${repo.repository}`,
  });
  await res.body?.cancel();
  if (res.status === 201) return { mounted: true };
  const location = res.headers.get("location");
  return location
    ? { mounted: false, uploadLocation: session.absolute(repo.registry, location, res.url) }
    : { mounted: false };
}

/**
 * Uploads a blob unless the repository has it: HEAD first; then a mount from `mountFrom` repos;
 * else POST + PUT (monolithic) or POST + PATCH… + PUT (chunked above `monolithicMaxBytes`).
 * The content is hashed while it is sent; a mismatch aborts before the final PUT.
 */
export async function pushBlob(
  session: RegistrySession,
  limits: UploadLimits,
  repo: Repo,
  content: BlobContent,
  opts: PushBlobOptions = {},
): Promise<PushBlobResult> {
  const size = content instanceof Uint8Array ? content.byteLength : content.size;
  const digest = opts.digest ?? (content instanceof Uint8Array ? sha256Digest(content) : undefined);
  if (!digest)
    throw new PlatformError("OCI_DIGEST_REQUIRED", "pushBlob needs the digest of streamed content");
  if (!opts.skipExistsCheck && (await blobExists(session, repo, digest, { push: true })))
    return { digest, size, outcome: "exists" };
  let location: string | undefined;
  for (const from of opts.mountFrom ?? []) {
    if (from === repo.repository) continue;
    const m = await mountBlob(session, repo, from, digest);
    if (m.mounted) return { digest, size, outcome: "mounted" };
    location = m.uploadLocation;
    if (location) break;
  }
  let minChunk = 0;
  if (!location) {
    const res = await session.send(repo.registry, {
      method: "POST",
      path: `/v2/${repo.repository}/blobs/uploads/`,
      scopes: [repositoryScope(repo.repository, ["pull", "push"])],
      headers: { "Content-Length": "0" },
      ok: [202],
      what: `upload of ${digest} to ${repo.registry}/${repo.repository}`,
    });
    await res.body?.cancel();
    const loc = res.headers.get("location");
    if (!loc) throw registryError(repo.registry, "upload start", 202, "no Location header");
    location = session.absolute(repo.registry, loc, res.url);
    minChunk = Number(res.headers.get("oci-chunk-min-length") ?? 0) || 0;
  }
  const scopes = [repositoryScope(repo.repository, ["pull", "push"])];
  const what = `upload of ${digest} to ${repo.registry}/${repo.repository}`;
  if (size <= limits.monolithicMax) {
    const bytes = content instanceof Uint8Array ? content : await content.read(0, size);
    verifyDigest(bytes, digest, `blob ${digest} (local content)`);
    const res = await session.send(repo.registry, {
      method: "PUT",
      path: withQuery(location, `digest=${encodeURIComponent(digest)}`),
      scopes,
      headers: { "Content-Type": "application/octet-stream" },
      body: bytes,
      ok: [201, 204],
      what,
    });
    await res.body?.cancel();
    checkStoredDigest(res, digest, what);
    return { digest, size, outcome: "uploaded" };
  }
  const chunk = Math.max(limits.chunkBytes, minChunk);
  const hasher = hasherFor(digest);
  let offset = 0;
  while (offset < size) {
    const length = Math.min(chunk, size - offset);
    const bytes =
      content instanceof Uint8Array
        ? content.subarray(offset, offset + length)
        : await content.read(offset, length);
    if (bytes.byteLength !== length) {
      throw new PlatformError(
        "OCI_BLOB_SHORT",
        `Blob ${digest} ended at ${offset + bytes.byteLength} of ${size} bytes`,
      );
    }
    hasher.update(bytes);
    const res = await session.send(repo.registry, {
      method: "PATCH",
      path: location,
      scopes,
      headers: {
        "Content-Type": "application/octet-stream",
        "Content-Range": `${offset}-${offset + length - 1}`,
      },
      body: bytes,
      ok: [202],
      what,
    });
    await res.body?.cancel();
    const loc = res.headers.get("location");
    if (loc) location = session.absolute(repo.registry, loc, res.url);
    offset += length;
  }
  const actual = hasher.digest();
  if (actual !== digest) {
    await cancelUpload(session, repo, location);
    throw digestMismatch(`blob ${digest} (local content)`, digest, actual);
  }
  const res = await session.send(repo.registry, {
    method: "PUT",
    path: withQuery(location, `digest=${encodeURIComponent(digest)}`),
    scopes,
    headers: { "Content-Length": "0" },
    ok: [201, 204],
    what,
  });
  await res.body?.cancel();
  checkStoredDigest(res, digest, what);
  return { digest, size, outcome: "uploaded-chunked" };
}

async function cancelUpload(session: RegistrySession, repo: Repo, location: string): Promise<void> {
  try {
    const res = await session.send(repo.registry, {
      method: "DELETE",
      path: location,
      scopes: [repositoryScope(repo.repository, ["pull", "push"])],
      ok: [200, 202, 204, 404],
      what: "upload cancel",
    });
    await res.body?.cancel();
  } catch {
    // Best effort: registries purge abandoned uploads.
  }
}

function withQuery(location: string, query: string): string {
  return `${location}${location.includes("?") ? "&" : "?"}${query}`;
}

function checkStoredDigest(res: Response, digest: string, what: string): void {
  const stored = res.headers.get("docker-content-digest");
  if (stored && stored !== digest) throw digestMismatch(`${what} (as stored)`, digest, stored);
}
