// The OCI distribution client: manifests and tags, blob reads verified against their digest, and the
// doors to uploads (upload.ts) and referrers (referrers-client.ts); auth and HTTP live in session.ts.
import { PlatformError } from "@platform/core";
import { repositoryScope } from "./auth.ts";
import { parseReference, type Reference } from "./reference.ts";
import { nextLink } from "./referrers.ts";
import { type PushReferrerResult, ReferrersClient, type ReferrersResult } from "./referrers-client.ts";
import { notFound } from "./registry-errors.ts";
import {
  type AccessOptions,
  access,
  RegistrySession,
  type Repo,
  type RequestStats,
  type SessionOptions,
} from "./session.ts";
import { type BlobReader, readLimited, streamReader, verifyingStream } from "./stream.ts";
import {
  type Descriptor,
  digestMismatch,
  MANIFEST_ACCEPT,
  type Manifest,
  parseManifest,
  sha256Digest,
  verifyDigest,
} from "./types.ts";
import {
  type BlobContent,
  blobExists,
  type MountResult,
  mountBlob,
  type PushBlobOptions,
  type PushBlobResult,
  pushBlob,
  type UploadLimits,
} from "./upload.ts";

export interface RegistryClientOptions extends SessionOptions {
  /** Blobs larger than this are uploaded in chunks (POST + PATCH… + PUT); default 64 MiB. */
  monolithicMaxBytes?: number;
  /** Chunk size for chunked uploads (default 16 MiB; raised to the registry's OCI-Chunk-Min-Length). */
  chunkBytes?: number;
  /** Largest manifest accepted on download (default 4 MiB). */
  maxManifestBytes?: number;
}

/** A downloaded, digest-verified manifest. */
export interface FetchedManifest {
  bytes: Uint8Array;
  mediaType: string;
  digest: string;
  size: number;
  descriptor: Descriptor;
  manifest: Manifest;
  /** The registry's ETag for it, when it sent one (for conditional writes). */
  etag?: string;
}

export interface PutManifestResult {
  descriptor: Descriptor;
  /** The registry's `OCI-Subject` answer (a 1.1 registry with the referrers API sends it for manifests with a subject). */
  ociSubject?: string;
}

const DEFAULT_MONOLITHIC_MAX = 64 * 1024 * 1024;
const DEFAULT_CHUNK = 16 * 1024 * 1024;
const DEFAULT_MAX_MANIFEST = 4 * 1024 * 1024;

/** Accepts a Reference or a string (parsed). */
export function toRef(ref: Reference | string): Reference {
  return typeof ref === "string" ? parseReference(ref) : ref;
}

/**
 * An OCI distribution client. Plain HTTP is used only for loopback registries (127.0.0.1, ::1,
 * localhost), TLS everywhere else. Every manifest and blob downloaded is verified against its digest.
 */
export class RegistryClient {
  /** Request counters (every HTTP attempt, token requests included). */
  readonly stats: RequestStats;
  private readonly session: RegistrySession;
  private readonly limits: UploadLimits;
  private readonly maxManifest: number;
  private readonly referrers: ReferrersClient;

  constructor(opts: RegistryClientOptions = {}) {
    this.session = new RegistrySession(opts);
    this.stats = this.session.stats;
    this.limits = {
      monolithicMax: opts.monolithicMaxBytes ?? DEFAULT_MONOLITHIC_MAX,
      chunkBytes: opts.chunkBytes ?? DEFAULT_CHUNK,
    };
    this.maxManifest = opts.maxManifestBytes ?? DEFAULT_MAX_MANIFEST;
    this.referrers = new ReferrersClient(this.session, this, this.maxManifest);
  }

  /** Base URL of a registry's API: `https://host` (or `http://` for loopback hosts). */
  baseUrl(registry: string): string {
    return this.session.baseUrl(registry);
  }

  // ── manifests ────────────────────────────────────────────────────────────────────────────

  /** HEAD the manifest (full Accept list) and return its descriptor; a tag is resolved to a digest. */
  async resolve(ref: Reference | string): Promise<Descriptor> {
    const d = await this.tryResolve(ref);
    if (!d) throw notFound(`manifest ${toRef(ref)}`);
    return d;
  }

  /** Like resolve, but undefined when the manifest does not exist. */
  async tryResolve(ref: Reference | string, opts: AccessOptions = {}): Promise<Descriptor | undefined> {
    const r = toRef(ref);
    const reference = r.digest ?? r.tag ?? "latest";
    const res = await this.session.send(r.registry, {
      method: "HEAD",
      path: `/v2/${r.repository}/manifests/${reference}`,
      scopes: [repositoryScope(r.repository, access(opts))],
      headers: { Accept: MANIFEST_ACCEPT },
      ok: [200, 404],
      what: `manifest ${r}`,
    });
    if (res.status === 404) return undefined;
    const digest = res.headers.get("docker-content-digest");
    // An absent Content-Length is no size (Number(null) would be 0 and end up in signed descriptors).
    const length = res.headers.get("content-length");
    const size = length === null || !/^\d+$/.test(length.trim()) ? Number.NaN : Number(length);
    const mediaType = res.headers.get("content-type")?.split(";")[0]?.trim();
    if (!digest || !Number.isSafeInteger(size) || !mediaType || (r.digest && digest !== r.digest)) {
      // The registry does not describe it on HEAD (or disagrees with the digest asked for): GET it.
      const m = await this.getManifest(r);
      return m.descriptor;
    }
    return { mediaType, digest, size };
  }

  /** GET a manifest (full Accept list); verified against the digest asked for, or the registry's Docker-Content-Digest. */
  async getManifest(ref: Reference | string): Promise<FetchedManifest> {
    const r = toRef(ref);
    const m = await this.tryGetManifest(r);
    if (!m) throw notFound(`manifest ${r}`);
    return m;
  }

  /** Like getManifest, but undefined when the manifest does not exist. */
  async tryGetManifest(ref: Reference | string): Promise<FetchedManifest | undefined> {
    const r = toRef(ref);
    const reference = r.digest ?? r.tag ?? "latest";
    const res = await this.session.send(r.registry, {
      method: "GET",
      path: `/v2/${r.repository}/manifests/${reference}`,
      scopes: [repositoryScope(r.repository, ["pull"])],
      headers: { Accept: MANIFEST_ACCEPT },
      ok: [200, 404],
      what: `manifest ${r}`,
    });
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    const bytes = await readLimited(res, this.maxManifest, `manifest ${r}`);
    const headerDigest = res.headers.get("docker-content-digest") ?? undefined;
    const expected = r.digest ?? (headerDigest?.startsWith("sha") ? headerDigest : undefined);
    if (expected) verifyDigest(bytes, expected, `manifest ${r}`);
    const { manifest, mediaType } = parseManifest(
      bytes,
      res.headers.get("content-type") ?? undefined,
      `manifest ${r}`,
    );
    const digest = expected ?? sha256Digest(bytes);
    const etag = res.headers.get("etag") ?? undefined;
    return {
      bytes,
      mediaType,
      digest,
      size: bytes.byteLength,
      descriptor: { mediaType, digest, size: bytes.byteLength },
      manifest,
      ...(etag ? { etag } : {}),
    };
  }

  /**
   * PUT manifest bytes as-is under `reference` (a tag or digest; default: the digest of the bytes).
   * Content-Type is the manifest's media type.
   */
  async putManifest(
    repo: Repo,
    bytes: Uint8Array,
    mediaType: string,
    reference?: string,
    opts: { ifMatch?: string } = {},
  ): Promise<PutManifestResult> {
    const digest = sha256Digest(bytes);
    const ref = reference ?? digest;
    const res = await this.session.send(repo.registry, {
      method: "PUT",
      path: `/v2/${repo.repository}/manifests/${ref}`,
      scopes: [repositoryScope(repo.repository, ["pull", "push"])],
      headers: { "Content-Type": mediaType, ...(opts.ifMatch ? { "If-Match": opts.ifMatch } : {}) },
      body: bytes,
      ok: [200, 201, 202],
      what: `manifest ${repo.registry}/${repo.repository}:${ref}`,
    });
    await res.body?.cancel();
    const answered = res.headers.get("docker-content-digest");
    if (answered?.startsWith("sha256:") && answered !== digest) {
      throw digestMismatch(
        `manifest ${repo.registry}/${repo.repository}:${ref} (as stored)`,
        digest,
        answered,
      );
    }
    const ociSubject = res.headers.get("oci-subject") ?? undefined;
    return {
      descriptor: { mediaType, digest, size: bytes.byteLength },
      ...(ociSubject ? { ociSubject } : {}),
    };
  }

  /** DELETE a manifest by digest (the registry must allow deletes). */
  async deleteManifest(repo: Repo, digest: string): Promise<void> {
    const res = await this.session.send(repo.registry, {
      method: "DELETE",
      path: `/v2/${repo.repository}/manifests/${digest}`,
      scopes: [repositoryScope(repo.repository, ["delete"])],
      ok: [200, 202, 404],
      what: `manifest ${repo.registry}/${repo.repository}@${digest}`,
    });
    await res.body?.cancel();
  }

  /** Tags of a repository (all pages). */
  async listTags(repo: Repo): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repo.repository}/tags/list`;
    for (let page = 0; path && page < 1000; page++) {
      const res = await this.session.send(repo.registry, {
        method: "GET",
        path,
        scopes: [repositoryScope(repo.repository, ["pull"])],
        ok: [200, 404],
        what: `tags of ${repo.registry}/${repo.repository}`,
      });
      if (res.status === 404) {
        await res.body?.cancel();
        break;
      }
      const body = (await res.json()) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      path = nextLink(res.headers.get("link"));
    }
    return tags;
  }

  // ── blobs ────────────────────────────────────────────────────────────────────────────────

  /** Whether the repository has the blob (HEAD). */
  blobExists(repo: Repo, digest: string, opts: AccessOptions = {}): Promise<boolean> {
    return blobExists(this.session, repo, digest, opts);
  }

  /** Downloads a whole blob into memory, verified against its digest (and size when given). */
  async getBlob(repo: Repo, digest: string, size?: number): Promise<Uint8Array> {
    const stream = await this.openBlob(repo, digest, size);
    const chunks: Uint8Array[] = [];
    for await (const c of stream) chunks.push(c);
    return new Uint8Array(Buffer.concat(chunks));
  }

  /**
   * Streams a blob; the stream errors with `OCI_DIGEST_MISMATCH` at its end if the content does
   * not hash to `digest` (or has another size than `size`), so a consumer never completes on bad data.
   */
  async openBlob(repo: Repo, digest: string, size?: number): Promise<ReadableStream<Uint8Array>> {
    const res = await this.session.send(repo.registry, {
      method: "GET",
      path: `/v2/${repo.repository}/blobs/${digest}`,
      scopes: [repositoryScope(repo.repository, ["pull"])],
      ok: [200],
      what: `blob ${digest} in ${repo.registry}/${repo.repository}`,
    });
    if (!res.body) throw new PlatformError("OCI_BLOB_EMPTY", `The registry sent no body for blob ${digest}`);
    return res.body.pipeThrough(
      verifyingStream(digest, size, `blob ${repo.registry}/${repo.repository}@${digest}`),
    );
  }

  /** A sequential reader over a blob in a registry (for streaming copies without buffering it whole). */
  async blobReader(repo: Repo, desc: Descriptor): Promise<BlobReader> {
    return streamReader(await this.openBlob(repo, desc.digest, desc.size), desc.size);
  }

  /**
   * Tries a cross-repository mount (`POST …/blobs/uploads/?mount=<digest>&from=<repo>`): 201 means
   * mounted; 202 means the registry opened an upload session instead (returned for the upload).
   */
  mountBlob(repo: Repo, from: string, digest: string): Promise<MountResult> {
    return mountBlob(this.session, repo, from, digest);
  }

  /**
   * Uploads a blob unless the repository has it: HEAD first; then a mount from `mountFrom` repos;
   * else POST + PUT (monolithic) or POST + PATCH… + PUT (chunked above `monolithicMaxBytes`).
   * The content is hashed while it is sent; a mismatch aborts before the final PUT.
   */
  pushBlob(repo: Repo, content: BlobContent, opts: PushBlobOptions = {}): Promise<PushBlobResult> {
    return pushBlob(this.session, this.limits, repo, content, opts);
  }

  // ── referrers ────────────────────────────────────────────────────────────────────────────

  /** Whether the registry answered the referrers API (undefined until a call found out). */
  referrersMode(registry: string): "api" | "tag" | undefined {
    return this.referrers.referrersMode(registry);
  }

  /**
   * The referrers of `subject` (a reference with a digest): the referrers API with pagination,
   * re-filtered locally when the registry did not apply the `artifactType` filter; on registries
   * without the API, the `sha256-<hex>` fallback index (missing = none).
   */
  listReferrers(
    subject: Reference | string | (Repo & { digest: string }),
    opts: { artifactType?: string } = {},
  ): Promise<ReferrersResult> {
    return this.referrers.listReferrers(subject, opts);
  }

  /**
   * Pushes a referrer manifest (one with a `subject`) by digest. When the registry does not answer
   * `OCI-Subject`, the subject's `sha256-<hex>` fallback index is updated (read, dedupe, append, write,
   * re-read to confirm). The referrer's blobs must already be in the repository.
   */
  pushReferrer(repo: Repo, bytes: Uint8Array, mediaType?: string): Promise<PushReferrerResult> {
    return this.referrers.pushReferrer(repo, bytes, mediaType);
  }

  /**
   * Removes a referrer: from the subject's fallback index (when the registry uses it) and, with
   * `deleteManifest`, the referrer manifest itself.
   */
  removeReferrer(
    repo: Repo,
    subjectDigest: string,
    referrerDigest: string,
    opts: { deleteManifest?: boolean } = {},
  ): Promise<void> {
    return this.referrers.removeReferrer(repo, subjectDigest, referrerDigest, opts);
  }
}
