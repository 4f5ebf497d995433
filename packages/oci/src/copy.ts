// Copy and promotion by digest: a manifest (and an index's children), its blobs (mounted within one
// registry, streamed otherwise), and — with `referrers` — the digest's referrer graph, recursively
// (signatures on SBOMs too). Tags are written last, only after everything else succeeded.
import { createLogger, type Logger, mapLimit, PlatformError } from "@platform/core";
import { RegistryClient } from "./client.ts";
import { OciLayout } from "./layout.ts";
import { formatReference, parseReference, type Reference } from "./reference.ts";
import type { Repo } from "./session.ts";
import type { BlobReader } from "./stream.ts";
import { childDescriptors, type Descriptor, isIndex, parseManifest } from "./types.ts";
import type { BlobContent } from "./upload.ts";

/** Where images are read from or written to: a registry repository or an OCI layout. */
export interface ImageStore {
  /** For messages: `registry/repo` or `oci:<dir>`. */
  readonly name: string;
  /** Registry host (undefined for layouts): same-registry copies mount blobs. */
  readonly registry?: string;
  /** Repository (registries only). */
  readonly repository?: string;
  /** A tag/ref name or digest; a layout with one image needs none. */
  resolve(reference?: string): Promise<Descriptor>;
  fetchManifest(desc: Descriptor): Promise<{ bytes: Uint8Array; mediaType: string }>;
  hasManifest(digest: string): Promise<boolean>;
  hasBlob(digest: string): Promise<boolean>;
  openBlob(desc: Descriptor): Promise<BlobContent>;
  /**
   * Writes a blob; `mountFrom` is a repository in the same registry to mount from first (the
   * content is then only read if the mount is refused).
   */
  putBlob(desc: Descriptor, content: BlobContent, mountFrom?: string): Promise<PutBlobOutcome>;
  /** Writes a manifest by digest, or under `tag`. */
  putManifest(bytes: Uint8Array, mediaType: string, tag?: string): Promise<void>;
  /** Writes a manifest that has a subject so that listReferrers finds it. */
  putReferrer(bytes: Uint8Array, mediaType: string): Promise<void>;
  listReferrers(digest: string): Promise<Descriptor[]>;
}

export type PutBlobOutcome = "exists" | "mounted" | "uploaded";

/** A registry repository as an ImageStore. */
export function registryStore(
  client: RegistryClient,
  repo: Repo,
  opts: { destination?: boolean } = {},
): ImageStore {
  const push = { push: opts.destination ?? false };
  const at = (reference: string): Reference =>
    parseReference(
      `${repo.registry}/${repo.repository}${reference.includes(":") ? `@${reference}` : `:${reference}`}`,
    );
  return {
    name: `${repo.registry}/${repo.repository}`,
    registry: repo.registry,
    repository: repo.repository,
    async resolve(reference) {
      if (!reference) {
        throw new PlatformError(
          "OCI_REFERENCE_INVALID",
          `No tag or digest given for ${repo.registry}/${repo.repository}`,
          {
            hint: "Name the image: repo@sha256:… (preferred) or repo:tag.",
          },
        );
      }
      return client.resolve(at(reference));
    },
    async fetchManifest(desc) {
      const m = await client.getManifest(at(desc.digest));
      return { bytes: m.bytes, mediaType: m.mediaType };
    },
    async hasManifest(digest) {
      return (await client.tryResolve(at(digest), push)) !== undefined;
    },
    hasBlob: (digest) => client.blobExists(repo, digest, push),
    openBlob: (desc) => client.blobReader(repo, desc),
    async putBlob(desc, content, mountFrom) {
      // A mount answered 202 continues as an upload in the session the registry opened.
      const r = await client.pushBlob(repo, content, {
        digest: desc.digest,
        skipExistsCheck: true,
        ...(mountFrom ? { mountFrom: [mountFrom] } : {}),
      });
      return r.outcome === "exists" ? "exists" : r.outcome === "mounted" ? "mounted" : "uploaded";
    },
    async putManifest(bytes, mediaType, tag) {
      await client.putManifest(repo, bytes, mediaType, tag);
    },
    async putReferrer(bytes, mediaType) {
      await client.pushReferrer(repo, bytes, mediaType);
    },
    async listReferrers(digest) {
      return (await client.listReferrers({ ...repo, digest })).descriptors;
    },
  };
}

/** An OCI image layout as an ImageStore. */
export function layoutStore(layout: OciLayout): ImageStore {
  return {
    name: `oci:${layout.dir}`,
    resolve: (reference) => layout.resolve(reference),
    async fetchManifest(desc) {
      const bytes = await layout.readBlob(desc.digest);
      return { bytes, mediaType: parseManifest(bytes, desc.mediaType).mediaType };
    },
    hasManifest: (digest) => layout.hasBlob(digest),
    hasBlob: (digest) => layout.hasBlob(digest),
    openBlob: (desc) => layout.blobReader(desc),
    async putBlob(desc, content) {
      await layout.writeBlob(content, desc.digest);
      return "uploaded";
    },
    async putManifest(bytes, mediaType, tag) {
      if (tag) await layout.addManifest(bytes, mediaType, tag);
      else await layout.writeBlob(bytes);
    },
    async putReferrer(bytes, mediaType) {
      await layout.addManifest(bytes, mediaType);
    },
    listReferrers: (digest) => layout.listReferrers(digest),
  };
}

/** Either side of a copy: an image reference string/Reference, or an OCI layout `{ layout: dir, reference? }`. */
export type CopyEndpoint =
  | string
  | Reference
  | { layout: string; reference?: string }
  | { store: ImageStore; reference?: string };

export interface CopyOptions {
  /** The registry client (one is created when omitted). */
  client?: RegistryClient;
  /** Also copy the referrer graph (signatures, SBOMs, attestations, and their referrers). Default true. */
  referrers?: boolean;
  /** Tags to set on the destination after everything was copied (besides one in the destination reference). */
  tags?: readonly string[];
  /** Blobs copied at once (default 6, like skopeo). */
  concurrency?: number;
  log?: Logger;
}

export interface CopyResult {
  /** The copied manifest's digest (the same at source and destination). */
  digest: string;
  mediaType: string;
  size: number;
  /** `registry/repo@digest` (or `oci:<dir>@digest`). */
  reference: string;
  blobs: { uploaded: number; mounted: number; existed: number; bytes: number };
  manifests: number;
  /** Referrer manifests copied (descriptors as listed at the source). */
  referrers: Descriptor[];
  /** Tags set at the destination, after everything else. */
  tagged: string[];
}

interface ResolvedEndpoint {
  store: ImageStore;
  reference?: string;
}

async function endpoint(e: CopyEndpoint, client: RegistryClient, create: boolean): Promise<ResolvedEndpoint> {
  if (typeof e === "object" && "store" in e) return { store: e.store, reference: e.reference };
  if (typeof e === "object" && "layout" in e) {
    const layout = create ? await OciLayout.create(e.layout) : await OciLayout.open(e.layout);
    return { store: layoutStore(layout), reference: e.reference };
  }
  const r = typeof e === "string" ? parseReference(e) : e;
  return { store: registryStore(client, r, { destination: create }), reference: r.digest ?? r.tag };
}

/**
 * Copies an image by digest from `src` to `dst`: child manifests and blobs first, then the manifest
 * by digest, then (by default) the referrer graph, and only then the tags. Within one registry blobs
 * are mounted, not re-uploaded; blobs the destination has are skipped.
 */
export async function copyImage(
  src: CopyEndpoint,
  dst: CopyEndpoint,
  opts: CopyOptions = {},
): Promise<CopyResult> {
  const log = opts.log ?? createLogger({ write() {} });
  const client = opts.client ?? new RegistryClient({ log });
  const from = await endpoint(src, client, false);
  const to = await endpoint(dst, client, true);
  const root = await from.store.resolve(from.reference);
  const dstTag = to.reference && !to.reference.includes(":") ? to.reference : undefined;
  const copier = new GraphCopier(from.store, to.store, opts.concurrency ?? 6, log);
  const tags = [...new Set([...(dstTag ? [dstTag] : []), ...(opts.tags ?? [])])];
  const withReferrers = opts.referrers ?? true;
  // Without referrers to copy, the root manifest is the last write: PUT it under its first tag
  // directly (one request instead of a PUT by digest and another by tag).
  const rootTag = withReferrers ? undefined : tags[0];
  const rootTagged = await copier.copyTree(root, false, rootTag);
  const referrers: Descriptor[] = [];
  if (withReferrers) await copier.copyReferrers(root, referrers);
  const remaining = rootTagged ? tags.slice(1) : tags;
  const rootBytes = remaining.length ? await copier.fetchManifest(root) : undefined;
  for (const tag of remaining) await to.store.putManifest(rootBytes!.bytes, rootBytes!.mediaType, tag);
  const reference = to.store.registry
    ? formatReference({ registry: to.store.registry, repository: to.store.repository!, digest: root.digest })
    : `${to.store.name}@${root.digest}`;
  log.info(
    `copied ${from.store.name}@${root.digest} → ${reference}: ${copier.blobs.uploaded} uploaded (${formatBytes(copier.blobs.bytes)}), ${copier.blobs.mounted} mounted, ${copier.blobs.existed} already there; ${referrers.length} referrer(s)${tags.length ? `; tagged ${tags.join(", ")}` : ""}`,
  );
  return {
    digest: root.digest,
    mediaType: root.mediaType,
    size: root.size,
    reference,
    blobs: copier.blobs,
    manifests: copier.manifests,
    referrers,
    tagged: tags,
  };
}

/** Bytes for a progress line: 512 B, 3.4 kB, 12.3 MB, 1.2 GB (SI units, as docker and oras print them). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n / 1000;
  let i = 0;
  for (; v >= 1000 && i < units.length - 1; i++) v /= 1000;
  return `${v.toFixed(1)} ${units[i]}`;
}

/** Copies manifests (children first) and blobs once each, between two stores. */
export class GraphCopier {
  readonly blobs = { uploaded: 0, mounted: 0, existed: 0, bytes: 0 };
  manifests = 0;
  private readonly src: ImageStore;
  private readonly dst: ImageStore;
  private readonly concurrency: number;
  private readonly log: Logger;
  private readonly done = new Map<string, Promise<void>>();
  private readonly trees = new Map<string, Promise<boolean>>();
  private readonly fetched = new Map<string, Promise<{ bytes: Uint8Array; mediaType: string }>>();
  private readonly visitedReferrers = new Set<string>();

  constructor(src: ImageStore, dst: ImageStore, concurrency: number, log: Logger) {
    this.src = src;
    this.dst = dst;
    this.concurrency = Math.max(1, concurrency);
    this.log = log;
  }

  /**
   * Copies a manifest and everything below it; `asReferrer` pushes it so referrer listing finds it;
   * `tag` writes the manifest under that tag instead of its digest. Resolves true when it wrote the tag.
   */
  copyTree(desc: Descriptor, asReferrer = false, tag?: string): Promise<boolean> {
    return once(this.trees, desc.digest, () => this.copyTreeOnce(desc, asReferrer, tag));
  }

  /** A source manifest, fetched once per copy (the root is read for its tree, its referrers and its tags). */
  fetchManifest(desc: Descriptor): Promise<{ bytes: Uint8Array; mediaType: string }> {
    return once(this.fetched, desc.digest, () => this.src.fetchManifest(desc));
  }

  private async copyTreeOnce(desc: Descriptor, asReferrer: boolean, tag?: string): Promise<boolean> {
    const { bytes, mediaType } = await this.fetchManifest(desc);
    const { manifest } = parseManifest(bytes, mediaType, `manifest ${desc.digest}`);
    if (!asReferrer && (await this.dst.hasManifest(desc.digest))) {
      this.log.debug(`${this.dst.name} has ${desc.digest}`);
      return false;
    }
    if (isIndex(manifest)) {
      await mapLimit(manifest.manifests, this.concurrency, async (child) => {
        await this.copyTree(child);
      });
    } else {
      await mapLimit(childDescriptors(manifest), this.concurrency, (b) => this.copyBlob(b));
    }
    if (asReferrer) await this.dst.putReferrer(bytes, mediaType);
    else await this.dst.putManifest(bytes, mediaType, tag);
    this.manifests++;
    return tag !== undefined && !asReferrer;
  }

  private copyBlob(desc: Descriptor): Promise<void> {
    return once(this.done, desc.digest, () => this.copyBlobOnce(desc));
  }

  private async copyBlobOnce(desc: Descriptor): Promise<void> {
    if (await this.dst.hasBlob(desc.digest)) {
      this.blobs.existed++;
      return;
    }
    const sameRegistry = !!this.src.registry && this.src.registry === this.dst.registry;
    // Within one registry the blob is mounted; its content is opened only if the mount is refused.
    const content = sameRegistry
      ? lazyReader(desc.size, () => this.src.openBlob(desc))
      : await this.src.openBlob(desc);
    const outcome = await this.dst.putBlob(desc, content, sameRegistry ? this.src.repository : undefined);
    if (outcome === "exists") this.blobs.existed++;
    else if (outcome === "mounted") this.blobs.mounted++;
    else {
      this.blobs.uploaded++;
      this.blobs.bytes += desc.size;
      // Progress for long pushes: each uploaded blob with its size and the running total.
      this.log.info(
        `uploaded ${desc.digest.slice(0, 19)} (${formatBytes(desc.size)}; ${formatBytes(this.blobs.bytes)} in ${this.blobs.uploaded} blob(s) so far)`,
      );
    }
  }

  /** Copies the referrers of `root` (and of an index's children), recursively, into `out`. */
  async copyReferrers(root: Descriptor, out: Descriptor[]): Promise<void> {
    const queue: Descriptor[] = [root];
    const { bytes, mediaType } = await this.fetchManifest(root);
    const parsed = parseManifest(bytes, mediaType);
    if (isIndex(parsed.manifest)) queue.push(...parsed.manifest.manifests);
    while (queue.length) {
      const subject = queue.shift()!;
      for (const r of await this.src.listReferrers(subject.digest)) {
        if (this.visitedReferrers.has(r.digest)) continue;
        this.visitedReferrers.add(r.digest);
        await this.copyTree(r, true);
        out.push(r);
        queue.push(r);
      }
    }
  }
}

/** The promise for `key`, started by `start` the first time it is asked for. */
function once<T>(map: Map<string, Promise<T>>, key: string, start: () => Promise<T>): Promise<T> {
  let p = map.get(key);
  if (!p) {
    p = start();
    map.set(key, p);
  }
  return p;
}

/** A BlobReader that opens its source on the first read. */
export function lazyReader(size: number, open: () => Promise<BlobContent>): BlobReader {
  let source: Promise<BlobContent> | undefined;
  return {
    size,
    async read(offset, length) {
      source ??= open();
      const c = await source;
      return c instanceof Uint8Array ? c.subarray(offset, offset + length) : c.read(offset, length);
    },
  };
}
