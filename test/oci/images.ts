// Test images built in memory: random layers, an OCI config, a manifest — and referrer artifacts
// (signature- and SBOM-like manifests with a subject), pushed with the client under test.
import { randomBytes } from "node:crypto";
import {
  type Descriptor,
  EMPTY_JSON,
  EMPTY_JSON_DIGEST,
  encodeJson,
  MediaType,
  type RegistryClient,
  type Repo,
  sha256Digest,
} from "@platform/oci";

export interface TestImage {
  manifest: Uint8Array;
  descriptor: Descriptor;
  config: Uint8Array;
  layers: Uint8Array[];
}

/** An OCI image of `layerSizes` random layers (bytes not pushed). */
export function randomImage(layerSizes: number[] = [1024, 2048]): TestImage {
  const layers = layerSizes.map((n) => new Uint8Array(randomBytes(n)));
  const config = encodeJson({
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: layers.map((l) => sha256Digest(l)) },
    config: {},
  });
  const manifest = encodeJson({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: sha256Digest(config), size: config.byteLength },
    layers: layers.map((l) => ({
      mediaType: MediaType.ociLayer,
      digest: sha256Digest(l),
      size: l.byteLength,
    })),
  });
  return {
    manifest,
    config,
    layers,
    descriptor: {
      mediaType: MediaType.ociManifest,
      digest: sha256Digest(manifest),
      size: manifest.byteLength,
    },
  };
}

/** Pushes blobs then the manifest by digest (and under `tag` if given). */
export async function pushImage(
  client: RegistryClient,
  repo: Repo,
  img: TestImage,
  tag?: string,
): Promise<void> {
  for (const b of [img.config, ...img.layers]) await client.pushBlob(repo, b);
  await client.putManifest(repo, img.manifest, MediaType.ociManifest, tag);
}

/** An artifact manifest (empty config, one layer) referring to `subject`. */
export function artifact(
  subject: Descriptor,
  artifactType: string,
  payload: string,
  annotations: Record<string, string> = {},
) {
  const layer = new Uint8Array(Buffer.from(payload));
  const manifest = encodeJson({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType,
    config: { mediaType: MediaType.ociEmpty, digest: EMPTY_JSON_DIGEST, size: 2 },
    layers: [{ mediaType: "application/octet-stream", digest: sha256Digest(layer), size: layer.byteLength }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { "org.opencontainers.image.created": "2026-11-25T00:00:00Z", ...annotations },
  });
  return {
    manifest,
    layer,
    descriptor: {
      mediaType: MediaType.ociManifest,
      digest: sha256Digest(manifest),
      size: manifest.byteLength,
    },
  };
}

/** Pushes an artifact's blobs and the artifact as a referrer. */
export async function pushArtifact(client: RegistryClient, repo: Repo, a: ReturnType<typeof artifact>) {
  await client.pushBlob(repo, EMPTY_JSON);
  await client.pushBlob(repo, a.layer);
  return client.pushReferrer(repo, a.manifest, MediaType.ociManifest);
}

/** A two-platform OCI index (linux/amd64, linux/arm64) over two random images. */
export function randomIndex() {
  const images = [randomImage([700]), randomImage([900])];
  const platforms = [
    { os: "linux", architecture: "amd64" },
    { os: "linux", architecture: "arm64" },
  ];
  const manifest = encodeJson({
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: images.map((img, i) => ({ ...img.descriptor, platform: platforms[i] })),
  });
  return {
    images,
    manifest,
    descriptor: { mediaType: MediaType.ociIndex, digest: sha256Digest(manifest), size: manifest.byteLength },
  };
}
