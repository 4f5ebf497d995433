import {
  type Descriptor,
  EMPTY_JSON,
  type Manifest,
  makeReference,
  type OciLayout,
  parseManifest,
  type Reference,
  type RegistryClient,
  type Repo,
  referrersTag,
} from "@platform/oci";

/**
 * Where an image and its referrers live, as signing and verification need it: a registry repository
 * (through @platform/oci's client) or an OCI image layout on disk.
 */
export interface ArtifactStore {
  /** For messages: the registry repository or `oci:<dir>`. */
  readonly name: string;
  resolve(reference: string): Promise<Descriptor>;
  /** Referrers of `digest`; `mode` says whether the referrers API, the tag schema or the layout's index answered. */
  listReferrers(digest: string): Promise<{ descriptors: Descriptor[]; mode: "api" | "tag" | "layout" }>;
  /** The `sha256-<hex>` fallback index's entries (registries that answer the API but do not index tag-schema pushes). */
  fallbackReferrers(digest: string): Promise<Descriptor[]>;
  /** Stores a blob; `fresh` skips the existence check (content just made, e.g. a signature). */
  pushBlob(bytes: Uint8Array, fresh?: boolean): Promise<void>;
  /** Stores a manifest with a subject so that it is listed as a referrer. */
  pushReferrer(
    bytes: Uint8Array,
    mediaType: string,
  ): Promise<{ digest: string; mode: "api" | "tag" | "layout" }>;
  /** A manifest by digest or tag, or undefined when absent. */
  getManifest(reference: string): Promise<{ manifest: Manifest; digest: string } | undefined>;
  getBlob(digest: string, size?: number): Promise<Uint8Array>;
  /** Stores a manifest under a tag (cosign's `.sig`); returns its digest. */
  putTagged(bytes: Uint8Array, mediaType: string, tag: string): Promise<string>;
}

/** A registry repository as an ArtifactStore. */
export function registryStore(client: RegistryClient, repo: Repo): ArtifactStore {
  const ref = (reference: string): Reference =>
    reference.includes(":")
      ? makeReference(repo.registry, repo.repository, undefined, reference)
      : makeReference(repo.registry, repo.repository, reference);
  let emptyPushed = false;
  return {
    name: `${repo.registry}/${repo.repository}`,
    resolve: (reference) => client.resolve(ref(reference)),
    async listReferrers(digest) {
      return client.listReferrers({ ...repo, digest });
    },
    async fallbackReferrers(digest) {
      const index = await client.tryGetManifest(ref(referrersTag(digest)));
      return (index?.manifest as { manifests?: Descriptor[] } | undefined)?.manifests ?? [];
    },
    async pushBlob(bytes, fresh) {
      const isEmpty =
        bytes.byteLength === EMPTY_JSON.byteLength && Buffer.from(bytes).equals(Buffer.from(EMPTY_JSON));
      if (isEmpty && emptyPushed) return;
      await client.pushBlob(repo, bytes, { skipExistsCheck: fresh });
      if (isEmpty) emptyPushed = true;
    },
    async pushReferrer(bytes, mediaType) {
      const r = await client.pushReferrer(repo, bytes, mediaType);
      return { digest: r.descriptor.digest, mode: r.mode };
    },
    async getManifest(reference) {
      const m = await client.tryGetManifest(ref(reference));
      return m ? { manifest: m.manifest, digest: m.digest } : undefined;
    },
    getBlob: (digest, size) => client.getBlob(repo, digest, size),
    async putTagged(bytes, mediaType, tag) {
      return (await client.putManifest(repo, bytes, mediaType, tag)).descriptor.digest;
    },
  };
}

/** An OCI image layout directory as an ArtifactStore (referrers are index.json entries with a subject). */
export function layoutStore(layout: OciLayout): ArtifactStore {
  return {
    name: `oci:${layout.dir}`,
    resolve: (reference) => layout.resolve(reference),
    async listReferrers(digest) {
      return { descriptors: await layout.listReferrers(digest), mode: "layout" };
    },
    async fallbackReferrers() {
      return [];
    },
    async pushBlob(bytes) {
      await layout.writeBlob(bytes);
    },
    async pushReferrer(bytes, mediaType) {
      return { digest: (await layout.addManifest(bytes, mediaType)).digest, mode: "layout" };
    },
    async getManifest(reference) {
      let d: Descriptor;
      try {
        d = await layout.resolve(reference);
      } catch {
        return undefined;
      }
      const bytes = await layout.readBlob(d.digest);
      return { manifest: parseManifest(bytes, d.mediaType).manifest, digest: d.digest };
    },
    getBlob: (digest) => layout.readBlob(digest),
    async putTagged(bytes, mediaType, tag) {
      return (await layout.addManifest(bytes, mediaType, tag)).digest;
    },
  };
}
