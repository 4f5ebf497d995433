// @platform/oci — a pure-TypeScript OCI registry client: the distribution reference grammar,
// the distribution API (manifests, blobs, chunked uploads, cross-repository mounts, referrers API
// with the tag-schema fallback), registry auth (Bearer challenges, ACR's Entra token exchange),
// OCI image layouts on disk, and copying/promotion by digest with the referrer graph.
// Only what other packages use is exported (with the types of its signatures); tests of the
// internals import them from their own files.

export {
  type AcrArmTarget,
  type PromoteAcrOptions,
  type PromoteAcrResult,
  promoteAcrImage,
} from "./acr.ts";
export {
  ACR_ENTRA_SCOPE,
  acrCredentials,
  type CredentialProvider,
  isAcrHost,
  type RegistryCredential,
} from "./auth.ts";
export {
  type FetchedManifest,
  type PutManifestResult,
  RegistryClient,
  type RegistryClientOptions,
} from "./client.ts";
export {
  type CopyEndpoint,
  type CopyOptions,
  type CopyResult,
  copyImage,
  type ImageStore,
} from "./copy.ts";
export { OciLayout } from "./layout.ts";
export {
  formatReference,
  isLoopbackRegistry,
  makeReference,
  type ParseReferenceOptions,
  parseReference,
  type Reference,
} from "./reference.ts";
export { referrersTag } from "./referrers.ts";
export type { PushReferrerResult, ReferrersResult } from "./referrers-client.ts";
export type { AccessOptions, Repo, RequestStats } from "./session.ts";
export type { BlobReader } from "./stream.ts";
export {
  type Descriptor,
  describeBytes,
  EMPTY_JSON,
  EMPTY_JSON_DIGEST,
  encodeJson,
  type ImageIndex,
  type ImageManifest,
  type Manifest,
  MediaType,
  type Platform,
  parseManifest,
  sha256Digest,
} from "./types.ts";
export type { BlobContent, MountResult, PushBlobOptions, PushBlobResult } from "./upload.ts";
