// @platform/oci — a pure-TypeScript OCI registry client: the distribution reference grammar,
// the distribution API (manifests, blobs, chunked uploads, cross-repository mounts, referrers API
// with the tag-schema fallback), registry auth (Bearer challenges, ACR's Entra token exchange),
// OCI image layouts on disk, and copying/promotion by digest with the referrer graph.

export {
  type AcrArmTarget,
  type ImportImageOptions,
  importImage,
  type PromoteAcrOptions,
  type PromoteAcrResult,
  PUBLIC_ARM_ENDPOINT,
  promoteAcrImage,
} from "./acr.ts";
export {
  ACR_ENTRA_SCOPE,
  acrCredentials,
  type Challenge,
  type CredentialProvider,
  isAcrHost,
  parseWwwAuthenticate,
  type RegistryCredential,
  repositoryScope,
  roleHint,
  scopesCover,
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
  GraphCopier,
  type ImageStore,
  layoutStore,
  lazyReader,
  type PutBlobOutcome,
  registryStore,
} from "./copy.ts";
export { OciLayout, REF_NAME_ANNOTATION } from "./layout.ts";
export {
  apiHost,
  formatReference,
  isLoopbackRegistry,
  makeReference,
  NAME_MAX_LENGTH,
  type ParseReferenceOptions,
  parseReference,
  type Reference,
  TAG_MAX_LENGTH,
} from "./reference.ts";
export {
  addToIndex,
  emptyIndex,
  filterReferrers,
  nextLink,
  referrerDescriptor,
  referrersTag,
  removeFromIndex,
} from "./referrers.ts";
export type { PushReferrerResult, ReferrersResult } from "./referrers-client.ts";
export type { AccessOptions, Repo, RequestStats } from "./session.ts";
export { type BlobReader, streamReader, verifyingStream } from "./stream.ts";
export {
  artifactTypeOf,
  childDescriptors,
  type Descriptor,
  describeBytes,
  digestOf,
  EMPTY_JSON,
  EMPTY_JSON_DIGEST,
  encodeJson,
  type ImageIndex,
  type ImageManifest,
  isIndex,
  isIndexMediaType,
  isManifestMediaType,
  MANIFEST_ACCEPT,
  type Manifest,
  MediaType,
  type Platform,
  parseManifest,
  sha256Digest,
  verifyDigest,
} from "./types.ts";
export type { BlobContent, MountResult, PushBlobOptions, PushBlobResult } from "./upload.ts";
