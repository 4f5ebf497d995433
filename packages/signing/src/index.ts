export {
  CYCLONEDX_PREDICATE,
  GITHUB_WORKFLOW_BUILD_TYPE,
  githubProvenance,
  readSbom,
  type Sbom,
  SLSA_PROVENANCE_V1,
  SPDX_PREDICATE,
} from "./attest.ts";
export {
  type GeneratedIdentity,
  generateRoot,
  generateSigningIdentity,
  type IdentityOptions,
} from "./certs.ts";
export { VERIFY_CHECKS, type VerifyCheckName } from "./checks.ts";
export {
  BUNDLE_MEDIA_TYPE,
  COSIGN_SIGN_PREDICATE,
  cosignLegacySignature,
  cosignSignatureTag,
  cosignVerify,
  dsseBundle,
  inTotoStatement,
  parseBundle,
  publicKeyPem,
  SIMPLESIGNING_MEDIA_TYPE,
  sigstoreKeySigner,
} from "./cosign.ts";
export { type KeySpec, keySpecOf, type NotaryAlg, notaryAlgFor } from "./crypto.ts";
export {
  type AttestationSigstore,
  type AttestationUpload,
  attestationSigstore,
  createGitHubAttestation,
  type GitHubAttestation,
} from "./github-attestation.ts";
export { isKeyless, type KeylessOptions, type KeylessSigning, keylessSigning } from "./keyless.ts";
export {
  GITHUB_OIDC_ISSUER,
  type KeylessPolicy,
  type KeylessRequest,
  type KeylessVerdict,
  keylessPolicy,
  loadTrustedRoot,
  mergeKeyless,
  verifyKeylessBundle,
} from "./keyless-verify.ts";
export {
  type KeyVaultKeyRef,
  type KeyVaultSignerOptions,
  keyVaultSigner,
  parseKeyVaultUri,
} from "./keyvault.ts";
export {
  type Descriptor,
  NOTARY_ARTIFACT_TYPE,
  notarySignatureManifest,
  type OciManifest,
  parseNotaryJws,
  signNotaryJws,
} from "./notary.ts";
export {
  azureRegistryAccess,
  type RunDeps,
  type RunSignResult,
  runSign,
  runVerify,
  type SignRequest,
  signSummary,
  type VerifyRequest,
  verifySummary,
} from "./run.ts";
export {
  type CosignLayout,
  KEY_ANNOTATION,
  type SignedArtifact,
  type SignFormat,
  type SignOptions,
  type SignResult,
  signImage,
} from "./sign.ts";
export { loadPemSigner, localSigner, type Signer } from "./signer.ts";
export { type ArtifactStore, layoutStore, registryStore } from "./store.ts";
export {
  loadTrustStore,
  type NotaryVerdict,
  parseTrustPolicy,
  selectPolicy,
  type TrustPolicy,
  type TrustPolicyDocument,
  type TrustStore,
  verifyNotarySignature,
} from "./trust.ts";
export {
  cosignKeyName,
  type SignatureCheck,
  type VerifyOptions,
  type VerifyResult,
  verifyImage,
} from "./verify.ts";
