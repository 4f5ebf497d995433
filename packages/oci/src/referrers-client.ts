// Referrers of a manifest over the wire: the referrers API (paged, filtered), and on registries without it
// the `sha256-<hex>` tag schema fallback index, updated read-modify-write under concurrent writers.
import { PlatformError } from "@platform/core";
import { repositoryScope } from "./auth.ts";
import type { RegistryClient } from "./client.ts";
import { makeReference, parseReference, type Reference } from "./reference.ts";
import {
  addToIndex,
  emptyIndex,
  filterReferrers,
  nextLink,
  referrerDescriptor,
  referrersTag,
  removeFromIndex,
} from "./referrers.ts";
import { registryError } from "./registry-errors.ts";
import type { RegistrySession, Repo } from "./session.ts";
import { readLimited } from "./stream.ts";
import {
  type Descriptor,
  encodeJson,
  type ImageIndex,
  isIndex,
  isIndexMediaType,
  MediaType,
  parseManifest,
} from "./types.ts";

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

/** The manifest operations the fallback index is read and written with. */
type ManifestOps = Pick<RegistryClient, "tryResolve" | "tryGetManifest" | "putManifest" | "deleteManifest">;

/** Referrers for one client; remembers per registry whether the referrers API answered. */
export class ReferrersClient {
  private readonly referrersApi = new Map<string, boolean>();

  private readonly session: RegistrySession;
  private readonly manifests: ManifestOps;
  private readonly maxManifest: number;

  constructor(session: RegistrySession, manifests: ManifestOps, maxManifest: number) {
    this.session = session;
    this.manifests = manifests;
    this.maxManifest = maxManifest;
  }

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
        const res = await this.session.send(s.registry, {
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
      this.session.log.debug(`${s.registry} has no referrers API; reading the ${referrersTag(digest)} tag`);
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
    const put = await this.manifests.putManifest(repo, bytes, parsed.mediaType);
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
    if (opts.deleteManifest) await this.manifests.deleteManifest(repo, referrerDigest);
    if (this.referrersApi.get(repo.registry) === true) return;
    const tag = await this.manifests.tryResolve(
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
    const m = await this.manifests.tryGetManifest(makeReference(repo.registry, repo.repository, tag));
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
          await this.manifests.putManifest(repo, encodeJson(index), MediaType.ociIndex, tag, {
            ifMatch: current.etag,
          });
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
}
