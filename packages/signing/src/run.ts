import { createPublicKey, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import type { TokenCredential } from "@azure/core-auth";
import { lazyAzureCredential } from "@platform/azure";
import {
  digestDetails,
  escapeMarkdown,
  headline,
  type Logger,
  markdownTable,
  PlatformError,
  shortDigest,
  type TableRow,
} from "@platform/core";
import { acrCredentials, RegistryClient } from "@platform/oci";
import {
  type AttestationUpload,
  createGitHubAttestation,
  type GitHubAttestation,
} from "./github-attestation.ts";
import { type KeylessSigning, keylessSigning } from "./keyless.ts";
import { type KeylessRequest, keylessPolicy, mergeKeyless, wantsKeyless } from "./keyless-verify.ts";
import { type KeyVaultSignerOptions, keyVaultSigner } from "./keyvault.ts";
import { type CosignLayout, type SignFormat, type SignResult, signImage } from "./sign.ts";
import { loadPemChain, loadPemSigner, type Signer } from "./signer.ts";
import type { ArtifactStore } from "./store.ts";
import { loadTrustStore, parseTrustPolicy, type TrustPolicyDocument } from "./trust.ts";
import { cosignKeyName, type VerifyResult, verifyImage } from "./verify.ts";

/** The sign step's inputs, as the action and the CLI both name them. */
export interface SignRequest {
  imageRef: string;
  format: SignFormat;
  /** azurekv://<vault>/<key>[/<version>] or a PEM private key path. */
  key: string;
  certificateChain?: string;
  sbom?: string;
  provenance: boolean;
  cosignLayout?: CosignLayout;
  /** Also store the provenance as a GitHub artifact attestation (needs `attestationUpload`). */
  githubAttestation?: boolean;
}

/** What sign did: the signatures and referrers, and the GitHub artifact attestation when asked for. */
export interface RunSignResult extends SignResult {
  githubAttestation?: Omit<GitHubAttestation, "bundle">;
}

export interface RunDeps {
  client: RegistryClient;
  /** Sign or verify in this store (an OCI layout) instead of the image's registry. */
  store?: ArtifactStore;
  log: Logger;
  env: NodeJS.ProcessEnv;
  /** Base for relative paths (the workspace). */
  root: string;
  /** The Azure credential (Key Vault keys); signs in on its first token request (lazyAzureCredential). */
  credential: TokenCredential;
  keyVault?: Pick<KeyVaultSignerOptions, "clientOptions">;
  now?: Date;
  /** Stores a GitHub artifact attestation (the action passes the repository's attestations API). */
  attestationUpload?: AttestationUpload;
}

/**
 * A registry client that signs in to ACR with the Azure credential, and that credential (for Key Vault);
 * the credential is made on first use, so anonymous registries and PEM keys never touch Azure.
 */
export function azureRegistryAccess(
  env: NodeJS.ProcessEnv,
  log: Logger,
): { client: RegistryClient; credential: TokenCredential } {
  const credential = lazyAzureCredential({ env, log });
  return { client: new RegistryClient({ log, credentials: acrCredentials(credential) }), credential };
}

const resolvePath = (root: string, p: string) => (isAbsolute(p) ? p : join(root, p));

/** The signer a `key` input names: a Key Vault key (azurekv://…), a PEM file, or `keyless` (Fulcio via GitHub OIDC). */
async function openSigner(
  req: Pick<SignRequest, "key" | "certificateChain">,
  deps: RunDeps,
): Promise<Signer | KeylessSigning> {
  const key = req.key.trim();
  if (key === "keyless") return keylessSigning({ env: deps.env, log: deps.log });
  if (key.startsWith("azurekv://")) {
    const chain = req.certificateChain
      ? await loadPemChain(resolvePath(deps.root, req.certificateChain))
      : undefined;
    return keyVaultSigner(key, { credential: deps.credential, chain, ...deps.keyVault });
  }
  return loadPemSigner(
    resolvePath(deps.root, key),
    req.certificateChain ? resolvePath(deps.root, req.certificateChain) : undefined,
  );
}

/** sign: resolve the signer, sign the image by digest, attach attestations. */
export async function runSign(req: SignRequest, deps: RunDeps): Promise<RunSignResult> {
  if (req.githubAttestation && !deps.attestationUpload)
    throw new PlatformError("ATTESTATION_NO_STORE", "github-attestation needs the GitHub attestations API", {
      input: "github-attestation",
      hint: "Use the sign action (it stores the attestation with the job's token), or set github-attestation: false.",
    });
  const signer = await openSigner(req, deps);
  deps.log.info(`signing ${req.imageRef} with ${signer.id}${"alg" in signer ? ` (${signer.alg})` : ""}`);
  const result = await signImage({
    imageRef: req.imageRef,
    format: req.format,
    signer,
    client: deps.client,
    store: deps.store,
    cosignLayout: req.cosignLayout,
    sbom: req.sbom ? resolvePath(deps.root, req.sbom) : undefined,
    provenance: req.provenance ? deps.env : undefined,
    log: deps.log,
    now: deps.now,
  });
  if (!req.githubAttestation || !deps.attestationUpload) return result;
  // After the OCI referrers, so a refused upload leaves the image signed and says what is missing.
  const at = result.image.lastIndexOf("@");
  const { bundle: _stored, ...githubAttestation } = await createGitHubAttestation({
    name: result.image.slice(0, at),
    digest: result.digest,
    env: deps.env,
    log: deps.log,
    upload: deps.attestationUpload,
    now: deps.now,
  });
  return { ...result, githubAttestation };
}

export interface VerifyRequest {
  imageRef: string;
  trustPolicy?: string;
  trustStore?: string;
  /** cosign public key files (PEM). */
  cosignKey: string[];
  /**
   * platform.yaml `signing`: `identities` (x509 subjects) make the trust policy when only a trust store
   * is given; `keys` (cosign public key files) apply when no cosign-key is given.
   */
  signing?: { identities: string[]; keys: string[] } & KeylessRequest;
  /** Keyless cosign bundles: identity (or regexp), OIDC issuer, trusted root; default: platform.yaml's signing. */
  keyless?: KeylessRequest;
}

/** verify: load the trust policy, store and cosign keys, then verify the image's signatures. */
export async function runVerify(
  req: VerifyRequest,
  deps: Omit<RunDeps, "credential">,
): Promise<VerifyResult> {
  const identities = req.signing?.identities ?? [];
  const fromConfig = !req.trustPolicy && !!req.trustStore && identities.length > 0;
  if (!!req.trustPolicy !== !!req.trustStore && !fromConfig) {
    throw new PlatformError("VERIFY_POLICY_AND_STORE", "trust-policy and trust-store go together", {
      input: req.trustPolicy ? "trust-store" : "trust-policy",
      hint: "Pass both: the notation trustpolicy.json and the trust store folder (x509/ca/<name>/*.pem).",
    });
  }
  let notation: Parameters<typeof verifyImage>[0]["notation"];
  if (fromConfig && req.trustStore) {
    const store = await loadTrustStore(resolvePath(deps.root, req.trustStore));
    notation = { policy: policyFromIdentities(identities, [...store.keys()]), store };
  } else if (req.trustPolicy && req.trustStore) {
    const file = resolvePath(deps.root, req.trustPolicy);
    const text = await readFile(file, "utf8").catch((err) => {
      throw new PlatformError("TRUST_POLICY_UNREADABLE", `Cannot read the trust policy ${req.trustPolicy}`, {
        input: "trust-policy",
        file: req.trustPolicy,
        hint: "Check the path; it is relative to the workspace.",
        cause: err,
      });
    });
    notation = {
      policy: parseTrustPolicy(text, req.trustPolicy),
      store: await loadTrustStore(resolvePath(deps.root, req.trustStore)),
    };
  }
  const cosignKeys: Array<{ name: string; key: KeyObject }> = [];
  for (const f of req.cosignKey.length ? req.cosignKey : (req.signing?.keys ?? [])) {
    const pem = await readFile(resolvePath(deps.root, f), "utf8").catch(() => "");
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch {
      throw new PlatformError("COSIGN_KEY_INVALID", `${f} holds no PEM public key`, {
        input: "cosign-key",
        file: f,
        hint: "Pass the cosign public key (cosign.pub, BEGIN PUBLIC KEY), e.g. from `cosign public-key --key azurekms://…`.",
      });
    }
    cosignKeys.push({ name: cosignKeyName(key, f), key });
  }
  const keylessReq = mergeKeyless(req.keyless, req.signing);
  return verifyImage({
    imageRef: req.imageRef,
    client: deps.client,
    store: deps.store,
    notation,
    cosignKeys,
    keyless: wantsKeyless(keylessReq)
      ? await keylessPolicy(keylessReq, (p) => resolvePath(deps.root, p))
      : undefined,
    log: deps.log,
    now: deps.now,
  });
}

/** A strict trust policy for every repository from platform.yaml's signing identities and all the store's CAs. */
export function policyFromIdentities(identities: string[], stores: string[]): TrustPolicyDocument {
  const trustedIdentities = identities.map((i) =>
    i === "*" || i.startsWith("x509.subject:") ? i : `x509.subject: ${i}`,
  );
  return parseTrustPolicy(
    JSON.stringify({
      version: "1.0",
      trustPolicies: [
        {
          name: "platform.yaml signing.identities",
          registryScopes: ["*"],
          signatureVerification: { level: "strict", override: { revocation: "skip" } },
          trustStores: stores.filter((s) => s.startsWith("ca:") || s.startsWith("signingAuthority:")),
          trustedIdentities,
        },
      ],
    }),
    "platform.yaml (signing.identities)",
  );
}

/** The full image reference, folded in a <details> (the headline shows its digest cut to 12 characters). */
function imageLines(image: string): string[] {
  return [`<details><summary>Full reference</summary>\n\n\`${escapeMarkdown(image)}\`\n</details>`, ""];
}

/** Markdown for the job summary of a sign run: ✅ headline, the signer, one row per artifact attached. */
export function signSummary(r: SignResult): string {
  const rows: TableRow[] = r.referrers.map((a) => [a.kind, { raw: digestDetails(a.digest) }, a.mode]);
  for (const s of r.signatures.filter((x) => x.kind === "cosign-legacy"))
    rows.push(["cosign (.sig tag)", { raw: digestDetails(s.digest) }, s.mode]);
  return [
    headline("pass", `Signed ${shortDigest(r.image)}`),
    ...imageLines(r.image),
    `Signer: ${escapeMarkdown(`${r.identity} (${r.signer})`)}`,
    "",
    markdownTable(["artifact", "manifest", "attached via"], rows),
  ].join("\n");
}

/** Markdown for the job summary of a verify run: ✅/❌ headline, the reasons, one row per signature checked. */
export function verifySummary(r: VerifyResult): string {
  const rows: TableRow[] = r.checks.map((c) => [
    `${c.format}${c.predicateType && c.format === "attestation" ? ` (${c.predicateType})` : ""}`,
    c.ok ? "✅" : "❌",
    c.signer ?? "",
    {
      raw: [
        c.code && !c.ok ? `\`${escapeMarkdown(c.code)}\`` : "",
        escapeMarkdown(c.reason ?? c.warnings?.join("; ") ?? ""),
        escapeMarkdown(c.hint ?? ""),
      ]
        .filter(Boolean)
        .join(" — "),
    },
  ]);
  return [
    headline(
      r.verified ? "pass" : "fail",
      `${r.verified ? "Verified" : "Not verified"}: ${shortDigest(r.image)}`,
    ),
    ...imageLines(r.image),
    ...(r.policy ? [`Trust policy: ${escapeMarkdown(r.policy)}`, ""] : []),
    ...(r.reasons.length ? [...r.reasons.map((x) => `- ${escapeMarkdown(x)}`), ""] : []),
    markdownTable(["signature", "valid", "signer", "detail"], rows),
  ].join("\n");
}
