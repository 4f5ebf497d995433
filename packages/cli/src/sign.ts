import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PlatformError } from "@platform/core/errors";
import type { OciLayout } from "@platform/oci";
import type { ArtifactStore, SignResult, VerifyResult } from "@platform/signing";
import { type Command, Option } from "commander";
import { type Cli, configExplicit, examples, withAzure, withConfig, withOutput } from "./cli.ts";
import { listOption } from "./options.ts";
import { mark, paint, shortDigest, textTable } from "./table.ts";

// @platform/signing (sigstore, Key Vault, x509) and @platform/oci load when a command runs, not at CLI start-up.
const signing = () => import("@platform/signing");
const oci = () => import("@platform/oci");

async function storeOption(layout: string | undefined, cwd: string): Promise<ArtifactStore | undefined> {
  // oci:<dir> is how build-scan's --image names a layout; a bare <dir> works too.
  const dir = layout?.replace(/^oci:/, "");
  if (!dir) return undefined;
  const [{ layoutStore }, { OciLayout }] = await Promise.all([signing(), oci()]);
  return layoutStore(await OciLayout.open(resolve(cwd, dir)));
}

/** Registers `platform sign` and `platform verify`. */
export function registerSign(program: Command, io: Cli): void {
  const sign = program
    .command("sign")
    .description(
      "sign an image by digest (Notary Project and/or cosign) and attach SBOM and provenance as referrers",
    )
    .requiredOption("--image-ref <ref>", "registry/repository@sha256:… (a tag alone is refused)")
    .requiredOption(
      "--key <key>",
      "azurekv://<vault>/<key>[/<version>], a PEM private key file, or keyless (in GitHub Actions)",
    )
    .addOption(
      new Option("--format <format>", "signature formats")
        .choices(["notation", "cosign", "both"])
        .default("both"),
    )
    .option(
      "--certificate-chain <file>",
      "PEM chain (leaf first for a PEM key; intermediates/root for Key Vault)",
    )
    .option("--sbom <file>", "CycloneDX or SPDX JSON SBOM to attest")
    .option(
      "--provenance",
      "attach SLSA provenance v1 of the GitHub Actions run (default: on in a run, as the action; off elsewhere)",
    )
    .option("--no-provenance", "attach no provenance, also in a GitHub Actions run")
    .addOption(
      new Option("--cosign-layout <layout>", "cosign signature location")
        .choices(["bundle", "legacy", "both"])
        .default("both"),
    )
    .option(
      "--layout <dir>",
      "oci:<dir>: sign an image in this OCI image layout (as build-scan's --image oci:<dir>) instead of a registry",
    );
  withOutput(withAzure(sign));
  examples(
    sign,
    "$ platform sign --image-ref myacr.azurecr.io/orders/api@sha256:5e5e… --key azurekv://myvault/release",
    "$ platform sign --image-ref myacr.azurecr.io/orders/api@sha256:5e5e… --key release.pem --sbom sbom.cdx.json --no-provenance",
    "$ platform sign --image-ref orders/api@sha256:5e5e… --layout oci:./image-layout --key dev.pem --format cosign -o json",
  );
  sign.action(async (o, cmd: Command) => {
    // As the action: provenance by default where a workflow run's facts exist; never invented elsewhere.
    const run = io.env.GITHUB_ACTIONS === "true" && !!io.env.GITHUB_REPOSITORY && !!io.env.GITHUB_RUN_ID;
    const provenance = cmd.getOptionValueSource("provenance") === "cli" ? o.provenance === true : run;
    if (provenance && !run)
      throw new PlatformError(
        "SIGN_PROVENANCE_NO_RUN",
        "--provenance needs the facts of a GitHub Actions run",
        {
          input: "provenance",
          hint: "Provenance states which workflow run built the image (GITHUB_REPOSITORY, GITHUB_RUN_ID, …): sign in that workflow, or leave --provenance out.",
        },
      );
    o.provenance = provenance;
    const { azureRegistryAccess, runSign } = await signing();
    const { client, credential } = azureRegistryAccess(io.env, io.log);
    const store = await storeOption(o.layout, io.cwd);
    // The options carry SignRequest's names (--image-ref → imageRef, …).
    const r = await runSign(o, { client, store, credential, log: io.log, env: io.env, root: io.cwd });
    io.out(o.json ? `${JSON.stringify(r, null, 2)}\n` : signTable(r, io.color));
    io.done(0);
  });

  const verify = program
    .command("verify")
    .description(
      "verify an image's signatures with a notation trust policy, cosign public keys and/or a keyless identity",
    )
    .requiredOption("--image-ref <ref>", "registry/repository@sha256:… (or :tag, resolved first)")
    .option("--trust-policy <file>", "notation trustpolicy.json")
    .option("--trust-store <dir>", "trust store folder (x509/ca/<name>/*.pem)")
    .option("--cosign-key <file>", "cosign public key (repeatable, comma-separated)", listOption, [])
    .option("--certificate-identity <san>", "keyless: the exact certificate identity (SAN)")
    .option("--certificate-identity-regexp <re>", "keyless: a regular expression the SAN must match")
    .option(
      "--certificate-oidc-issuer <url>",
      "keyless: the OIDC issuer, e.g. https://token.actions.githubusercontent.com",
    )
    .option(
      "--trusted-root <file>",
      "keyless: sigstore trusted_root.json (e.g. from `cosign trusted-root create`)",
    )
    .option("--no-require-tlog", "keyless: a trusted TSA timestamp suffices without a Rekor entry")
    .option("--layout <dir>", "oci:<dir>: verify an image in this OCI image layout instead of a registry");
  withOutput(
    withAzure(withConfig(verify, "platform.yaml (signing.identities and signing.keys as defaults)")),
  );
  examples(
    verify,
    "$ platform verify --image-ref myacr.azurecr.io/orders/api@sha256:5e5e… --trust-policy trustpolicy.json --trust-store ./truststore",
    "$ platform verify --image-ref myacr.azurecr.io/orders/api:1.4.2 --cosign-key release.pub",
    "$ platform verify --image-ref ghcr.io/acme/web@sha256:… --certificate-identity-regexp '^https://github.com/acme/' --certificate-oidc-issuer https://token.actions.githubusercontent.com",
  );
  verify.action(async (o, cmd: Command) => {
    const { azureRegistryAccess, runVerify } = await signing();
    const { client } = azureRegistryAccess(io.env, io.log);
    const { loadConfig } = await import("@platform/core");
    const { config } = await loadConfig(resolve(io.cwd, o.config), { explicit: configExplicit(cmd) });
    // The options carry VerifyRequest's and KeylessRequest's names (--certificate-identity → certificateIdentity, …).
    const r = await runVerify(
      { ...o, signing: config.signing, keyless: o },
      { client, store: await storeOption(o.layout, io.cwd), log: io.log, env: io.env, root: io.cwd },
    );
    io.out(o.json ? `${JSON.stringify(r, null, 2)}\n` : verifyTable(r, io.color));
    io.done(r.verified ? 0 : 1);
  });
}

const ATTACHED: Record<SignResult["referrers"][number]["mode"], string> = {
  api: "referrers API",
  tag: "referrers tag (sha256-<hex>)",
  layout: "OCI layout index",
  "sig-tag": "cosign .sig tag",
  exists: "already attached",
};

/** `platform sign`'s terminal output: what was attached, as an aligned table. */
export function signTable(r: SignResult, color: boolean): string {
  const artifacts = [...r.referrers, ...r.signatures.filter((s) => s.kind === "cosign-legacy")];
  return `${paint(color, "green", "✅ Signed")} ${r.image}
signer  ${r.identity} (${r.signer})

${textTable(
  ["ARTIFACT", "MANIFEST", "ATTACHED VIA"],
  artifacts.map((a) => [a.kind, shortDigest(a.digest), ATTACHED[a.mode]]),
  { color },
)}
`;
}

/** `platform verify`'s terminal output: the verdict, why, and one row per signature checked. */
export function verifyTable(r: VerifyResult, color: boolean): string {
  const head = r.verified
    ? `${paint(color, "green", "✅ Verified")}: ${r.image}`
    : `${paint(color, "red", "❌ Not verified")}: ${r.image}`;
  const lines = [head];
  if (r.policy) lines.push(`trust policy  ${r.policy}`);
  for (const reason of r.reasons) lines.push(paint(color, "red", `  ${reason}`));
  const rows = r.checks.map((c) => [
    c.format === "attestation" && c.predicateType ? `attestation (${c.predicateType})` : c.format,
    shortDigest(c.source),
    mark(color, c.ok ? "pass" : "fail"),
    c.signer ?? "",
    [c.code && !c.ok ? c.code : "", c.reason ?? c.warnings?.join("; ") ?? "", c.hint ? `hint: ${c.hint}` : ""]
      .filter(Boolean)
      .join(" — "),
  ]);
  lines.push(
    "",
    rows.length
      ? textTable(["SIGNATURE", "SOURCE", "VALID", "SIGNER", "DETAIL"], rows, { color })
      : "no signature or attestation found",
  );
  return `${lines.join("\n")}\n`;
}

/**
 * The demo's signing part: a generated key signs the demo image in an OCI layout (Notary Project +
 * cosign, SBOM, provenance), verification passes; then a tampered copy of the image carrying the
 * same signatures fails verification with the reason.
 */
export async function demoSign(io: { out: (s: string) => void; color?: boolean }): Promise<void> {
  const color = io.color ?? false;
  const {
    generateSigningIdentity,
    layoutStore,
    loadTrustStore,
    localSigner,
    NOTARY_ARTIFACT_TYPE,
    notarySignatureManifest,
    parseTrustPolicy,
    signImage,
    verifyImage,
  } = await signing();
  const dir = await mkdtemp(join(tmpdir(), "platform-sign-demo-"));
  try {
    const { encodeJson, MediaType, OciLayout } = await oci();
    const layout = await OciLayout.create(join(dir, "layout"));
    const store = layoutStore(layout);
    const name = "northwind.azurecr.io/orders-api";
    const original = await addDemoImage(layout, "orders-api:1.4.2", "orders-api 1.4.2");
    const id = await generateSigningIdentity({
      subject: "C=US, ST=WA, O=Northwind Traders, CN=northwind-release",
    });
    const storeDir = join(dir, "trust-store", "x509", "ca", "northwind");
    await mkdir(storeDir, { recursive: true });
    await writeFile(join(storeDir, "root.pem"), id.rootPem);
    const policy = parseTrustPolicy(
      JSON.stringify({
        version: "1.0",
        trustPolicies: [
          {
            name: "northwind-images",
            registryScopes: [name],
            signatureVerification: { level: "strict", override: { revocation: "skip" } },
            trustStores: ["ca:northwind"],
            trustedIdentities: [`x509.subject: ${id.subject}`],
          },
        ],
      }),
    );
    const trust = { policy, store: await loadTrustStore(join(dir, "trust-store")) };
    // node:crypto is imported where it is used: at start-up it costs every command ~4 ms.
    const { createPublicKey } = await import("node:crypto");
    const cosignKeys = [{ name: "northwind-release.pub", key: createPublicKey(id.privateKey) }];
    const sbom = join(dir, "sbom.cdx.json");
    await writeFile(
      sbom,
      JSON.stringify({
        bomFormat: "CycloneDX",
        specVersion: "1.6",
        version: 1,
        components: [{ type: "library", name: "express", version: "4.21.2" }],
      }),
    );
    const signed: SignResult = await signImage({
      imageRef: `${name}@${original}`,
      format: "both",
      cosignLayout: "bundle",
      signer: localSigner(id.privateKey, id.chain, "generated demo key"),
      store,
      sbom,
      provenance: {
        GITHUB_REPOSITORY: "northwind/orders-api",
        GITHUB_SHA: "4f1c2e9d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e",
        GITHUB_REF: "refs/heads/main",
        GITHUB_RUN_ID: "1234",
        GITHUB_WORKFLOW_REF: "northwind/orders-api/.github/workflows/deliver.yml@refs/heads/main",
      },
    });
    io.out(
      `\nSigning the demo image with a generated key (OCI layout, no registry needed):\n${signTable(signed, color)}`,
    );
    const ok: VerifyResult = await verifyImage({
      imageRef: `${name}@${original}`,
      store,
      notation: trust,
      cosignKeys,
    });
    io.out(`\nVerifying it with the trust policy and the cosign key:\n${verifyTable(ok, color)}`);

    // A tampered copy: one layer changed (new digest), the original's Notary signature copied onto it.
    const tampered = await addDemoImage(layout, "orders-api:1.4.2-patched", "orders-api 1.4.2 + backdoor");
    const sig = (await store.listReferrers(original)).descriptors.find(
      (d) => d.artifactType === NOTARY_ARTIFACT_TYPE,
    )!;
    const sigManifest = (await store.getManifest(sig.digest))!.manifest as {
      layers: Array<{ digest: string }>;
    };
    const envelope = Buffer.from(await store.getBlob(sigManifest.layers[0]!.digest));
    const subject = await store.resolve(tampered);
    await store.pushReferrer(
      encodeJson(notarySignatureManifest(envelope, subject, id.chain)),
      MediaType.ociManifest,
    );
    const bad = await verifyImage({ imageRef: `${name}@${tampered}`, store, notation: trust, cosignKeys });
    io.out(`\nVerifying a tampered copy that carries the original's signature:\n${verifyTable(bad, color)}`);
    io.out(
      "\nIn CI: uses: org/platform/actions/sign@v1 and org/platform/actions/verify@v1 (see README); locally: platform sign / platform verify.\n",
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A small image (config + one layer) written into the layout under `refName`; returns its digest. */
async function addDemoImage(layout: OciLayout, refName: string, content: string): Promise<string> {
  const { encodeJson, MediaType, sha256Digest } = await oci();
  const { randomBytes } = await import("node:crypto");
  const layer = Buffer.concat([Buffer.from(content), randomBytes(16)]);
  const config = encodeJson({
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: [sha256Digest(layer)] },
  });
  await layout.writeBlob(layer);
  await layout.writeBlob(config);
  const manifest = encodeJson({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: sha256Digest(config), size: config.byteLength },
    layers: [{ mediaType: MediaType.ociLayer, digest: sha256Digest(layer), size: layer.byteLength }],
  });
  return (await layout.addManifest(manifest, MediaType.ociManifest, refName)).digest;
}
