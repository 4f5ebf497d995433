// OCI image layout on disk (image-spec image-layout.md): `oci-layout`, `index.json`, and
// `blobs/<alg>/<hex>`. Blobs are written to a temp file and renamed (never half a blob);
// index.json is rewritten atomically. Referrers in a layout are the manifests listed in index.json
// whose `subject` names the digest (what oras and skopeo write).
import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { PlatformError, writeFileAtomic } from "@platform/core";
import { filterReferrers, referrerDescriptor } from "./referrers.ts";
import type { BlobReader } from "./stream.ts";
import {
  type Descriptor,
  digestMismatch,
  encodeJson,
  type ImageIndex,
  isManifestMediaType,
  MediaType,
  parseManifest,
  sha256Digest,
  verifyDigest,
} from "./types.ts";
import type { BlobContent } from "./upload.ts";

/** The annotation that names a manifest in index.json (a layout's "tag"). */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";

/** An OCI image layout directory. */
export class OciLayout {
  readonly dir: string;
  private writes: Promise<unknown> = Promise.resolve();

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Opens an existing layout (an `oci-layout` file is required). */
  static async open(dir: string): Promise<OciLayout> {
    let marker: { imageLayoutVersion?: string };
    try {
      marker = JSON.parse(await readFile(join(dir, "oci-layout"), "utf8")) as { imageLayoutVersion?: string };
    } catch (err) {
      throw new PlatformError(
        "OCI_LAYOUT_INVALID",
        `${dir} is not an OCI image layout (no readable oci-layout file)`,
        {
          hint: "Point at a directory written by `skopeo copy … oci:<dir>`, `docker buildx --output type=oci,tar=false`, or this tool.",
          cause: err,
        },
      );
    }
    if (!marker.imageLayoutVersion?.startsWith("1.")) {
      throw new PlatformError(
        "OCI_LAYOUT_INVALID",
        `${dir}/oci-layout has imageLayoutVersion ${String(marker.imageLayoutVersion)}; 1.x is supported`,
      );
    }
    return new OciLayout(dir);
  }

  /** Opens a layout, creating an empty one (oci-layout, index.json, blobs/) when the directory has none. */
  static async create(dir: string): Promise<OciLayout> {
    await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
    const marker = join(dir, "oci-layout");
    if (!(await exists(marker))) {
      await writeFileAtomic(marker, JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    }
    if (!(await exists(join(dir, "index.json")))) {
      await writeFileAtomic(
        join(dir, "index.json"),
        JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] }),
      );
    }
    return OciLayout.open(dir);
  }

  /** The layout's index.json. */
  async index(): Promise<ImageIndex> {
    const bytes = await readFile(join(this.dir, "index.json")).catch((err: unknown) => {
      throw new PlatformError("OCI_LAYOUT_INVALID", `${this.dir}/index.json is missing or unreadable`, {
        cause: err,
      });
    });
    const { manifest } = parseManifest(new Uint8Array(bytes), MediaType.ociIndex, `${this.dir}/index.json`);
    return manifest as ImageIndex;
  }

  /**
   * The descriptor for a reference: a digest, a ref name (`org.opencontainers.image.ref.name`), or —
   * when omitted — the only named (or only) manifest in index.json.
   */
  async resolve(reference?: string): Promise<Descriptor> {
    const idx = await this.index();
    if (reference?.includes(":") && /^[a-z0-9]+:[a-f0-9]+$/.test(reference)) {
      const listed = idx.manifests.find((m) => m.digest === reference);
      if (listed) return stripName(listed);
      if (await this.hasBlob(reference)) {
        const bytes = await this.readBlob(reference);
        const { mediaType } = parseManifest(bytes, undefined, `manifest ${reference}`);
        return { mediaType, digest: reference, size: bytes.byteLength };
      }
      throw notInLayout(this.dir, reference);
    }
    if (reference !== undefined) {
      const named = idx.manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] === reference);
      if (named.length === 0) throw notInLayout(this.dir, reference);
      return stripName(named[named.length - 1]!);
    }
    const named = idx.manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION]);
    const candidates = named.length ? named : idx.manifests.filter((m) => !isReferrerEntry(m));
    if (candidates.length === 1) return stripName(candidates[0]!);
    throw new PlatformError(
      "OCI_LAYOUT_AMBIGUOUS",
      `${this.dir} holds ${candidates.length} images; say which one (a ref name or digest)`,
      {
        hint: `Names in this layout: ${named.map((m) => m.annotations?.[REF_NAME_ANNOTATION]).join(", ") || "(none)"}.`,
      },
    );
  }

  private blobPath(digest: string): string {
    const [alg, hex] = digest.split(":");
    if (!alg || !hex || !/^[a-z0-9]+$/.test(alg) || !/^[a-f0-9]+$/.test(hex)) {
      throw new PlatformError("OCI_DIGEST_INVALID", `"${digest}" is not a digest`);
    }
    return join(this.dir, "blobs", alg, hex);
  }

  async hasBlob(digest: string): Promise<boolean> {
    return exists(this.blobPath(digest));
  }

  /** A whole blob, verified against its digest. */
  async readBlob(digest: string): Promise<Uint8Array> {
    const bytes = new Uint8Array(
      await readFile(this.blobPath(digest)).catch((err: unknown) => {
        throw new PlatformError("OCI_NOT_FOUND", `blob ${digest} is not in the layout ${this.dir}`, {
          category: "usage",
          cause: err,
        });
      }),
    );
    verifyDigest(bytes, digest, `blob ${digest} in ${this.dir}`);
    return bytes;
  }

  /** A random-access reader over a blob file (the digest is checked by whoever consumes it whole). */
  async blobReader(desc: Descriptor): Promise<BlobReader> {
    const path = this.blobPath(desc.digest);
    const st = await stat(path).catch((err: unknown) => {
      throw new PlatformError("OCI_NOT_FOUND", `blob ${desc.digest} is not in the layout ${this.dir}`, {
        cause: err,
      });
    });
    if (st.size !== desc.size) {
      throw digestMismatch(`blob ${desc.digest} in ${this.dir}`, `${desc.size} bytes`, `${st.size} bytes`);
    }
    return {
      size: st.size,
      async read(offset, length) {
        const fh = await open(path, "r");
        try {
          const buf = Buffer.allocUnsafe(length);
          const { bytesRead } = await fh.read(buf, 0, length, offset);
          return new Uint8Array(buf.buffer, buf.byteOffset, bytesRead);
        } finally {
          await fh.close();
        }
      },
    };
  }

  /** Writes a blob (verified against `digest`, computed for bytes) unless present; returns its digest. */
  async writeBlob(content: BlobContent, digest?: string): Promise<string> {
    const d = digest ?? (content instanceof Uint8Array ? sha256Digest(content) : undefined);
    if (!d) throw new PlatformError("OCI_DIGEST_REQUIRED", "writeBlob needs the digest of streamed content");
    const path = this.blobPath(d);
    // Given bytes are checked against a given digest even when the blob exists (a computed one holds by definition).
    if (digest && content instanceof Uint8Array) verifyDigest(content, d, `blob ${d}`);
    if (await exists(path)) return d;
    await mkdir(join(path, ".."), { recursive: true });
    if (content instanceof Uint8Array) {
      await writeFileAtomic(path, content);
      return d;
    }
    // Streamed: hashed while written to a temp file, renamed into place only when the digest matches.
    const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      const alg = d.slice(0, d.indexOf(":"));
      const hash = createHash(alg);
      const fh = await open(tmp, "w");
      try {
        const step = 8 * 1024 * 1024;
        for (let off = 0; off < content.size; off += step) {
          const chunk = await content.read(off, Math.min(step, content.size - off));
          hash.update(chunk);
          await fh.write(chunk);
        }
      } finally {
        await fh.close();
      }
      const actual = `${alg}:${hash.digest("hex")}`;
      if (actual !== d) throw digestMismatch(`blob ${d}`, d, actual);
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return d;
  }

  /**
   * Writes manifest bytes as a blob and lists it in index.json — under `refName` when given
   * (replacing the name's previous holder), else unnamed (referrers, index children stay unlisted).
   */
  async addManifest(bytes: Uint8Array, mediaType: string, refName?: string): Promise<Descriptor> {
    if (!isManifestMediaType(mediaType)) {
      throw new PlatformError("OCI_MANIFEST_INVALID", `${mediaType} is not a manifest media type`);
    }
    const parsed = parseManifest(bytes, mediaType);
    const digest = await this.writeBlob(bytes);
    const base =
      parsed.manifest.subject !== undefined
        ? referrerDescriptor(bytes, parsed.mediaType, parsed.manifest)
        : { mediaType: parsed.mediaType, digest, size: bytes.byteLength };
    const entry: Descriptor = refName
      ? { ...base, annotations: { ...base.annotations, [REF_NAME_ANNOTATION]: refName } }
      : base;
    await this.updateIndex((idx) => {
      const manifests = idx.manifests.filter((m) => {
        const name = m.annotations?.[REF_NAME_ANNOTATION];
        if (refName) return name !== refName && !(m.digest === digest && !name);
        return m.digest !== digest || !!name;
      });
      if (!refName && idx.manifests.some((m) => m.digest === digest)) return idx;
      manifests.push(entry);
      return { ...idx, manifests };
    });
    return { mediaType: parsed.mediaType, digest, size: bytes.byteLength };
  }

  /** Removes index.json entries for a digest (the blob stays until garbage collection). */
  async removeManifest(digest: string): Promise<void> {
    await this.updateIndex((idx) => ({
      ...idx,
      manifests: idx.manifests.filter((m) => m.digest !== digest),
    }));
  }

  /** Referrers of `digest`: manifests listed in index.json whose subject is that digest. */
  async listReferrers(digest: string, opts: { artifactType?: string } = {}): Promise<Descriptor[]> {
    const idx = await this.index();
    const out: Descriptor[] = [];
    for (const m of idx.manifests) {
      if (!isManifestMediaType(m.mediaType) || !(await this.hasBlob(m.digest))) continue;
      const bytes = await this.readBlob(m.digest);
      const p = parseManifest(bytes, m.mediaType, `manifest ${m.digest}`);
      if (p.manifest.subject?.digest === digest) out.push(referrerDescriptor(bytes, p.mediaType, p.manifest));
    }
    return filterReferrers(out, opts.artifactType);
  }

  private updateIndex(change: (idx: ImageIndex) => ImageIndex): Promise<void> {
    const run = this.writes.then(async () => {
      const idx = await this.index();
      const next = change(idx);
      if (next === idx) return;
      await writeFileAtomic(join(this.dir, "index.json"), encodeJson(next));
    });
    this.writes = run.catch(() => {});
    return run;
  }
}

function stripName(d: Descriptor): Descriptor {
  const { annotations, ...rest } = d;
  const others = Object.fromEntries(
    Object.entries(annotations ?? {}).filter(([k]) => k !== REF_NAME_ANNOTATION),
  );
  return Object.keys(others).length ? { ...rest, annotations: others } : rest;
}

function isReferrerEntry(d: Descriptor): boolean {
  return d.artifactType !== undefined && !d.annotations?.[REF_NAME_ANNOTATION];
}

function notInLayout(dir: string, reference: string): PlatformError {
  return new PlatformError("OCI_NOT_FOUND", `${reference} is not in the OCI layout ${dir}`, {
    category: "usage",
    hint: "List the layout's names with `jq '.manifests[].annotations' index.json`.",
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
