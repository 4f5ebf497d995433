// The OCI distribution client: manifests, blobs (monolithic, chunked, mount), referrers (API and
// tag fallback), tags, with challenge auth and digest verification of everything downloaded.
import {
  createLogger,
  fetchWithRetry,
  type Logger,
  PlatformError,
  type RetryOptions,
  redactUrl,
} from "@platform/core";
import {
  ACR_ENTRA_SCOPE,
  authError,
  type Challenge,
  type CredentialProvider,
  jwtExpiry,
  parseWwwAuthenticate,
  type RegistryCredential,
  repositoryScope,
  scopesCover,
  type TokenResponse,
} from "./auth.ts";
import { apiHost, isLoopbackRegistry, makeReference, parseReference, type Reference } from "./reference.ts";
import {
  addToIndex,
  emptyIndex,
  filterReferrers,
  nextLink,
  referrerDescriptor,
  referrersTag,
  removeFromIndex,
} from "./referrers.ts";
import { NODE_UPLOAD_MIN_BYTES, nodeUploadFetch } from "./transport.ts";
import {
  type Descriptor,
  digestMismatch,
  encodeJson,
  hasherFor,
  type ImageIndex,
  isIndex,
  isIndexMediaType,
  MANIFEST_ACCEPT,
  type Manifest,
  MediaType,
  parseManifest,
  sha256Digest,
  verifyDigest,
} from "./types.ts";

/** HTTP requests made by a client (every attempt, token requests included), for benchmarks. */
export interface RequestStats {
  requests: number;
  byMethod: Record<string, number>;
  bytesSent: number;
}

export interface RegistryClientOptions {
  /** Credentials per registry host; default anonymous everywhere. */
  credentials?: CredentialProvider;
  log?: Logger;
  /** fetch used for every request (tests, proxies). */
  fetch?: typeof fetch;
  userAgent?: string;
  /** Retry policy (429/503 with Retry-After, backoff) for every request. */
  retry?: Omit<RetryOptions, "fetch" | "log">;
  /** Blobs larger than this are uploaded in chunks (POST + PATCH… + PUT); default 64 MiB. */
  monolithicMaxBytes?: number;
  /** Chunk size for chunked uploads (default 16 MiB; raised to the registry's OCI-Chunk-Min-Length). */
  chunkBytes?: number;
  /** Largest manifest accepted on download (default 4 MiB). */
  maxManifestBytes?: number;
}

/** A repository in a registry: `{ registry, repository }` (a Reference works). */
export interface Repo {
  registry: string;
  repository: string;
}

/** For checks made before a write: ask for a pull,push token at once (one token per repository, not two). */
export interface AccessOptions {
  push?: boolean;
}

function access(opts: AccessOptions): string[] {
  return opts.push ? ["pull", "push"] : ["pull"];
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

/** Content to upload: bytes, or a reader that can read any range (files) or sequential ranges (streams). */
export type BlobContent = Uint8Array | BlobReader;

export interface BlobReader {
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

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

export interface ReferrersResult {
  descriptors: Descriptor[];
  /** `api`: the referrers API answered; `tag`: the `sha256-<hex>` fallback index was read. */
  mode: "api" | "tag";
}

export interface PushReferrerResult {
  descriptor: Descriptor;
  subject: Descriptor;
  /** `api`: the registry indexed it (OCI-Subject); `tag`: the fallback index was updated. */
  mode: "api" | "tag";
}

interface AuthState {
  credential?: RegistryCredential;
  challenge?: Challenge;
  tokens: Array<{ scopes: string[]; token: string; expiresAt: number }>;
  /** Token requests in flight by scope set: concurrent requests (six blob mounts at once) share one. */
  pending: Map<string, Promise<string>>;
  refreshToken?: { token: string; expiresAt: number };
}

interface SendInit {
  method: string;
  /** Path below the registry root (`/v2/…`) or an absolute URL (upload locations). */
  path: string;
  scopes: string[];
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Statuses that are answers, not failures (the caller reads them). */
  ok: readonly number[];
  /** What this request is, for errors. */
  what: string;
}

const DEFAULT_MONOLITHIC_MAX = 64 * 1024 * 1024;
const DEFAULT_CHUNK = 16 * 1024 * 1024;
const DEFAULT_MAX_MANIFEST = 4 * 1024 * 1024;
const REFRESH_MARGIN_MS = 30_000;

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
  readonly stats: RequestStats = { requests: 0, byMethod: {}, bytesSent: 0 };
  private readonly log: Logger;
  private readonly credentials: CredentialProvider;
  private readonly baseFetch: typeof fetch;
  private readonly customFetch: boolean;
  private readonly userAgent: string;
  private readonly retry: Omit<RetryOptions, "fetch" | "log">;
  private readonly monolithicMax: number;
  private readonly chunkBytes: number;
  private readonly maxManifest: number;
  private readonly auth = new Map<string, AuthState>();
  private readonly referrersApi = new Map<string, boolean>();

  constructor(opts: RegistryClientOptions = {}) {
    this.log = opts.log ?? createLogger({ write() {} });
    this.credentials = opts.credentials ?? (() => ({ kind: "anonymous" }));
    this.baseFetch = opts.fetch ?? fetch;
    this.customFetch = opts.fetch !== undefined;
    this.userAgent = opts.userAgent ?? "platform-oci/0.1";
    this.retry = opts.retry ?? {};
    this.monolithicMax = opts.monolithicMaxBytes ?? DEFAULT_MONOLITHIC_MAX;
    this.chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK;
    this.maxManifest = opts.maxManifestBytes ?? DEFAULT_MAX_MANIFEST;
  }

  /** Base URL of a registry's API: `https://host` (or `http://` for loopback hosts). */
  baseUrl(registry: string): string {
    return `${isLoopbackRegistry(registry) ? "http" : "https"}://${apiHost(registry)}`;
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
    const res = await this.send(r.registry, {
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
    const res = await this.send(r.registry, {
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
    const res = await this.send(repo.registry, {
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
    const res = await this.send(repo.registry, {
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
      const res = await this.send(repo.registry, {
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
  async blobExists(repo: Repo, digest: string, opts: AccessOptions = {}): Promise<boolean> {
    const res = await this.send(repo.registry, {
      method: "HEAD",
      path: `/v2/${repo.repository}/blobs/${digest}`,
      scopes: [repositoryScope(repo.repository, access(opts))],
      ok: [200, 404],
      what: `blob ${digest} in ${repo.registry}/${repo.repository}`,
    });
    await res.body?.cancel();
    return res.status === 200;
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
    const res = await this.send(repo.registry, {
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
  async mountBlob(repo: Repo, from: string, digest: string): Promise<MountResult> {
    const res = await this.send(repo.registry, {
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
      ? { mounted: false, uploadLocation: this.absolute(repo.registry, location, res.url) }
      : { mounted: false };
  }

  /**
   * Uploads a blob unless the repository has it: HEAD first; then a mount from `mountFrom` repos;
   * else POST + PUT (monolithic) or POST + PATCH… + PUT (chunked above `monolithicMaxBytes`).
   * The content is hashed while it is sent; a mismatch aborts before the final PUT.
   */
  async pushBlob(repo: Repo, content: BlobContent, opts: PushBlobOptions = {}): Promise<PushBlobResult> {
    const size = content instanceof Uint8Array ? content.byteLength : content.size;
    const digest = opts.digest ?? (content instanceof Uint8Array ? sha256Digest(content) : undefined);
    if (!digest)
      throw new PlatformError("OCI_DIGEST_REQUIRED", "pushBlob needs the digest of streamed content");
    if (!opts.skipExistsCheck && (await this.blobExists(repo, digest, { push: true })))
      return { digest, size, outcome: "exists" };
    let location: string | undefined;
    for (const from of opts.mountFrom ?? []) {
      if (from === repo.repository) continue;
      const m = await this.mountBlob(repo, from, digest);
      if (m.mounted) return { digest, size, outcome: "mounted" };
      location = m.uploadLocation;
      if (location) break;
    }
    let minChunk = 0;
    if (!location) {
      const res = await this.send(repo.registry, {
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
      location = this.absolute(repo.registry, loc, res.url);
      minChunk = Number(res.headers.get("oci-chunk-min-length") ?? 0) || 0;
    }
    const scopes = [repositoryScope(repo.repository, ["pull", "push"])];
    const what = `upload of ${digest} to ${repo.registry}/${repo.repository}`;
    if (size <= this.monolithicMax) {
      const bytes = content instanceof Uint8Array ? content : await content.read(0, size);
      verifyDigest(bytes, digest, `blob ${digest} (local content)`);
      const res = await this.send(repo.registry, {
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
    const chunk = Math.max(this.chunkBytes, minChunk);
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
      const res = await this.send(repo.registry, {
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
      if (loc) location = this.absolute(repo.registry, loc, res.url);
      offset += length;
    }
    const actual = hasher.digest();
    if (actual !== digest) {
      await this.cancelUpload(repo, location);
      throw digestMismatch(`blob ${digest} (local content)`, digest, actual);
    }
    const res = await this.send(repo.registry, {
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

  private async cancelUpload(repo: Repo, location: string): Promise<void> {
    try {
      const res = await this.send(repo.registry, {
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

  // ── referrers ────────────────────────────────────────────────────────────────────────────

  /** Whether the registry answered the referrers API (undefined until a call found out). */
  referrersMode(registry: string): "api" | "tag" | undefined {
    const v = this.referrersApi.get(registry);
    return v === undefined ? undefined : v ? "api" : "tag";
  }

  /**
   * The referrers of `subject` (a reference with a digest): the referrers API with pagination,
   * re-filtered locally when the registry did not apply the `artifactType` filter; on registries
   * without the API, the `sha256-<hex>` fallback index (missing = none).
   */
  async listReferrers(
    subject: Reference | string | (Repo & { digest: string }),
    opts: { artifactType?: string } = {},
  ): Promise<ReferrersResult> {
    const s = typeof subject === "string" ? parseReference(subject, { requireDigest: true }) : subject;
    if (!s.digest) throw new PlatformError("OCI_DIGEST_REQUIRED", "listReferrers needs a subject digest");
    const digest = s.digest;
    if (this.referrersApi.get(s.registry) !== false) {
      const all: Descriptor[] = [];
      let path: string | undefined =
        `/v2/${s.repository}/referrers/${digest}${opts.artifactType ? `?artifactType=${encodeURIComponent(opts.artifactType)}` : ""}`;
      let filtered = true;
      let supported = true;
      for (let page = 0; path && page < 1000; page++) {
        const res = await this.send(s.registry, {
          method: "GET",
          path,
          scopes: [repositoryScope(s.repository, ["pull"])],
          headers: { Accept: MediaType.ociIndex },
          ok: [200, 404, 405],
          what: `referrers of ${s.registry}/${s.repository}@${digest}`,
        });
        const type = res.headers.get("content-type")?.split(";")[0]?.trim();
        if (res.status !== 200 || type !== MediaType.ociIndex) {
          const text = await res.text().catch(() => "");
          // A repository the registry does not know (an API error, not a missing route) has no
          // referrers either way, and says nothing about whether the API exists: not remembered.
          if (res.status === 404 && /NAME_UNKNOWN/.test(text)) return { descriptors: [], mode: "api" };
          supported = false;
          break;
        }
        const bytes = await readLimited(res, this.maxManifest, "referrers index");
        const { manifest } = parseManifest(bytes, type, `referrers index of ${digest}`);
        if (!isIndex(manifest))
          throw registryError(s.registry, "referrers", 200, "the answer is not an image index");
        all.push(...manifest.manifests);
        const applied = (res.headers.get("oci-filters-applied") ?? "").split(",").map((x) => x.trim());
        if (opts.artifactType && !applied.includes("artifactType")) filtered = false;
        path = nextLink(res.headers.get("link"));
      }
      if (supported) {
        this.referrersApi.set(s.registry, true);
        return { descriptors: filterReferrers(all, filtered ? undefined : opts.artifactType), mode: "api" };
      }
      this.referrersApi.set(s.registry, false);
      this.log.debug(`${s.registry} has no referrers API; reading the ${referrersTag(digest)} tag`);
    }
    const index = await this.getFallbackIndex(s, digest);
    return { descriptors: filterReferrers(index.manifests, opts.artifactType), mode: "tag" };
  }

  /**
   * Pushes a referrer manifest (one with a `subject`) by digest. When the registry does not answer
   * `OCI-Subject`, the subject's `sha256-<hex>` fallback index is updated (read, dedupe, append, write,
   * re-read to confirm). The referrer's blobs must already be in the repository.
   */
  async pushReferrer(repo: Repo, bytes: Uint8Array, mediaType?: string): Promise<PushReferrerResult> {
    const parsed = parseManifest(bytes, mediaType, "referrer manifest");
    const subject = parsed.manifest.subject;
    if (!subject) {
      throw new PlatformError("OCI_REFERRER_NO_SUBJECT", "The referrer manifest has no subject descriptor", {
        hint: "A referrer (signature, SBOM, attestation) must name the manifest it refers to in `subject`.",
      });
    }
    const put = await this.putManifest(repo, bytes, parsed.mediaType);
    if (put.ociSubject) {
      this.referrersApi.set(repo.registry, true);
      return { descriptor: put.descriptor, subject, mode: "api" };
    }
    const d = referrerDescriptor(bytes, parsed.mediaType, parsed.manifest);
    await this.updateFallbackIndex(
      repo,
      subject.digest,
      (idx) => addToIndex(idx, d),
      (idx) => idx.manifests.some((m) => m.digest === d.digest),
    );
    return { descriptor: put.descriptor, subject, mode: "tag" };
  }

  /**
   * Removes a referrer: from the subject's fallback index (when the registry uses it) and, with
   * `deleteManifest`, the referrer manifest itself.
   */
  async removeReferrer(
    repo: Repo,
    subjectDigest: string,
    referrerDigest: string,
    opts: { deleteManifest?: boolean } = {},
  ): Promise<void> {
    if (opts.deleteManifest) await this.deleteManifest(repo, referrerDigest);
    if (this.referrersApi.get(repo.registry) === true) return;
    const tag = await this.tryResolve(
      makeReference(repo.registry, repo.repository, referrersTag(subjectDigest)),
    );
    if (!tag) return;
    await this.updateFallbackIndex(
      repo,
      subjectDigest,
      (idx) => removeFromIndex(idx, referrerDigest),
      (idx) => idx.manifests.every((m) => m.digest !== referrerDigest),
    );
  }

  private async getFallbackIndex(repo: Repo, subjectDigest: string): Promise<ImageIndex> {
    return (await this.readFallbackIndex(repo, subjectDigest)).index;
  }

  private async readFallbackIndex(
    repo: Repo,
    subjectDigest: string,
  ): Promise<{ index: ImageIndex; etag?: string }> {
    const tag = referrersTag(subjectDigest);
    const m = await this.tryGetManifest(makeReference(repo.registry, repo.repository, tag));
    if (!m) return { index: emptyIndex() };
    if (!isIndexMediaType(m.mediaType) || !isIndex(m.manifest)) {
      throw new PlatformError(
        "OCI_REFERRERS_TAG_INVALID",
        `${repo.registry}/${repo.repository}:${tag} is a ${m.mediaType}, not the image index the referrers tag schema requires`,
        {
          category: "environment",
          hint: `Delete or re-push the ${tag} tag; it is reserved for the referrers fallback index.`,
        },
      );
    }
    return { index: m.manifest, ...(m.etag ? { etag: m.etag } : {}) };
  }

  private async updateFallbackIndex(
    repo: Repo,
    subjectDigest: string,
    change: (idx: ImageIndex) => { index: ImageIndex; changed: boolean },
    done: (idx: ImageIndex) => boolean,
  ): Promise<void> {
    const tag = referrersTag(subjectDigest);
    // Read-modify-write, conditional (If-Match) where the registry sends an ETag. Registries without
    // conditional writes (distribution 2.x) can lose an update to a writer that read before our PUT,
    // so the result must be seen twice, apart by a jittered pause, before it counts; a lost change is
    // re-applied on top of the other writer's. 5xx (distribution answers 500 while a tag is being
    // rewritten) and 412 are retried the same way.
    let confirmations = 0;
    for (let attempt = 0; attempt < 12; attempt++) {
      try {
        const current = await this.readFallbackIndex(repo, subjectDigest);
        if (done(current.index)) {
          if (++confirmations >= 2) return;
        } else {
          confirmations = 0;
          const { index } = change(current.index);
          await this.putManifest(repo, encodeJson(index), MediaType.ociIndex, tag, { ifMatch: current.etag });
          continue;
        }
      } catch (err) {
        if (!(err instanceof PlatformError && /\(HTTP (?:5\d\d|412)\)/.test(err.message))) throw err;
        confirmations = 0;
      }
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 40 * Math.min(attempt + 1, 4)));
    }
    throw new PlatformError(
      "OCI_REFERRERS_TAG_CONFLICT",
      `Could not update ${repo.registry}/${repo.repository}:${tag}: it kept changing under concurrent writers`,
      { category: "environment", hint: "Retry; other clients are attaching referrers to the same digest." },
    );
  }

  // ── HTTP and auth ────────────────────────────────────────────────────────────────────────

  /** Makes a Location header absolute against the URL that answered (it may be relative). */
  private absolute(registry: string, location: string, responseUrl: string): string {
    return new URL(location, responseUrl || `${this.baseUrl(registry)}/`).toString();
  }

  private counting(): typeof fetch {
    return (input, init) => {
      this.stats.requests++;
      const m = (init?.method ?? "GET").toUpperCase();
      this.stats.byMethod[m] = (this.stats.byMethod[m] ?? 0) + 1;
      const b = init?.body;
      if (b instanceof Uint8Array) this.stats.bytesSent += b.byteLength;
      // Large uploads go through node:http(s) (see transport.ts) unless the caller chose a fetch.
      if (!this.customFetch && b instanceof Uint8Array && b.byteLength >= NODE_UPLOAD_MIN_BYTES) {
        return nodeUploadFetch(input, init);
      }
      return this.baseFetch(input, init);
    };
  }

  private async send(registry: string, init: SendInit): Promise<Response> {
    const url = /^https?:\/\//.test(init.path) ? init.path : `${this.baseUrl(registry)}${init.path}`;
    const state = this.state(registry);
    // Credentials go only to the registry's own origin: an upload Location naming another host or
    // plain http:// never receives the Authorization header.
    const ownOrigin = new URL(url).origin === new URL(this.baseUrl(registry)).origin;
    let res: Response | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const authorization = ownOrigin
        ? await this.authorization(registry, init.scopes, attempt > 0)
        : undefined;
      const headers: Record<string, string> = { "User-Agent": this.userAgent, ...init.headers };
      if (authorization) headers.Authorization = authorization;
      if (init.body) headers["Content-Length"] = String(init.body.byteLength);
      res = await fetchWithRetry(
        url,
        { method: init.method, headers, body: init.body as RequestInit["body"] },
        {
          ...this.retry,
          // An upload attempt may take as long as its size needs at a slow 1 MB/s, beyond the default 30 s.
          ...(init.body && init.body.byteLength > 1_000_000 && this.retry.attemptTimeoutMs === undefined
            ? { attemptTimeoutMs: 30_000 + Math.ceil(init.body.byteLength / 1000) }
            : {}),
          fetch: this.counting(),
          log: this.log,
        },
      );
      // Relative Locations resolve against the URL that answered; a custom fetch may not set it.
      if (!res.url) Object.defineProperty(res, "url", { value: url });
      for (const w of res.headers.get("warning")?.split(/,(?=\s*299)/) ?? []) {
        const text = /^\s*299\s+\S+\s+"(.*)"\s*$/.exec(w)?.[1];
        if (text) this.log.warn(`${registry}: ${text}`);
      }
      if (res.status !== 401 || attempt > 0 || !ownOrigin) break;
      const header = res.headers.get("www-authenticate");
      const challenges = header ? parseWwwAuthenticate(header) : [];
      const challenge =
        challenges.find((c) => c.scheme === "bearer") ?? challenges.find((c) => c.scheme === "basic");
      if (!challenge) break;
      await res.body?.cancel();
      state.challenge = challenge;
      // A token that was refused (expired, or granted less than asked) is not asked again.
      state.tokens = state.tokens.filter((t) => !scopesCover(t.scopes, init.scopes));
    }
    res = res!;
    if (init.ok.includes(res.status)) return res;
    const detail = this.log.masker.mask(await errorDetail(res));
    if (res.status === 401 || res.status === 403) {
      const refused = parseWwwAuthenticate(res.headers.get("www-authenticate") ?? "").find(
        (c) => c.params.error,
      );
      const why = refused ? `${refused.params.error}${detail ? `; ${detail}` : ""}` : detail;
      throw authError(registry, res.status, init.scopes, why, isAcr(registry, state));
    }
    if (res.status === 404) throw notFound(`${init.what}`, detail);
    throw registryError(registry, `${init.method} ${init.what}`, res.status, detail);
  }

  private state(registry: string): AuthState {
    let s = this.auth.get(registry);
    if (!s) {
      s = { tokens: [], pending: new Map() };
      this.auth.set(registry, s);
    }
    return s;
  }

  private async credential(registry: string): Promise<RegistryCredential> {
    const s = this.state(registry);
    s.credential ??= await this.credentials(registry);
    if (s.credential.kind === "basic") this.log.secret(s.credential.password);
    if (s.credential.kind === "refresh-token") this.log.secret(s.credential.refreshToken);
    if (s.credential.kind === "bearer") this.log.secret(s.credential.token);
    return s.credential;
  }

  /** The Authorization header for a request, fetching a token for `scopes` if the challenge asks for one. */
  private async authorization(
    registry: string,
    scopes: string[],
    afterChallenge: boolean,
  ): Promise<string | undefined> {
    const s = this.state(registry);
    const cred = await this.credential(registry);
    if (cred.kind === "bearer") return `Bearer ${cred.token}`;
    if (!s.challenge) return undefined;
    if (s.challenge.scheme === "basic") {
      if (cred.kind === "basic")
        return `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString("base64")}`;
      if (cred.kind === "refresh-token" && cred.username) {
        return `Basic ${Buffer.from(`${cred.username}:${cred.refreshToken}`).toString("base64")}`;
      }
      if (afterChallenge)
        throw authError(registry, 401, scopes, "the registry asks for a user name and password");
      return undefined;
    }
    const now = Date.now();
    s.tokens = s.tokens.filter((t) => t.expiresAt > now + 5_000);
    const cached = s.tokens.find((t) => scopesCover(t.scopes, scopes));
    if (cached) return `Bearer ${cached.token}`;
    const key = scopes.join(" ");
    let pending = s.pending.get(key);
    if (!pending) {
      pending = this.fetchToken(registry, s, cred, scopes).finally(() => s.pending.delete(key));
      s.pending.set(key, pending);
    }
    return `Bearer ${await pending}`;
  }

  private async fetchToken(
    registry: string,
    s: AuthState,
    cred: RegistryCredential,
    scopes: string[],
  ): Promise<string> {
    const challenge = s.challenge!;
    const realm = challenge.params.realm;
    if (!realm || !URL.canParse(realm)) {
      throw registryError(
        registry,
        "auth",
        401,
        `the Bearer challenge has no valid realm (${realm ?? "none"})`,
      );
    }
    const realmUrl = new URL(realm);
    if (
      realmUrl.protocol !== "https:" &&
      !(realmUrl.protocol === "http:" && isLoopbackRegistry(realmUrl.host))
    ) {
      throw new PlatformError(
        "OCI_AUTH_INSECURE_REALM",
        `${registry} sends credentials to ${realm} over plain HTTP`,
        {
          category: "environment",
          hint: "Token endpoints must use https (plain http only for loopback test registries).",
        },
      );
    }
    const service = challenge.params.service;
    let refreshToken: string | undefined;
    if (cred.kind === "refresh-token") refreshToken = cred.refreshToken;
    if (cred.kind === "acr") refreshToken = await this.acrRefreshToken(registry, s, cred, realmUrl, service);
    let res: Response;
    const fetchOpts = { ...this.retry, fetch: this.counting(), log: this.log };
    if (refreshToken) {
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken });
      if (service) form.set("service", service);
      form.set("scope", scopes.join(" "));
      // Docker's OAuth2 token flow wants a client_id; ACR's token API (2021-07-01) has no such field.
      if (cred.kind === "refresh-token") form.set("client_id", "platform");
      res = await fetchWithRetry(
        realmUrl,
        {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded", "User-Agent": this.userAgent },
          body: form.toString(),
        },
        { ...fetchOpts, idempotent: true },
      );
    } else {
      const u = new URL(realmUrl);
      if (service) u.searchParams.set("service", service);
      for (const sc of scopes) u.searchParams.append("scope", sc);
      const headers: Record<string, string> = { "User-Agent": this.userAgent };
      if (cred.kind === "basic") {
        headers.Authorization = `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString("base64")}`;
      }
      res = await fetchWithRetry(u, { headers }, fetchOpts);
    }
    if (!res.ok) {
      const detail = this.log.masker.mask(await errorDetail(res));
      throw authError(
        registry,
        res.status,
        scopes,
        `the token service ${redactUrl(realmUrl)} refused: ${detail}`,
        isAcr(registry, s),
      );
    }
    const body = (await res.json().catch(() => ({}))) as TokenResponse;
    const token = this.log.secret(body.token ?? body.access_token);
    if (!token) throw registryError(registry, "token", res.status, "the token response has no token");
    if (body.refresh_token) this.log.secret(body.refresh_token);
    const issued = body.issued_at ? Date.parse(body.issued_at) : Date.now();
    const lifetime = (body.expires_in && body.expires_in > 0 ? body.expires_in : 60) * 1000;
    const expiresAt = Math.min(
      (Number.isNaN(issued) ? Date.now() : Math.min(issued, Date.now())) + lifetime,
      jwtExpiry(token) ?? Number.POSITIVE_INFINITY,
    );
    s.tokens.push({ scopes, token, expiresAt });
    return token;
  }

  /** ACR: an Entra access token exchanged at `/oauth2/exchange` for an ACR refresh token (cached until near expiry). */
  private async acrRefreshToken(
    registry: string,
    s: AuthState,
    cred: Extract<RegistryCredential, { kind: "acr" }>,
    realm: URL,
    service: string | undefined,
  ): Promise<string> {
    if (s.refreshToken && s.refreshToken.expiresAt > Date.now() + REFRESH_MARGIN_MS)
      return s.refreshToken.token;
    const scope = cred.scope ?? ACR_ENTRA_SCOPE;
    const aad = await cred.credential.getToken(scope);
    if (!aad?.token) {
      throw new PlatformError(
        "OCI_ACR_ENTRA_TOKEN",
        `No Entra token for ${scope} to sign in to ${registry}`,
        {
          category: "environment",
          hint: "Check the Azure sign-in (azure/login or OIDC federation) of this job.",
        },
      );
    }
    this.log.secret(aad.token);
    const form = new URLSearchParams({
      grant_type: "access_token",
      service: service ?? registry,
      access_token: aad.token,
    });
    if (cred.tenantId) form.set("tenant", cred.tenantId);
    const url = new URL("/oauth2/exchange", realm);
    const res = await fetchWithRetry(
      url,
      {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "User-Agent": this.userAgent },
        body: form.toString(),
      },
      { ...this.retry, fetch: this.counting(), log: this.log, idempotent: true },
    );
    if (!res.ok) {
      const detail = this.log.masker.mask(await errorDetail(res));
      throw new PlatformError(
        "OCI_ACR_EXCHANGE_FAILED",
        `${registry} refused the Entra token at /oauth2/exchange (HTTP ${res.status})${detail ? `: ${detail}` : ""}`,
        {
          category: "environment",
          hint: "Grant the signed-in identity a role on the registry (AcrPull to read, AcrPush to push), and check that the registry allows Entra authentication.",
        },
      );
    }
    const body = (await res.json().catch(() => ({}))) as { refresh_token?: string };
    const token = this.log.secret(body.refresh_token);
    if (!token)
      throw registryError(registry, "/oauth2/exchange", res.status, "the answer has no refresh_token");
    s.refreshToken = { token, expiresAt: jwtExpiry(token) ?? Date.now() + 60 * 60 * 1000 };
    return token;
  }
}

/** Whether a registry is an ACR, for error hints: signed in as one, or its host or token service says so. */
function isAcr(registry: string, state: AuthState): boolean {
  return (
    state.credential?.kind === "acr" ||
    /\.azurecr\./.test(`${registry} ${state.challenge?.params.service ?? ""}`)
  );
}

/** A TransformStream that hashes what passes and errors at the end on a digest or size mismatch. */
export function verifyingStream(
  digest: string,
  size: number | undefined,
  what: string,
): TransformStream<Uint8Array, Uint8Array> {
  const hasher = hasherFor(digest);
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (size !== undefined && seen > size) {
        controller.error(digestMismatch(`${what} (more than ${size} bytes)`, digest, "(oversized content)"));
        return;
      }
      hasher.update(chunk);
      controller.enqueue(chunk);
    },
    flush(controller) {
      const actual = hasher.digest();
      if (actual !== digest || (size !== undefined && seen !== size)) {
        controller.error(
          digestMismatch(
            what,
            digest,
            size !== undefined && seen !== size ? `${actual} (${seen} of ${size} bytes)` : actual,
          ),
        );
      }
    },
  });
}

/** A BlobReader over a stream, for reads in order (what pushBlob does). */
export function streamReader(stream: ReadableStream<Uint8Array>, size: number): BlobReader {
  const reader = stream.getReader();
  let buffered: Uint8Array[] = [];
  let bufferedBytes = 0;
  let position = 0;
  return {
    size,
    async read(offset, length) {
      if (offset !== position) throw new Error(`stream reader: read at ${offset}, expected ${position}`);
      while (bufferedBytes < length) {
        const { done, value } = await reader.read();
        if (done) break;
        buffered.push(value);
        bufferedBytes += value.byteLength;
      }
      const all = Buffer.concat(buffered);
      const out = all.subarray(0, Math.min(length, all.byteLength));
      const rest = all.subarray(out.byteLength);
      buffered = rest.byteLength ? [rest] : [];
      bufferedBytes = rest.byteLength;
      position += out.byteLength;
      if (position >= size) {
        // Drain to the end so the verifying stream checks the digest.
        for (;;) {
          const { done } = await reader.read();
          if (done) break;
        }
      }
      return new Uint8Array(out);
    },
  };
}

function withQuery(location: string, query: string): string {
  return `${location}${location.includes("?") ? "&" : "?"}${query}`;
}

function checkStoredDigest(res: Response, digest: string, what: string): void {
  const stored = res.headers.get("docker-content-digest");
  if (stored && stored !== digest) throw digestMismatch(`${what} (as stored)`, digest, stored);
}

async function readLimited(res: Response, max: number, what: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel();
    throw new PlatformError(
      "OCI_MANIFEST_TOO_LARGE",
      `The ${what} is ${declared} bytes; the limit is ${max}`,
      {
        category: "environment",
      },
    );
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.byteLength > max) {
    throw new PlatformError(
      "OCI_MANIFEST_TOO_LARGE",
      `The ${what} is ${bytes.byteLength} bytes; the limit is ${max}`,
      {
        category: "environment",
      },
    );
  }
  return bytes;
}

/** The registry's error body (`{"errors":[{code,message}]}`) as one line, else the text's start. */
async function errorDetail(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as {
      errors?: Array<{ code?: string; message?: string; detail?: unknown }>;
    };
    if (Array.isArray(body.errors) && body.errors.length) {
      return body.errors
        .map(
          (e) =>
            `${e.code ?? "ERROR"}: ${e.message ?? ""}${e.detail ? ` ${JSON.stringify(e.detail).slice(0, 200)}` : ""}`,
        )
        .join("; ");
    }
  } catch {}
  return text.trim().slice(0, 300);
}

function notFound(what: string, detail = ""): PlatformError {
  return new PlatformError("OCI_NOT_FOUND", `${what} not found${detail ? ` (${detail})` : ""}`, {
    category: "environment",
    hint: "Check the repository name, the tag or digest, and that the image was pushed to this registry.",
  });
}

function registryError(registry: string, what: string, status: number, detail: string): PlatformError {
  const blobUnknown = /MANIFEST_BLOB_UNKNOWN|BLOB_UNKNOWN/.test(detail);
  const invalid = /MANIFEST_INVALID|TAG_INVALID|DIGEST_INVALID|SIZE_INVALID/.test(detail);
  return new PlatformError(
    blobUnknown || invalid ? "OCI_MANIFEST_REJECTED" : "OCI_REGISTRY_ERROR",
    `${registry}: ${what} failed (HTTP ${status})${detail ? `: ${detail}` : ""}`,
    {
      category: "environment",
      hint: blobUnknown
        ? "Push every blob (config and layers) and every child manifest before the manifest that references them."
        : invalid
          ? "The registry rejected the content as invalid; check the manifest's media type and descriptors."
          : status === 413
            ? "The registry refused the size; manifests should stay below 4 MiB."
            : "Retry; if it persists, check the registry's status.",
    },
  );
}
