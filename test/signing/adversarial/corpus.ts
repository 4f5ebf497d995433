// The adversarial corpus: each case pushes an image and its signature(s) to the registry and writes the
// verifier configuration (a notation config dir, or a cosign public key) into its own folder. The cases
// are what an attacker (or a careless CA or policy author) would try; the judges decide, not the case.
import { execFile } from "node:child_process";
import { generateKeyPairSync, type KeyObject, sign as nodeSign } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Descriptor, parseReference, type RegistryClient } from "@platform/oci";
import {
  COSIGN_SIGN_PREDICATE,
  CYCLONEDX_PREDICATE,
  cosignLegacySignature,
  localSigner,
  publicKeyPem,
  signImage,
} from "@platform/signing";
import { pushRandomImage } from "../helpers.ts";
import {
  attachBundle,
  attachJunkNotary,
  attachLegacy,
  attachNotary,
  forgeBundle,
  forgeJws,
  type JwsSpec,
  rfc3339,
} from "./forge.ts";
import {
  type CertSpec,
  type Chain,
  chain,
  days,
  EKU,
  issue,
  KU,
  LEAF_IDENTITY,
  LEAF_SUBJECT,
} from "./pki.ts";

const run = promisify(execFile);

export type Anchor = "notation" | "cosign";

export interface CaseContext {
  client: RegistryClient;
  /** host:port of the registry. */
  registry: string;
  /** The case's own folder (the action's workspace). */
  dir: string;
  /** Paths of the peer tools. */
  bin: Record<string, string>;
  /** HOME for the peer tools (no user config). */
  home: string;
}

/** What a built case hands the judges. */
export interface BuiltCase {
  ref: string;
  /** Notary cases: XDG_CONFIG_HOME holding notation/trustpolicy.json and notation/truststore. */
  xdg?: string;
  /** cosign cases: public key file, and whether signatures are in the legacy `.sig` layout. */
  cosign?: { pubFile: string; legacy: boolean };
}

export interface Case {
  id: string;
  class: string;
  anchor: Anchor;
  what: string;
  build(ctx: CaseContext): Promise<BuiltCase>;
  /** When we reject: the cause our reason must name (matched against the reasons / error code+message). */
  cause?: RegExp;
  /** The PlatformError code our library must throw (policy errors), besides naming the cause. */
  code?: string;
  /** What the anchor's message says when it rejects for the intended cause (else: "anchor-unrelated"). */
  anchorCause?: RegExp;
  /** A control: the anchor must accept it (the harness is broken otherwise), and so must we. */
  control?: boolean;
  /** We reject although the anchor accepts, on purpose: why. */
  stricter?: string;
}

// ── notation configuration ────────────────────────────────────────────────────────────────────────

interface PolicyOpts {
  name?: string;
  scopes?: readonly string[];
  level?: string;
  override?: Record<string, string> | undefined;
  stores?: readonly string[];
  identities?: readonly string[];
  verifyTimestamp?: string;
}

function policyEntry(o: PolicyOpts = {}) {
  return {
    name: o.name ?? "corpus",
    registryScopes: o.scopes ?? ["*"],
    signatureVerification: {
      level: o.level ?? "strict",
      ...("override" in o
        ? o.override
          ? { override: o.override }
          : {}
        : { override: { revocation: "skip" } }),
      ...(o.verifyTimestamp ? { verifyTimestamp: o.verifyTimestamp } : {}),
    },
    trustStores: o.stores ?? ["ca:corpus"],
    trustedIdentities: o.identities ?? [LEAF_IDENTITY],
  };
}

const policyDoc = (...entries: object[]) =>
  JSON.stringify({ version: "1.0", trustPolicies: entries }, null, 2);

/** Writes notation's config dir: trustpolicy.json and truststore/x509/<type>/<name>/*.pem. */
async function notationConfig(
  dir: string,
  policy: string,
  stores: Record<string, string[]>,
): Promise<string> {
  const xdg = join(dir, "xdg");
  const base = join(xdg, "notation");
  await mkdir(base, { recursive: true });
  await writeFile(join(base, "trustpolicy.json"), policy);
  for (const [store, pems] of Object.entries(stores)) {
    const [type, name] = store.split(":") as [string, string];
    const d = join(base, "truststore", "x509", type, name);
    await mkdir(d, { recursive: true });
    for (const [i, pem] of pems.entries()) await writeFile(join(d, `cert-${i}.pem`), pem);
  }
  return xdg;
}

interface NotaryOpts {
  chain?: Chain | (() => Promise<Chain>);
  /** Trust stores (default: ca:corpus = the root). */
  stores?: (c: Chain) => Record<string, string[]> | Promise<Record<string, string[]>>;
  policy?: string;
  /** Tweaks of the forged envelope. */
  jws?: (c: Chain, target: Descriptor) => Partial<JwsSpec>;
  /** Attach signatures yourself (default: one forged envelope). */
  attach?: (ctx: CaseContext, ref: string, target: Descriptor, c: Chain) => Promise<void>;
  /** Repository (default corpus/<id>); `host` overrides the registry host in the reference. */
  repo?: string;
  host?: (registry: string) => string;
}

const standardStores = (c: Chain) => ({ "ca:corpus": [c.root.pem] });

/** A Notary case: a chain, a signed image, a trust store and policy. */
function notary(id: string, o: NotaryOpts = {}): (ctx: CaseContext) => Promise<BuiltCase> {
  return async (ctx) => {
    const c = typeof o.chain === "function" ? await o.chain() : (o.chain ?? (await chain()));
    const pushed = await pushRandomImage(ctx.client, {
      registry: ctx.registry,
      repository: o.repo ?? `corpus/${id}`,
    });
    const ref = o.host ? pushed.replace(ctx.registry, o.host(ctx.registry)) : pushed;
    const target = await ctx.client.resolve(parseReference(pushed));
    if (o.attach) await o.attach(ctx, pushed, target, c);
    else {
      const env = forgeJws({ target, key: c.leaf.privateKey, x5c: c.x5c, ...o.jws?.(c, target) });
      await attachNotary(ctx.client, pushed, env, c.x5c);
    }
    const xdg = await notationConfig(
      ctx.dir,
      o.policy ?? policyDoc(policyEntry()),
      await (o.stores ?? standardStores)(c),
    );
    return { ref, xdg };
  };
}

/** An image signed by the real `notation sign` (key from `notation cert generate-test`), in `format`. */
function notationSigned(format: "jws" | "cose"): (ctx: CaseContext) => Promise<BuiltCase> {
  return async (ctx) => {
    const ref = await pushRandomImage(ctx.client, {
      registry: ctx.registry,
      repository: `corpus/by-notation-${format}`,
    });
    const xdg = join(ctx.dir, "xdg");
    const env = { PATH: process.env.PATH ?? "", HOME: ctx.home, XDG_CONFIG_HOME: xdg };
    await run(ctx.bin.notation!, ["cert", "generate-test", "--default", "corpus-test"], { env });
    const args = [
      "sign",
      "--insecure-registry",
      "--force-referrers-tag=false",
      "--signature-format",
      format,
      ref,
    ];
    await run(ctx.bin.notation!, args, { env });
    await writeFile(
      join(xdg, "notation", "trustpolicy.json"),
      policyDoc(
        policyEntry({
          stores: ["ca:corpus-test"],
          identities: ["x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=corpus-test"],
        }),
      ),
    );
    return { ref, xdg };
  };
}

/** A chain whose one certificate differs from the default. */
const bent = (opts: { root?: CertSpec; intermediates?: CertSpec[]; leaf?: CertSpec }) => () => chain(opts);

const EXPIRED = { notBefore: days(-30), notAfter: days(-1) };
const NOT_YET = { notBefore: days(1), notAfter: days(30) };

// ── cosign configuration ─────────────────────────────────────────────────────────────────────────

function ecKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync("ec", { namedCurve: "P-256" });
}

async function writePub(dir: string, key: KeyObject, name = "cosign.pub"): Promise<string> {
  const f = join(dir, name);
  await writeFile(f, publicKeyPem(key));
  return f;
}

interface CosignOpts {
  legacy?: boolean;
  /** Attach the signature(s); returns the key that should verify them. */
  attach: (ctx: CaseContext, ref: string, digest: string) => Promise<KeyObject>;
}

function cosign(id: string, o: CosignOpts): (ctx: CaseContext) => Promise<BuiltCase> {
  return async (ctx) => {
    const ref = await pushRandomImage(ctx.client, { registry: ctx.registry, repository: `corpus/${id}` });
    const pub = await o.attach(ctx, ref, parseReference(ref).digest!);
    return { ref, cosign: { pubFile: await writePub(ctx.dir, pub), legacy: o.legacy ?? false } };
  };
}

const ourCosign = (layout: "bundle" | "legacy") => async (ctx: CaseContext, ref: string) => {
  const k = ecKey();
  await signImage({
    imageRef: ref,
    format: "cosign",
    cosignLayout: layout,
    signer: localSigner(k.privateKey),
    client: ctx.client,
  });
  return k.publicKey;
};

/** cosign's simple-signing payload for repository@digest, as our signer writes it (the signature is not used). */
async function cosignPayload(repository: string, digest: string): Promise<Buffer> {
  return (await cosignLegacySignature(localSigner(ecKey().privateKey), repository, digest)).payload;
}

/** The same simple-signing payload with other `optional` annotations (different signed bytes). */
function withOptional(payload: Buffer, optional: Record<string, string>): Buffer {
  return Buffer.from(JSON.stringify({ ...JSON.parse(payload.toString()), optional }));
}

/** Protected-header members of the signingAuthority scheme (authenticSigningTime instead of signingTime). */
const SIGNING_AUTHORITY_HEADER = () => ({
  "io.cncf.notary.signingScheme": "notary.x509.signingAuthority",
  "io.cncf.notary.signingTime": undefined,
  "io.cncf.notary.authenticSigningTime": rfc3339(new Date(Date.now() - 60_000)),
  crit: ["io.cncf.notary.signingScheme", "io.cncf.notary.authenticSigningTime"],
});

const repoOf = (ref: string) => ref.slice(0, ref.indexOf("@"));

// ── the cases ────────────────────────────────────────────────────────────────────────────────────

const VALIDITY = /expired|not yet valid|valid .* not at|validity/i;
const EKU_CAUSE = /extended key usage|EKU|codeSigning|serverAuth|timeStamping|anyExtendedKeyUsage/i;
const KU_CAUSE = /key ?usage|digitalSignature|keyCertSign/i;
const BC_CAUSE = /basic ?constraints|CA:?\s*(TRUE|FALSE)|not a CA|is a CA|cA/i;
const PATHLEN = /path ?len|path length/i;
const DN_CAUSE = /duplicate|multi-valued|RDN|twice/i;
// notation's and cosign's own words for a cause, to tell an intended rejection from an unrelated one.
const PARENT_CANNOT_SIGN = /parent certificate cannot sign this kind of certificate/;
const NO_IDENTITY_MATCH = /does not match the X\.509 trusted identities/;
const NO_TRUSTED_CERT = /certificate chain does not contain any trusted certificate/;
const ATTESTATION_IS_NOT_A_SIGNATURE =
  "cosign verify accepts any DSSE bundle by the key whose subject digest matches, whatever its predicateType; we count only statements whose signed predicateType is cosign's signature predicate, so an SBOM or provenance attestation (or one re-labelled by an unsigned annotation) is not a signature (issue 14 §5)";
const POLICY_CODE = "TRUST_POLICY_INVALID";

export const CASES: Case[] = [
  // Controls: notation-signed and our-signed, both accepted by everyone.
  {
    id: "control-notation-signed",
    class: "control",
    anchor: "notation",
    what: "`notation sign` with `notation cert generate-test`",
    control: true,
    build: notationSigned("jws"),
  },
  {
    id: "cose-notation-signed",
    class: "envelope",
    anchor: "notation",
    what: "`notation sign --signature-format cose` (a valid COSE envelope)",
    cause: /COSE/,
    stricter:
      "we verify JWS envelopes only; a COSE signature is rejected with that reason (issue 14 §10: what is not checked is a clear error, never a pass), while notation verifies COSE",
    build: notationSigned("cose"),
  },
  {
    id: "control-our-signed",
    class: "control",
    anchor: "notation",
    what: "signImage (format notation) with a root → intermediate → leaf chain",
    control: true,
    build: notary("control-our-signed", {
      attach: async (ctx, ref, _t, c) => {
        await signImage({
          imageRef: ref,
          format: "notation",
          signer: localSigner(c.leaf.privateKey, c.x5c),
          client: ctx.client,
        });
      },
    }),
  },
  {
    id: "control-forged-valid",
    class: "control",
    anchor: "notation",
    what: "the corpus's own envelope builder, nothing bent (proves the forge is sound)",
    control: true,
    build: notary("control-forged-valid"),
  },
  {
    id: "control-rsa-ps256",
    class: "control",
    anchor: "notation",
    what: "RSA-2048 leaf, PS256",
    control: true,
    build: notary("control-rsa-ps256", { chain: bent({ leaf: { key: "RSA-2048" } }) }),
  },

  // Validity at every chain position, and the signature's own expiry.
  ...(
    [
      ["leaf", "expired"],
      ["leaf", "not-yet-valid"],
      ["intermediate", "expired"],
      ["intermediate", "not-yet-valid"],
      ["root", "expired"],
      ["root", "not-yet-valid"],
    ] as const
  ).map(
    ([pos, when]): Case => ({
      id: `validity-${pos}-${when}`,
      class: "validity",
      anchor: "notation",
      what: `${pos} certificate ${when}`,
      cause: VALIDITY,
      anchorCause: /validity period/,
      build: notary(`validity-${pos}-${when}`, {
        chain: () => {
          const v = when === "expired" ? EXPIRED : NOT_YET;
          return chain(pos === "leaf" ? { leaf: v } : pos === "root" ? { root: v } : { intermediates: [v] });
        },
      }),
    }),
  ),
  {
    id: "validity-signature-expired",
    class: "validity",
    anchor: "notation",
    what: "signed two days ago, io.cncf.notary.expiry yesterday",
    cause: /expired signature|expir/i,
    anchorCause: /expired/i,
    build: notary("validity-signature-expired", {
      jws: () => ({ expiry: days(-1), header: { "io.cncf.notary.signingTime": rfc3339(days(-2)) } }),
    }),
  },
  {
    id: "validity-expiry-before-signing",
    class: "validity",
    anchor: "notation",
    what: "io.cncf.notary.expiry before io.cncf.notary.signingTime",
    cause: /expir/i,
    anchorCause: /expiry cannot be equal or before the signing time/,
    build: notary("validity-expiry-before-signing", { jws: () => ({ expiry: days(-1) }) }),
  },

  // Extended key usage of the leaf.
  {
    id: "eku-serverauth-only",
    class: "eku",
    anchor: "notation",
    what: "leaf EKU serverAuth only (a TLS certificate)",
    cause: EKU_CAUSE,
    anchorCause: /extended key usage must not contain/,
    build: notary("eku-serverauth-only", { chain: bent({ leaf: { eku: [EKU.serverAuth] } }) }),
  },
  {
    id: "eku-timestamping",
    class: "eku",
    anchor: "notation",
    what: "leaf EKU timeStamping (a TSA certificate)",
    cause: EKU_CAUSE,
    anchorCause: /extended key usage must not contain/,
    build: notary("eku-timestamping", { chain: bent({ leaf: { eku: [EKU.timeStamping] } }) }),
  },
  {
    id: "eku-any",
    class: "eku",
    anchor: "notation",
    what: "leaf EKU anyExtendedKeyUsage",
    cause: EKU_CAUSE,
    anchorCause: /extended key usage/,
    build: notary("eku-any", { chain: bent({ leaf: { eku: [EKU.any] } }) }),
  },
  {
    id: "eku-codesigning-and-serverauth",
    class: "eku",
    anchor: "notation",
    what: "leaf EKU codeSigning + serverAuth",
    cause: EKU_CAUSE,
    anchorCause: /extended key usage must not contain/,
    build: notary("eku-codesigning-and-serverauth", {
      chain: bent({ leaf: { eku: [EKU.codeSigning, EKU.serverAuth] } }),
    }),
  },
  {
    id: "eku-absent",
    class: "eku",
    anchor: "notation",
    what: "leaf without an EKU extension (the spec makes EKU optional)",
    cause: EKU_CAUSE,
    build: notary("eku-absent", { chain: bent({ leaf: { eku: "absent" } }) }),
  },

  // Key usage.
  {
    id: "ku-leaf-no-digitalsignature",
    class: "ku",
    anchor: "notation",
    what: "leaf keyUsage keyEncipherment only",
    cause: KU_CAUSE,
    anchorCause: /key usage must have the bit positions for "Digital Signature"/,
    build: notary("ku-leaf-no-digitalsignature", { chain: bent({ leaf: { keyUsage: KU.keyEncipherment } }) }),
  },
  {
    id: "ku-leaf-absent",
    class: "ku",
    anchor: "notation",
    what: "leaf without a keyUsage extension",
    cause: KU_CAUSE,
    anchorCause: /key usage extension must be present/,
    build: notary("ku-leaf-absent", { chain: bent({ leaf: { keyUsage: "absent" } }) }),
  },
  {
    id: "ku-leaf-certsign",
    class: "ku",
    anchor: "notation",
    what: "leaf keyUsage digitalSignature + keyCertSign",
    cause: KU_CAUSE,
    anchorCause: /key usage must be "Digital Signature" only/,
    build: notary("ku-leaf-certsign", {
      chain: bent({ leaf: { keyUsage: KU.digitalSignature | KU.keyCertSign } }),
    }),
  },
  {
    id: "ku-intermediate-no-keycertsign",
    class: "ku",
    anchor: "notation",
    what: "intermediate keyUsage digitalSignature only (no keyCertSign)",
    cause: KU_CAUSE,
    anchorCause: PARENT_CANNOT_SIGN,
    build: notary("ku-intermediate-no-keycertsign", {
      chain: bent({ intermediates: [{ keyUsage: KU.digitalSignature }] }),
    }),
  },
  {
    id: "ku-root-no-keycertsign",
    class: "ku",
    anchor: "notation",
    what: "root keyUsage cRLSign only",
    cause: KU_CAUSE,
    anchorCause: PARENT_CANNOT_SIGN,
    build: notary("ku-root-no-keycertsign", { chain: bent({ root: { keyUsage: KU.cRLSign } }) }),
  },

  // basicConstraints and path length.
  {
    id: "bc-intermediate-ca-false",
    class: "basic-constraints",
    anchor: "notation",
    what: "intermediate CA:FALSE issuing the leaf",
    cause: BC_CAUSE,
    anchorCause: PARENT_CANNOT_SIGN,
    build: notary("bc-intermediate-ca-false", { chain: bent({ intermediates: [{ ca: false }] }) }),
  },
  {
    id: "bc-intermediate-absent",
    class: "basic-constraints",
    anchor: "notation",
    what: "intermediate without basicConstraints",
    cause: BC_CAUSE,
    anchorCause: PARENT_CANNOT_SIGN,
    build: notary("bc-intermediate-absent", { chain: bent({ intermediates: [{ ca: "absent" }] }) }),
  },
  {
    id: "bc-root-ca-false",
    class: "basic-constraints",
    anchor: "notation",
    what: "root CA:FALSE (self-signed end-entity used as a root)",
    cause: BC_CAUSE,
    anchorCause: PARENT_CANNOT_SIGN,
    build: notary("bc-root-ca-false", { chain: bent({ root: { ca: false } }) }),
  },
  {
    id: "bc-leaf-ca-true",
    class: "basic-constraints",
    anchor: "notation",
    what: "leaf CA:TRUE",
    cause: BC_CAUSE,
    anchorCause: /basic constraints extension is present, the ca field must be set to false/,
    build: notary("bc-leaf-ca-true", { chain: bent({ leaf: { ca: true } }) }),
  },
  {
    id: "pathlen-root-zero",
    class: "path-length",
    anchor: "notation",
    what: "root pathLenConstraint 0 above an intermediate",
    cause: PATHLEN,
    anchorCause: /expected path length of \d+ but certificate has path length/,
    build: notary("pathlen-root-zero", { chain: bent({ root: { pathLength: 0 } }) }),
  },
  {
    id: "pathlen-intermediate-zero",
    class: "path-length",
    anchor: "notation",
    what: "intermediate pathLen 0 above a second intermediate",
    cause: PATHLEN,
    anchorCause: /expected path length of \d+ but certificate has path length/,
    build: notary("pathlen-intermediate-zero", { chain: bent({ intermediates: [{ pathLength: 0 }, {}] }) }),
  },
  {
    id: "pathlen-ok",
    class: "path-length",
    anchor: "notation",
    what: "root pathLen 1 above one intermediate (within the limit)",
    build: notary("pathlen-ok", { chain: bent({ root: { pathLength: 1 } }) }),
  },

  // Subject variants against the trusted identity.
  {
    id: "dn-duplicate-o",
    class: "subject",
    anchor: "notation",
    what: "leaf subject O=TeamB, O=Acme; identity O=Acme",
    cause: DN_CAUSE,
    anchorCause: /multi-valued RDN/,
    build: notary("dn-duplicate-o", {
      chain: bent({
        leaf: {
          subject: [
            { C: ["US"] },
            { ST: ["WA"] },
            { O: ["TeamB"] },
            { O: ["Acme"] },
            { CN: ["corpus-signer"] },
          ],
        },
      }),
    }),
  },
  {
    id: "dn-multivalued-rdn",
    class: "subject",
    anchor: "notation",
    what: "leaf subject with a multi-valued RDN O=Acme+OU=Build",
    cause: DN_CAUSE,
    stricter:
      "notation reads the subject through Go's pkix.Name, which flattens a multi-valued RDN (O=Acme+OU=Build) into separate attributes and then matches O=Acme; we parse the DER structurally and refuse multi-valued RDNs (issue 14 §4), the same flattening that makes O=TeamB, O=Acme an ambiguous match",
    build: notary("dn-multivalued-rdn", {
      chain: bent({
        leaf: {
          subject: [{ C: ["US"] }, { ST: ["WA"] }, { O: ["Acme"], OU: ["Build"] }, { CN: ["corpus-signer"] }],
        },
      }),
    }),
  },
  {
    id: "dn-case",
    class: "subject",
    anchor: "notation",
    what: "leaf O=ACME; identity O=Acme",
    cause: /untrusted identity|trustedIdentities/,
    anchorCause: NO_IDENTITY_MATCH,
    build: notary("dn-case", { chain: bent({ leaf: { subject: "C=US, ST=WA, O=ACME, CN=corpus-signer" } }) }),
  },
  {
    id: "dn-order",
    class: "subject",
    anchor: "notation",
    what: "leaf subject in reverse order (CN first); identity in C, ST, O, CN order",
    build: notary("dn-order", {
      chain: bent({ leaf: { subject: "CN=corpus-signer, O=Acme, ST=WA, C=US" } }),
    }),
  },
  {
    id: "dn-printablestring",
    class: "subject",
    anchor: "notation",
    what: "leaf subject values as PrintableString instead of UTF8String",
    build: notary("dn-printablestring", {
      chain: bent({
        leaf: {
          subject: [
            { C: [{ printableString: "US" }] },
            { ST: [{ printableString: "WA" }] },
            { O: [{ printableString: "Acme" }] },
            { CN: [{ printableString: "corpus-signer" }] },
          ],
        },
      }),
    }),
  },
  {
    id: "dn-extra-attribute",
    class: "subject",
    anchor: "notation",
    what: "leaf has an extra OU; identity is a subset",
    build: notary("dn-extra-attribute", { chain: bent({ leaf: { subject: `${LEAF_SUBJECT}, OU=Build` } }) }),
  },
  {
    id: "dn-other-org",
    class: "subject",
    anchor: "notation",
    what: "leaf O=Evil; identity O=Acme",
    cause: /untrusted identity/,
    anchorCause: NO_IDENTITY_MATCH,
    build: notary("dn-other-org", {
      chain: bent({ leaf: { subject: "C=US, ST=WA, O=Evil, CN=corpus-signer" } }),
    }),
  },
  {
    id: "dn-comma-in-value",
    class: "subject",
    anchor: "notation",
    what: 'leaf O="Acme, CN=corpus-signer" (an escaped comma smuggling an attribute)',
    cause: /untrusted identity|trustedIdentities/,
    anchorCause: NO_IDENTITY_MATCH,
    build: notary("dn-comma-in-value", {
      chain: bent({
        leaf: {
          subject: [{ C: ["US"] }, { ST: ["WA"] }, { O: ["Acme, CN=corpus-signer"] }, { CN: ["other"] }],
        },
      }),
    }),
  },

  // Integrity: digest, payload, headers.
  {
    id: "integrity-moved-signature",
    class: "integrity",
    anchor: "notation",
    what: "a valid signature for image A attached to image B",
    cause: /digest mismatch/,
    anchorCause: /content descriptor mismatch/,
    build: notary("integrity-moved-signature", {
      jws: (_c, t) => ({
        payloadTarget: { mediaType: t.mediaType, digest: `sha256:${"ab".repeat(32)}`, size: t.size },
      }),
    }),
  },
  {
    id: "integrity-wrong-size",
    class: "integrity",
    anchor: "notation",
    what: "payload names the right digest with a wrong size",
    cause: /size|descriptor|digest mismatch|target/i,
    anchorCause: /content descriptor mismatch/,
    build: notary("integrity-wrong-size", {
      jws: (_c, t) => ({ payloadTarget: { mediaType: t.mediaType, digest: t.digest, size: t.size + 1 } }),
    }),
  },
  {
    id: "integrity-wrong-mediatype",
    class: "integrity",
    anchor: "notation",
    what: "payload names the right digest with another media type",
    cause: /media ?type|descriptor|target/i,
    anchorCause: /content descriptor mismatch/,
    build: notary("integrity-wrong-mediatype", {
      jws: (_c, t) => ({
        payloadTarget: {
          mediaType: "application/vnd.oci.image.index.v1+json",
          digest: t.digest,
          size: t.size,
        },
      }),
    }),
  },
  {
    id: "integrity-payload-swap",
    class: "integrity",
    anchor: "notation",
    what: "payload replaced after signing",
    cause: /tampered/,
    anchorCause: /signature is invalid/,
    build: notary("integrity-payload-swap", {
      jws: (_c, t) => ({
        tamper: (env) => {
          env.payload = Buffer.from(
            JSON.stringify({
              targetArtifact: {
                mediaType: t.mediaType,
                digest: t.digest,
                size: t.size,
                annotations: { x: "y" },
              },
            }),
          ).toString("base64url");
        },
      }),
    }),
  },
  {
    id: "integrity-header-tamper",
    class: "integrity",
    anchor: "notation",
    what: "protected header changed after signing (signingTime)",
    cause: /tampered/,
    anchorCause: /signature is invalid/,
    build: notary("integrity-header-tamper", {
      jws: () => ({
        tamper: (env) => {
          const h = JSON.parse(Buffer.from(env.protected, "base64url").toString());
          h["io.cncf.notary.signingTime"] = "2020-01-01T00:00:00Z";
          env.protected = Buffer.from(JSON.stringify(h)).toString("base64url");
        },
      }),
    }),
  },
  {
    id: "integrity-unprotected-header",
    class: "integrity",
    anchor: "notation",
    what: "unprotected signingAgent changed after signing (not covered by the signature)",
    build: notary("integrity-unprotected-header", {
      jws: () => ({
        tamper: (env) => {
          env.header["io.cncf.notary.signingAgent"] = "someone-else/9.9";
        },
      }),
    }),
  },
  {
    id: "integrity-signature-flip",
    class: "integrity",
    anchor: "notation",
    what: "one byte of the signature changed",
    cause: /tampered/,
    anchorCause: /signature is invalid/,
    build: notary("integrity-signature-flip", {
      jws: () => ({
        tamper: (env) => {
          const s = Buffer.from(env.signature, "base64url");
          s[5] = s[5]! ^ 0xff;
          env.signature = s.toString("base64url");
        },
      }),
    }),
  },
  {
    id: "integrity-x5c-leaf-swapped",
    class: "integrity",
    anchor: "notation",
    what: "x5c leaf replaced by another trusted leaf (other key)",
    cause: /tampered/,
    anchorCause: /signature is invalid/,
    build: notary("integrity-x5c-leaf-swapped", {
      jws: (c) => ({ key: ecKey().privateKey, x5c: c.x5c }),
    }),
  },
  {
    id: "crit-unknown",
    class: "integrity",
    anchor: "notation",
    what: 'crit lists an unknown header "io.example.policy" (present, signed)',
    cause: /critical/i,
    stricter:
      "notation 1.3.2 accepts a signed critical header it does not know; RFC 7515 §4.1.11 and the Notary Project signature specification say a verifier must reject critical headers it does not understand",
    build: notary("crit-unknown", {
      jws: () => ({
        header: {
          "io.example.policy": "anything",
          crit: ["io.cncf.notary.signingScheme", "io.example.policy"],
        },
      }),
    }),
  },
  {
    id: "crit-missing-scheme",
    class: "integrity",
    anchor: "notation",
    what: "crit omits io.cncf.notary.signingScheme",
    cause: /critical|crit|signingScheme|malformed/i,
    anchorCause: /missing "crit" header|crit/,
    build: notary("crit-missing-scheme", { jws: () => ({ header: { crit: [] } }) }),
  },
  {
    id: "crit-lists-registered",
    class: "integrity",
    anchor: "notation",
    what: 'crit lists the registered header "alg"',
    cause: /critical|crit|malformed/i,
    anchorCause: /marked critical/,
    build: notary("crit-lists-registered", {
      jws: () => ({ header: { crit: ["io.cncf.notary.signingScheme", "alg"] } }),
    }),
  },

  // Algorithm confusion.
  {
    id: "alg-rs256",
    class: "algorithm",
    anchor: "notation",
    what: "RSA-2048 leaf signing RS256 (PKCS#1 v1.5)",
    cause: /RS256|algorithm/i,
    anchorCause: /signing method RS256 is invalid/,
    build: notary("alg-rs256", { chain: bent({ leaf: { key: "RSA-2048" } }), jws: () => ({ alg: "RS256" }) }),
  },
  {
    id: "alg-ps384-rsa2048",
    class: "algorithm",
    anchor: "notation",
    what: "RSA-2048 leaf signing PS384 (notation pins PS256 to 2048-bit keys)",
    cause: /PS384|algorithm|does not match/i,
    anchorCause: /mismatch between signature algorithm/,
    build: notary("alg-ps384-rsa2048", {
      chain: bent({ leaf: { key: "RSA-2048" } }),
      jws: () => ({ alg: "PS384" }),
    }),
  },
  {
    id: "alg-es384-p256",
    class: "algorithm",
    anchor: "notation",
    what: "EC P-256 leaf, header ES384",
    cause: /ES384|algorithm|does not match/i,
    anchorCause: /signature is invalid|algorithm/,
    build: notary("alg-es384-p256", { jws: () => ({ alg: "ES384" }) }),
  },
  {
    id: "alg-ps256-ec-key",
    class: "algorithm",
    anchor: "notation",
    what: "EC leaf, header PS256 (signed with ES256)",
    cause: /PS256|algorithm|does not match/i,
    anchorCause: /key is invalid|algorithm/,
    build: notary("alg-ps256-ec-key", { jws: () => ({ alg: "PS256", signAs: "ES256" }) }),
  },
  {
    id: "alg-none",
    class: "algorithm",
    anchor: "notation",
    what: 'header alg "none"',
    cause: /none|algorithm|tampered|malformed/i,
    anchorCause: /signing method none is invalid/,
    build: notary("alg-none", {
      jws: () => ({
        alg: "none",
        signAs: "ES256",
        tamper: (env) => {
          env.signature = "";
        },
      }),
    }),
  },

  // Store-type confusion.
  {
    id: "store-root-in-tsa",
    class: "store-role",
    anchor: "notation",
    what: "root only in a tsa: store, policy trustStores [ca:other (an unrelated root), tsa:corpus]",
    cause: /tsa|store|untrusted identity/i,
    anchorCause: NO_TRUSTED_CERT,
    build: notary("store-root-in-tsa", {
      stores: async (c) => ({ "ca:other": [(await chain()).root.pem], "tsa:corpus": [c.root.pem] }),
      policy: policyDoc(policyEntry({ stores: ["ca:other", "tsa:corpus"] })),
    }),
  },
  {
    id: "store-root-in-signingauthority",
    class: "store-role",
    anchor: "notation",
    what: "root in a signingAuthority: store, envelope uses notary.x509",
    cause: /signingAuthority|store|untrusted identity/i,
    anchorCause: /no trusted certificates are found to verify authenticity/,
    build: notary("store-root-in-signingauthority", {
      stores: (c) => ({ "signingAuthority:corpus": [c.root.pem] }),
      policy: policyDoc(policyEntry({ stores: ["signingAuthority:corpus"] })),
    }),
  },
  {
    id: "store-missing",
    class: "store-role",
    anchor: "notation",
    what: "policy names ca:absent, which does not exist",
    cause: /store|untrusted identity/i,
    anchorCause: /trust store "absent" of type "ca" does not exist/,
    build: notary("store-missing", {
      stores: (c) => ({ "ca:corpus": [c.root.pem] }),
      policy: policyDoc(policyEntry({ stores: ["ca:absent"] })),
    }),
  },
  {
    id: "store-intermediate-anchor",
    class: "store-role",
    anchor: "notation",
    what: "the intermediate (not the root) is the trust anchor",
    build: notary("store-intermediate-anchor", {
      stores: (c) => ({ "ca:corpus": [c.intermediates[0]!.pem] }),
    }),
  },

  // Policy typos, unknown values, missing identity fields.
  ...(
    [
      [
        "policy-override-enforce",
        { revocation: "Enforce" },
        "override value Enforce (capitalised)",
        /override\.revocation|Enforce/,
      ],
      [
        "policy-override-skip-capital",
        { revocation: "Skip" },
        "override value Skip (capitalised)",
        /override\.revocation|Skip/,
      ],
      [
        "policy-override-unknown-key",
        { revocation: "skip", expiration: "skip" },
        "override key expiration",
        /expiration/,
      ],
      [
        "policy-override-integrity",
        { revocation: "skip", integrity: "skip" },
        "override of integrity",
        /integrity/,
      ],
    ] as const
  ).map(
    ([id, override, what, cause]): Case => ({
      id,
      class: "policy",
      anchor: "notation",
      what,
      code: POLICY_CODE,
      cause,
      anchorCause: new RegExp(`trust policy.*(${cause.source})`),
      build: notary(id, { policy: policyDoc(policyEntry({ override: { ...override } })) }),
    }),
  ),
  ...(
    [
      ["policy-level-capital", { level: "Strict" }, "level Strict", /level/, "verification level"],
      ["policy-level-unknown", { level: "enforce" }, "level enforce", /level/, "verification level"],
      [
        "policy-store-prefix-case",
        { stores: ["CA:corpus"] },
        "trust store CA:corpus",
        /trust ?store|CA:corpus/i,
        "trust store type",
      ],
      [
        "policy-store-prefix-unknown",
        { stores: ["x509:corpus"] },
        "trust store x509:corpus",
        /trust ?store|x509:corpus/i,
        "trust store type",
      ],
      [
        "policy-identity-missing-st",
        { identities: ["x509.subject: C=US, O=Acme, CN=corpus-signer"] },
        "identity without ST",
        /ST/,
        "mandatory RDN attribute",
      ],
      [
        "policy-identity-cn-only",
        { identities: ["x509.subject: CN=corpus-signer"] },
        "identity with CN only",
        /C, ST|lacks/,
        "mandatory RDN attribute",
      ],
      [
        "policy-identity-duplicate-o",
        { identities: ["x509.subject: C=US, ST=WA, O=Acme, O=TeamB, CN=corpus-signer"] },
        "identity with O twice",
        /duplicate|twice|O=TeamB/i,
        "duplicate RDN",
      ],
      [
        "policy-identity-wildcard-mixed",
        { identities: ["*", LEAF_IDENTITY] },
        'identities "*" plus a subject',
        /"\*"|wildcard/,
        "wildcard trusted identity",
      ],
      [
        "policy-verify-timestamp-typo",
        { verifyTimestamp: "AfterCertExpiry" },
        "verifyTimestamp AfterCertExpiry",
        /verifyTimestamp/,
        "verifyTimestamp must be",
      ],
      [
        "policy-scope-with-tag",
        { scopes: ["REG/corpus/policy-scope-with-tag:v1"] },
        "registry scope with a tag",
        /scope/i,
        "is not valid",
      ],
      [
        "policy-scope-wildcard-mixed",
        { scopes: ["*", "REG/corpus/x"] },
        '"*" combined with a scope',
        /"\*"|scope/,
        "wildcard scope cannot be used",
      ],
    ] as const
  ).map(
    ([id, o, what, cause, anchorWord]): Case => ({
      id,
      class: "policy",
      anchor: "notation",
      what,
      code: POLICY_CODE,
      cause,
      anchorCause: new RegExp(`(trust policy|registry scope).*(${anchorWord})`),
      build: async (ctx) =>
        notary(id, {
          policy: policyDoc(
            policyEntry({
              ...o,
              scopes: "scopes" in o ? o.scopes.map((s) => s.replace("REG", ctx.registry)) : ["*"],
            }),
          ),
        })(ctx),
    }),
  ),
  {
    id: "policy-audit-untrusted-identity",
    class: "policy-level",
    anchor: "notation",
    what: "level audit, identity not trusted (audit only logs authenticity)",
    build: notary("policy-audit-untrusted-identity", {
      policy: policyDoc(
        policyEntry({ level: "audit", identities: ["x509.subject: C=US, ST=WA, O=Nobody, CN=nobody"] }),
      ),
    }),
  },
  {
    id: "policy-permissive-expired-leaf",
    class: "policy-level",
    anchor: "notation",
    what: "level permissive, leaf expired (permissive only logs expiry)",
    build: notary("policy-permissive-expired-leaf", {
      chain: bent({ leaf: EXPIRED }),
      policy: policyDoc(policyEntry({ level: "permissive" })),
    }),
  },
  {
    id: "policy-skip-broken-signature",
    class: "policy-level",
    anchor: "notation",
    what: "level skip, signature broken (skip verifies nothing)",
    build: notary("policy-skip-broken-signature", {
      policy: policyDoc(policyEntry({ level: "skip", override: undefined, stores: [], identities: [] })),
      jws: () => ({
        tamper: (env) => {
          env.signature = Buffer.from("broken").toString("base64url");
        },
      }),
    }),
  },
  {
    id: "policy-override-authenticity-log",
    class: "policy-level",
    anchor: "notation",
    what: "strict with override authenticity: log, chain to an untrusted root",
    build: notary("policy-override-authenticity-log", {
      stores: async () => ({ "ca:corpus": [(await chain()).root.pem] }),
      policy: policyDoc(policyEntry({ override: { revocation: "skip", authenticity: "log" } })),
    }),
  },
  {
    id: "policy-revocation-enforced",
    class: "policy-level",
    anchor: "notation",
    what: "strict without the revocation override (certificates name no OCSP/CRL endpoint)",
    cause: /revocation/i,
    stricter:
      "we do no OCSP/CRL lookups, so a policy that enforces revocation is an explicit error (issue 14 §10: never a silent pass); notation looked, found no OCSP or CRL endpoint in these certificates and passed",
    build: notary("policy-revocation-enforced", { policy: policyDoc(policyEntry({ override: undefined })) }),
  },
  {
    id: "policy-version",
    class: "policy",
    anchor: "notation",
    what: 'version "1.1"',
    code: POLICY_CODE,
    cause: /version/,
    anchorCause: /trust policy document uses unsupported version/,
    build: notary("policy-version", {
      policy: JSON.stringify({ version: "1.1", trustPolicies: [policyEntry()] }),
    }),
  },
  {
    id: "policy-duplicate-scope",
    class: "scope",
    anchor: "notation",
    what: "two policies claim the same registry scope",
    code: POLICY_CODE,
    cause: /scope/,
    anchorCause: /present in multiple trust policy statements/,
    build: async (ctx) => {
      const scope = `${ctx.registry}/corpus/policy-duplicate-scope`;
      return notary("policy-duplicate-scope", {
        policy: policyDoc(
          policyEntry({ name: "a", scopes: [scope] }),
          policyEntry({ name: "b", scopes: [scope] }),
        ),
      })(ctx);
    },
  },
  {
    id: "scope-uppercase-host",
    class: "scope",
    anchor: "notation",
    what: "image at localhost:<port>; the strict policy for LOCALHOST:<port>/… trusts nobody, a '*' policy trusts the signer",
    cause: /TRUST_POLICY_INVALID|scope|untrusted identity/i,
    stricter:
      "host names are case-insensitive, so LOCALHOST:<port>/… names the image's repository: we normalise scopes with the reference grammar (issue 14 §8) and apply that strict policy; notation compares scope strings verbatim and lets the '*' policy accept",
    build: async (ctx) => {
      const port = ctx.registry.split(":")[1];
      return notary("scope-uppercase-host", {
        host: () => `localhost:${port}`,
        policy: policyDoc(
          policyEntry({
            name: "app",
            scopes: [`LOCALHOST:${port}/corpus/scope-uppercase-host`],
            identities: ["x509.subject: C=US, ST=WA, O=Nobody, CN=nobody"],
          }),
          policyEntry({ name: "everything-else" }),
        ),
      })(ctx);
    },
  },
  {
    id: "scope-uppercase-repository",
    class: "scope",
    anchor: "notation",
    what: "registry scope with an upper-case repository path (invalid in the reference grammar)",
    code: POLICY_CODE,
    cause: /scope|Corpus\/App/,
    anchorCause: /registry scope .* is not valid/,
    build: async (ctx) =>
      notary("scope-uppercase-repository", {
        policy: policyDoc(
          policyEntry({ name: "app", scopes: [`${ctx.registry}/Corpus/App`] }),
          policyEntry({ name: "rest" }),
        ),
      })(ctx),
  },
  {
    id: "scope-exact-match",
    class: "scope",
    anchor: "notation",
    what: "the repository's own scope (strict, wrong identity) wins over '*' (trusting)",
    cause: /untrusted identity/,
    anchorCause: /trust policy "app"/,
    build: async (ctx) =>
      notary("scope-exact-match", {
        policy: policyDoc(
          policyEntry({
            name: "app",
            scopes: [`${ctx.registry}/corpus/scope-exact-match`],
            identities: ["x509.subject: C=US, ST=WA, O=Nobody, CN=nobody"],
          }),
          policyEntry({ name: "everything-else" }),
        ),
      })(ctx),
  },

  // Malformed neighbours: one bad referrer must not hide (or block) a good signature.
  ...(
    [
      ["neighbour-bad-x5c", (env: Buffer) => junkX5c(env), "a referrer whose x5c is not a certificate"],
      ["neighbour-not-json", () => Buffer.from("{not json"), "a referrer whose envelope is not JSON"],
      ["neighbour-empty-x5c", (env: Buffer) => emptyX5c(env), "a referrer with an empty x5c"],
    ] as const
  ).map(
    ([id, junk, what]): Case => ({
      id,
      class: "neighbour",
      anchor: "notation",
      what: `${what}, beside a valid signature`,
      control: true,
      build: notary(id, {
        attach: async (ctx, ref, target, c) => {
          const good = forgeJws({ target, key: c.leaf.privateKey, x5c: c.x5c });
          await attachJunkNotary(ctx.client, ref, junk(good));
          await attachNotary(ctx.client, ref, good, c.x5c);
        },
      }),
    }),
  ),
  {
    id: "neighbour-only-junk",
    class: "neighbour",
    anchor: "notation",
    what: "only a referrer with a bad x5c",
    cause: /malformed|x5c|certificate|invalid|tampered/i,
    anchorCause: /malformed leaf certificate/,
    build: notary("neighbour-only-junk", {
      attach: async (ctx, ref, target, c) => {
        await attachJunkNotary(
          ctx.client,
          ref,
          junkX5c(forgeJws({ target, key: c.leaf.privateKey, x5c: c.x5c })),
        );
      },
    }),
  },
  {
    id: "neighbour-untrusted-beside-good",
    class: "neighbour",
    anchor: "notation",
    what: "a validly signed envelope from an untrusted root beside the trusted one",
    control: true,
    build: notary("neighbour-untrusted-beside-good", {
      attach: async (ctx, ref, target, c) => {
        const other = await chain();
        await attachNotary(
          ctx.client,
          ref,
          forgeJws({ target, key: other.leaf.privateKey, x5c: other.x5c }),
          other.x5c,
        );
        await attachNotary(ctx.client, ref, forgeJws({ target, key: c.leaf.privateKey, x5c: c.x5c }), c.x5c);
      },
    }),
  },
  {
    id: "neighbour-cose-junk",
    class: "neighbour",
    anchor: "notation",
    what: "a COSE (application/cose) referrer with junk bytes beside a valid JWS signature",
    control: true,
    build: notary("neighbour-cose-junk", {
      attach: async (ctx, ref, target, c) => {
        await attachJunkNotary(ctx.client, ref, Buffer.from([0xd2, 0x84, 0x40]), "application/cose");
        await attachNotary(ctx.client, ref, forgeJws({ target, key: c.leaf.privateKey, x5c: c.x5c }), c.x5c);
      },
    }),
  },
  {
    id: "cose-only-junk",
    class: "neighbour",
    anchor: "notation",
    what: "only a COSE referrer with junk bytes",
    cause: /COSE|not a JWS|malformed|no signature/i,
    anchorCause: /cose|COSE|signature envelope|unsupported|malformed|failed/,
    build: notary("cose-only-junk", {
      attach: async (ctx, ref) => {
        await attachJunkNotary(ctx.client, ref, Buffer.from([0xd2, 0x84, 0x40]), "application/cose");
      },
    }),
  },
  {
    id: "timestamp-junk-token",
    class: "timestamp",
    anchor: "notation",
    what: "unprotected io.cncf.notary.timestampSignature holding junk, policy with a tsa: store (verifyTimestamp always)",
    cause: /timestamp|RFC 3161|countersignature/i,
    anchorCause: /timestamp/i,
    build: notary("timestamp-junk-token", {
      stores: async (c) => ({ "ca:corpus": [c.root.pem], "tsa:corpus-tsa": [(await chain()).root.pem] }),
      policy: policyDoc(policyEntry({ stores: ["ca:corpus", "tsa:corpus-tsa"] })),
      jws: () => ({
        tamper: (env) => {
          env.header["io.cncf.notary.timestampSignature"] =
            Buffer.from("not a timestamp token").toString("base64");
        },
      }),
    }),
  },
  {
    id: "timestamp-junk-token-no-tsa-store",
    class: "timestamp",
    anchor: "notation",
    what: "junk timestampSignature, policy without a tsa: store",
    cause: /timestamp|RFC 3161|countersignature|tsa/i,
    anchorCause: /timestamp|tsa/i,
    build: notary("timestamp-junk-token-no-tsa-store", {
      jws: () => ({
        tamper: (env) => {
          env.header["io.cncf.notary.timestampSignature"] =
            Buffer.from("not a timestamp token").toString("base64");
        },
      }),
    }),
  },
  {
    id: "scheme-signingauthority",
    class: "store-role",
    anchor: "notation",
    what: "notary.x509.signingAuthority scheme, root in a signingAuthority: store",
    cause: /signingAuthority|scheme|authenticSigningTime/i,
    build: notary("scheme-signingauthority", {
      stores: (c) => ({ "signingAuthority:corpus": [c.root.pem] }),
      policy: policyDoc(policyEntry({ stores: ["signingAuthority:corpus"] })),
      jws: () => ({ header: SIGNING_AUTHORITY_HEADER() }),
    }),
  },
  {
    id: "scheme-signingauthority-ca-store",
    class: "store-role",
    anchor: "notation",
    what: "notary.x509.signingAuthority scheme, root only in a ca: store",
    cause: /signingAuthority|scheme|store|untrusted/i,
    anchorCause: /trusted certificate|signingAuthority|trust store/i,
    build: notary("scheme-signingauthority-ca-store", {
      jws: () => ({ header: SIGNING_AUTHORITY_HEADER() }),
    }),
  },
  {
    id: "chain-untrusted-root",
    class: "chain",
    anchor: "notation",
    what: "a well-formed chain to a root that is not in the store",
    cause: /untrusted (identity|signer)|trust store/,
    anchorCause: NO_TRUSTED_CERT,
    build: notary("chain-untrusted-root", {
      stores: async () => ({ "ca:corpus": [(await chain()).root.pem] }),
    }),
  },
  {
    id: "chain-missing-intermediate",
    class: "chain",
    anchor: "notation",
    what: "x5c holds the leaf and the root only (intermediate left out)",
    cause: /untrusted identity|chain/i,
    anchorCause: /is not issued by/,
    build: notary("chain-missing-intermediate", { jws: (c) => ({ x5c: [c.leaf.der, c.root.der] }) }),
  },
  {
    id: "chain-leaf-only",
    class: "chain",
    anchor: "notation",
    what: "x5c holds the leaf only; the store holds the root",
    cause: /untrusted identity|chain/i,
    anchorCause: /invalid self-signed certificate|is not issued by/,
    build: notary("chain-leaf-only", {
      chain: bent({ intermediates: [] }),
      jws: (c) => ({ x5c: [c.leaf.der] }),
    }),
  },
  {
    id: "chain-self-signed-leaf-trusted",
    class: "chain",
    anchor: "notation",
    what: "a self-signed leaf (CA:FALSE) put in the ca: store as its own root",
    cause: /untrusted identity|chain|basic ?constraints|CA|self-signed/i,
    build: notary("chain-self-signed-leaf-trusted", {
      chain: async () => {
        const leaf = await issue("leaf", {});
        return { root: leaf, intermediates: [], leaf, x5c: [leaf.der] };
      },
    }),
  },

  // cosign.
  {
    id: "cosign-control-ours-bundle",
    class: "cosign-control",
    anchor: "cosign",
    what: "our cosign bundle referrer",
    control: true,
    build: cosign("cosign-control-ours-bundle", { attach: ourCosign("bundle") }),
  },
  {
    id: "cosign-control-ours-legacy",
    class: "cosign-control",
    anchor: "cosign",
    what: "our cosign legacy .sig signature",
    control: true,
    build: cosign("cosign-control-ours-legacy", { legacy: true, attach: ourCosign("legacy") }),
  },
  {
    id: "cosign-control-cosign-signed",
    class: "cosign-control",
    anchor: "cosign",
    what: "`cosign sign --key --tlog-upload=false`",
    control: true,
    build: async (ctx) => {
      const ref = await pushRandomImage(ctx.client, {
        registry: ctx.registry,
        repository: "corpus/by-cosign",
      });
      const env = { PATH: process.env.PATH ?? "", HOME: ctx.home, COSIGN_PASSWORD: "" };
      await run(ctx.bin.cosign!, ["generate-key-pair"], { cwd: ctx.dir, env });
      await run(
        ctx.bin.cosign!,
        [
          "sign",
          "--key",
          join(ctx.dir, "cosign.key"),
          "--tlog-upload=false",
          "--use-signing-config=false",
          "--allow-http-registry",
          "-y",
          ref,
        ],
        { env },
      );
      return { ref, cosign: { pubFile: join(ctx.dir, "cosign.pub"), legacy: false } };
    },
  },
  {
    id: "cosign-key-mismatch-bundle",
    class: "cosign-key",
    anchor: "cosign",
    what: "bundle signed by key A, verified with key B",
    cause: /wrong key|tampered/,
    anchorCause: /could not verify envelope/,
    build: cosign("cosign-key-mismatch-bundle", {
      attach: async (ctx, ref) => {
        await ourCosign("bundle")(ctx, ref);
        return ecKey().publicKey;
      },
    }),
  },
  {
    id: "cosign-key-mismatch-legacy",
    class: "cosign-key",
    anchor: "cosign",
    what: "legacy .sig signed by key A, verified with key B",
    cause: /wrong key|tampered/,
    anchorCause: /no matching signatures: invalid signature/,
    build: cosign("cosign-key-mismatch-legacy", {
      legacy: true,
      attach: async (ctx, ref) => {
        await ourCosign("legacy")(ctx, ref);
        return ecKey().publicKey;
      },
    }),
  },
  {
    id: "cosign-attestation-relisted",
    class: "cosign-bundle-type",
    anchor: "cosign",
    what: "an SBOM attestation (predicateType CycloneDX) re-listed with the signature's predicateType annotation",
    cause: /attestation|predicate|not a signature|no signature/i,
    stricter: ATTESTATION_IS_NOT_A_SIGNATURE,
    build: cosign("cosign-attestation-relisted", {
      attach: async (ctx, ref, digest) => {
        const k = ecKey();
        const sbom = { bomFormat: "CycloneDX", specVersion: "1.6", version: 1, components: [] };
        await attachBundle(
          ctx.client,
          ref,
          await forgeBundle(k.privateKey, digest, CYCLONEDX_PREDICATE, sbom),
          COSIGN_SIGN_PREDICATE,
        );
        return k.publicKey;
      },
    }),
  },
  {
    id: "cosign-attestation-unannotated",
    class: "cosign-bundle-type",
    anchor: "cosign",
    what: "an SBOM attestation bundle without a predicateType annotation",
    cause: /attestation|predicate|not a signature|no signature/i,
    stricter: ATTESTATION_IS_NOT_A_SIGNATURE,
    build: cosign("cosign-attestation-unannotated", {
      attach: async (ctx, ref, digest) => {
        const k = ecKey();
        const b = await forgeBundle(k.privateKey, digest, CYCLONEDX_PREDICATE, { bomFormat: "CycloneDX" });
        await attachBundleNoPredicate(ctx, ref, b);
        return k.publicKey;
      },
    }),
  },
  {
    id: "cosign-attestation-only",
    class: "cosign-bundle-type",
    anchor: "cosign",
    what: "only a correctly annotated SBOM attestation, no signature",
    cause: /no signature|attestation/i,
    stricter: ATTESTATION_IS_NOT_A_SIGNATURE,
    build: cosign("cosign-attestation-only", {
      attach: async (ctx, ref, digest) => {
        const k = ecKey();
        await attachBundle(
          ctx.client,
          ref,
          await forgeBundle(k.privateKey, digest, CYCLONEDX_PREDICATE, {}),
          CYCLONEDX_PREDICATE,
        );
        return k.publicKey;
      },
    }),
  },
  {
    id: "cosign-bundle-wrong-subject",
    class: "cosign-integrity",
    anchor: "cosign",
    what: "bundle statement about another digest, attached to this image",
    cause: /digest|subject/i,
    anchorCause: /provided artifact digest does not match any digest in statement/,
    build: cosign("cosign-bundle-wrong-subject", {
      attach: async (ctx, ref) => {
        const k = ecKey();
        await attachBundle(
          ctx.client,
          ref,
          await forgeBundle(k.privateKey, `sha256:${"cd".repeat(32)}`),
          COSIGN_SIGN_PREDICATE,
        );
        return k.publicKey;
      },
    }),
  },
  {
    id: "cosign-bundle-tampered",
    class: "cosign-integrity",
    anchor: "cosign",
    what: "bundle DSSE payload changed after signing",
    cause: /tampered|wrong key/,
    anchorCause: /could not verify envelope/,
    build: cosign("cosign-bundle-tampered", {
      attach: async (ctx, ref, digest) => {
        const k = ecKey();
        const b = JSON.parse((await forgeBundle(k.privateKey, digest)).toString());
        const st = JSON.parse(Buffer.from(b.dsseEnvelope.payload, "base64").toString());
        st.predicate = { injected: true };
        b.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString("base64");
        await attachBundle(ctx.client, ref, Buffer.from(JSON.stringify(b)), COSIGN_SIGN_PREDICATE);
        return k.publicKey;
      },
    }),
  },
  {
    id: "cosign-legacy-wrong-digest",
    class: "cosign-integrity",
    anchor: "cosign",
    what: "legacy payload (signed by the right key) names another digest",
    cause: /digest mismatch/,
    anchorCause: /invalid or missing digest in claim/,
    build: cosign("cosign-legacy-wrong-digest", {
      legacy: true,
      attach: async (ctx, ref) => {
        const k = ecKey();
        await attachLegacy(ctx.client, ref, [
          { key: k.privateKey, payload: await cosignPayload(repoOf(ref), `sha256:${"ef".repeat(32)}`) },
        ]);
        return k.publicKey;
      },
    }),
  },
  {
    id: "cosign-legacy-payload-tampered",
    class: "cosign-integrity",
    anchor: "cosign",
    what: "legacy payload changed after signing (signature over the original bytes)",
    cause: /tampered|wrong key/,
    anchorCause: /invalid signature/,
    build: cosign("cosign-legacy-payload-tampered", {
      legacy: true,
      attach: async (ctx, ref, digest) => {
        const k = ecKey();
        const signed = await cosignPayload(repoOf(ref), digest);
        const sig = nodeSign("sha256", signed, k.privateKey).toString("base64");
        const changed = withOptional(signed, { x: "y" });
        await attachLegacy(ctx.client, ref, [{ payload: changed, signature: sig }]);
        return k.publicKey;
      },
    }),
  },
  {
    id: "cosign-legacy-junk-layer-beside-valid",
    class: "cosign-neighbour",
    anchor: "cosign",
    what: "a .sig layer with a junk signature beside a valid one",
    control: true,
    build: cosign("cosign-legacy-junk-layer-beside-valid", {
      legacy: true,
      attach: async (ctx, ref, digest) => {
        const k = ecKey();
        const payload = await cosignPayload(repoOf(ref), digest);
        const other = withOptional(payload, { n: "1" });
        await attachLegacy(ctx.client, ref, [
          { payload: other, signature: Buffer.from("junk").toString("base64") },
          { payload, key: k.privateKey },
        ]);
        return k.publicKey;
      },
    }),
  },
  {
    id: "cosign-legacy-rsa-key-mismatch",
    class: "cosign-key",
    anchor: "cosign",
    what: "legacy .sig by an EC key, verified with an RSA key",
    cause: /wrong key|tampered/,
    anchorCause: /no matching signatures/,
    build: cosign("cosign-legacy-rsa-key-mismatch", {
      legacy: true,
      attach: async (ctx, ref) => {
        await ourCosign("legacy")(ctx, ref);
        return generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
      },
    }),
  },
  {
    id: "cosign-neighbour-junk-bundle",
    class: "cosign-neighbour",
    anchor: "cosign",
    what: "a junk bundle referrer beside a valid bundle",
    control: true,
    build: cosign("cosign-neighbour-junk-bundle", {
      attach: async (ctx, ref) => {
        await attachBundle(ctx.client, ref, Buffer.from('{"mediaType":"junk"}'), COSIGN_SIGN_PREDICATE);
        return ourCosign("bundle")(ctx, ref);
      },
    }),
  },
  {
    id: "cosign-neighbour-wrong-key-bundle",
    class: "cosign-neighbour",
    anchor: "cosign",
    what: "a bundle by another key beside a valid bundle",
    control: true,
    build: cosign("cosign-neighbour-wrong-key-bundle", {
      attach: async (ctx, ref) => {
        await ourCosign("bundle")(ctx, ref);
        return ourCosign("bundle")(ctx, ref);
      },
    }),
  },
];

async function attachBundleNoPredicate(ctx: CaseContext, ref: string, bundle: Buffer): Promise<void> {
  // Same as attachBundle, minus the predicateType annotation: an unsigned annotation must not decide anything.
  await attachBundle(ctx.client, ref, bundle, "");
}

function junkX5c(envelope: Buffer): Buffer {
  const env = JSON.parse(envelope.toString());
  env.header.x5c = [Buffer.from("this is not a certificate").toString("base64")];
  return Buffer.from(JSON.stringify(env));
}

function emptyX5c(envelope: Buffer): Buffer {
  const env = JSON.parse(envelope.toString());
  env.header.x5c = [];
  return Buffer.from(JSON.stringify(env));
}
