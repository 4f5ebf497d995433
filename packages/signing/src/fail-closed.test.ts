// Issue 14: each defect an attacker found, as a test that failed before the fix.
import "reflect-metadata";
import { createPrivateKey, generateKeyPairSync, type KeyObject, webcrypto } from "node:crypto";
import * as px from "@peculiar/x509";
import { PlatformError } from "@platform/core";
import { type Descriptor, encodeJson, MediaType, sha256Digest } from "@platform/oci";
import { beforeAll, describe, expect, it } from "vitest";
import { VERIFY_CHECKS } from "./checks.ts";
import {
  bundleManifest,
  COSIGN_SIGN_PREDICATE,
  cosignLegacyManifest,
  cosignLegacySignature,
  cosignSignatureTag,
  dsseBundle,
  inTotoStatement,
  sigstoreKeySigner,
} from "./cosign.ts";
import { type NotaryAlg, x509 } from "./crypto.ts";
import { NOTARY_ARTIFACT_TYPE, notarySignatureManifest, referrerManifest, signNotaryJws } from "./notary.ts";
import { parseTrustPolicy } from "./policy.ts";
import { KEY_ANNOTATION, signImage } from "./sign.ts";
import { localSigner, type Signer } from "./signer.ts";
import type { ArtifactStore } from "./store.ts";
import { type TrustPolicy, type TrustStore, verifyNotarySignature } from "./trust.ts";
import { verifyImage } from "./verify.ts";

px.cryptoProvider.set(webcrypto as never);
const subtle = webcrypto.subtle;
const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIG = { name: "ECDSA", hash: "SHA-256" } as const;
const DAY = 86400_000;

interface CertSpec {
  subject: string;
  ca?: boolean | "absent";
  pathLength?: number;
  keyUsage?: number | "absent";
  keyUsageCritical?: boolean;
  eku?: string[];
  notBefore?: Date;
  notAfter?: Date;
}
interface Made {
  cert: px.X509Certificate;
  keys: webcrypto.CryptoKeyPair;
}
let serial = 1;
async function makeCert(spec: CertSpec, issuer?: Made): Promise<Made> {
  const keys = (await subtle.generateKey(EC, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const extensions: px.Extension[] = [];
  if (spec.ca !== "absent")
    extensions.push(new px.BasicConstraintsExtension(!!spec.ca, spec.pathLength, true));
  if (spec.keyUsage !== "absent") {
    const ku =
      spec.keyUsage ??
      (spec.ca ? px.KeyUsageFlags.keyCertSign | px.KeyUsageFlags.cRLSign : px.KeyUsageFlags.digitalSignature);
    extensions.push(new px.KeyUsagesExtension(ku, spec.keyUsageCritical ?? true));
  }
  if (spec.eku) extensions.push(new px.ExtendedKeyUsageExtension(spec.eku, false));
  const common = {
    serialNumber: (serial++).toString(16).padStart(4, "0"),
    notBefore: spec.notBefore ?? new Date(Date.now() - DAY),
    notAfter: spec.notAfter ?? new Date(Date.now() + 30 * DAY),
    signingAlgorithm: SIG,
    extensions,
  };
  const cert = issuer
    ? await px.X509CertificateGenerator.create({
        ...common,
        subject: spec.subject,
        issuer: issuer.cert.subject,
        publicKey: keys.publicKey,
        signingKey: issuer.keys.privateKey,
      })
    : await px.X509CertificateGenerator.createSelfSigned({ ...common, name: spec.subject, keys });
  return { cert, keys };
}
async function privateOf(m: Made): Promise<KeyObject> {
  return createPrivateKey({
    key: Buffer.from(await subtle.exportKey("pkcs8", m.keys.privateKey)),
    format: "der",
    type: "pkcs8",
  });
}
const der = (m: Made) => Buffer.from(m.cert.rawData);
const ROOT = "C=US, ST=WA, O=Acme, CN=Acme Root";
const INTER = "C=US, ST=WA, O=Acme, CN=Acme Intermediate";
const LEAF = "C=US, ST=WA, O=Acme, CN=builder";

/** root → [intermediate] → leaf, with overrides for one position. */
async function chain(
  over: { root?: Partial<CertSpec>; inter?: Partial<CertSpec> | false; leaf?: Partial<CertSpec> } = {},
) {
  const root = await makeCert({ subject: ROOT, ca: true, ...over.root });
  const inter =
    over.inter === false ? undefined : await makeCert({ subject: INTER, ca: true, ...over.inter }, root);
  const leaf = await makeCert({ subject: LEAF, eku: ["1.3.6.1.5.5.7.3.3"], ...over.leaf }, inter ?? root);
  const certs = [leaf, ...(inter ? [inter] : []), root].map(der);
  return { root, leaf, certs, signer: localSigner(await privateOf(leaf), certs), rootCert: x509(der(root)) };
}

const image: Descriptor = {
  mediaType: MediaType.ociManifest,
  digest: `sha256:${"a".repeat(64)}`,
  size: 1234,
};
const policy: TrustPolicy = {
  name: "prod",
  registryScopes: ["reg.example/app"],
  signatureVerification: { level: "strict", override: { revocation: "skip" } },
  trustStores: ["ca:acme"],
  trustedIdentities: [`x509.subject: C=US, ST=WA, O=Acme`],
};
const storeOf = (c: { rootCert: ReturnType<typeof x509> }, key = "ca:acme"): TrustStore =>
  new Map([[key, [c.rootCert]]]);
const sign = (s: Signer, target = image) => signNotaryJws(s, target);

describe("1. the trust policy is validated at load with notation's rules", () => {
  const base = {
    name: "prod",
    registryScopes: ["reg.example/app"],
    signatureVerification: { level: "strict" },
    trustStores: ["ca:acme"],
    trustedIdentities: ["x509.subject: C=US, ST=WA, O=Acme"],
  };
  const doc = (p: Record<string, unknown>) =>
    JSON.stringify({ version: "1.0", trustPolicies: [{ ...base, ...p }] });
  it.each([
    [
      "an unknown override value",
      { signatureVerification: { level: "strict", override: { revocation: "Skip" } } },
      /override\.revocation/,
    ],
    [
      "Enforce (wrong case)",
      { signatureVerification: { level: "strict", override: { expiry: "Enforce" } } },
      /override\.expiry: "Enforce" is not one of enforce, log, skip/,
    ],
    [
      "an unknown override key",
      { signatureVerification: { level: "strict", override: { timestamp: "log" } } },
      /override: Unrecognized key: "timestamp"/,
    ],
    [
      "overriding integrity",
      { signatureVerification: { level: "audit", override: { integrity: "log" } } },
      /"integrity" verification cannot be overridden/,
    ],
    [
      "skipping expiry",
      { signatureVerification: { level: "strict", override: { expiry: "skip" } } },
      /"expiry" verification cannot be skipped/,
    ],
    ["an unknown level", { signatureVerification: { level: "Strict" } }, /signatureVerification\.level/],
    [
      "override on level skip",
      {
        signatureVerification: { level: "skip", override: { revocation: "log" } },
        trustStores: [],
        trustedIdentities: [],
      },
      /cannot be customised/,
    ],
    ["skip with trust stores", { signatureVerification: { level: "skip" } }, /must not list trust stores/],
    [
      "a verifyTimestamp typo",
      { signatureVerification: { level: "strict", verifyTimestamp: "Always" } },
      /verifyTimestamp/,
    ],
    [
      "an unknown field (a typo of override)",
      { signatureVerification: { level: "strict", overide: { revocation: "skip" } } },
      /overide/,
    ],
    ["a store type", { trustStores: ["root:acme"] }, /trustStores\[0\]: trust store "root:acme"/],
    ["a store name", { trustStores: ["ca:ac me"] }, /trust store "ca:ac me"/],
    ["an identity without ST", { trustedIdentities: ["x509.subject: C=US, O=Acme"] }, /lacks ST/],
    [
      "a duplicate attribute",
      { trustedIdentities: ["x509.subject: C=US, ST=WA, O=Acme, O=Other"] },
      /attribute O twice/,
    ],
    ["a multi-valued RDN", { trustedIdentities: ["x509.subject: C=US+ST=WA, O=Acme"] }, /multi-valued RDN/],
    ["a BER value", { trustedIdentities: ["x509.subject: C=US, ST=WA, O=#0403414243"] }, /=#/],
    [
      "overlapping identities",
      { trustedIdentities: ["x509.subject: C=US, ST=WA, O=Acme", "x509.subject: C=US, ST=WA, O=Acme, CN=x"] },
      /overlaps/,
    ],
    [
      "lower-case attribute types (notation's are case-sensitive)",
      { trustedIdentities: ["x509.subject: c=US, st=WA, o=Acme"] },
      /lacks C, ST, O/,
    ],
    [
      "a scope with a tag",
      { registryScopes: ["reg.example/app:v1"] },
      /registry scope "reg.example\/app:v1" is not valid/,
    ],
    ["an upper-case repository", { registryScopes: ["reg.example/App"] }, /registry scope/],
    [
      "* with other identities",
      { trustedIdentities: ["*", "x509.subject: C=US, ST=WA, O=Acme"] },
      /"\*" cannot be combined/,
    ],
  ])("refuses %s, naming the file, the policy and the field", (_, p, field) => {
    const err = (() => {
      try {
        parseTrustPolicy(doc(p), "tp.json");
      } catch (e) {
        return e as PlatformError;
      }
      throw new Error("accepted");
    })();
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.code).toBe("TRUST_POLICY_INVALID");
    expect(err.message).toMatch(/^tp\.json: /);
    expect(err.message).toMatch(/policy "prod" \(trustPolicies\[0\]\)/);
    expect(err.message).toMatch(field);
  });
  it("refuses the same scope in two policies, also when only normalisation makes them equal", () => {
    const two = (a: string, b: string) =>
      JSON.stringify({
        version: "1.0",
        trustPolicies: [
          { ...base, registryScopes: [a] },
          { ...base, name: "b", registryScopes: [b] },
        ],
      });
    expect(() => parseTrustPolicy(two("reg.example/app", "reg.example/app"))).toThrow(
      /in policies "prod" and "b"/,
    );
    expect(() => parseTrustPolicy(two("Reg.example/app", "reg.example/app"))).toThrow(
      /in policies "prod" and "b"/,
    );
  });
  it("the mutation hook turns the schema off (and only then an unknown value gets through)", () => {
    const p = doc({ signatureVerification: { level: "strict", override: { revocation: "Enforce" } } });
    expect(() => parseTrustPolicy(p)).toThrow();
    expect(
      parseTrustPolicy(p, "tp.json", { disabledChecks: new Set(["policy.schema"]) }).trustPolicies,
    ).toHaveLength(1);
    expect(VERIFY_CHECKS).toContain("policy.schema");
  });
});

describe("2. the chain meets the Notary Project certificate requirements (notation-core-go)", () => {
  const KU = px.KeyUsageFlags;
  it("accepts a well-formed root → intermediate → code-signing leaf", async () => {
    const c = await chain();
    expect(verifyNotarySignature(await sign(c.signer), image, policy, storeOf(c))).toMatchObject({
      ok: true,
      signer: LEAF,
    });
  });
  it.each([
    [
      "an intermediate with CA:FALSE",
      { inter: { ca: false, keyUsage: KU.keyCertSign | KU.cRLSign } },
      "chain.basicConstraints",
      /not a CA/,
    ],
    [
      "an intermediate without basicConstraints",
      { inter: { ca: "absent" as const, keyUsage: KU.keyCertSign } },
      "chain.basicConstraints",
      /not a CA/,
    ],
    [
      "a root with pathLen 0 above an intermediate",
      { root: { pathLength: 0 } },
      "chain.pathLength",
      /path length of 0/,
    ],
    [
      "a leaf that is a CA",
      { leaf: { ca: true, keyUsage: KU.digitalSignature } },
      "chain.basicConstraints",
      /is a CA/,
    ],
    [
      "a leaf without digitalSignature",
      { leaf: { keyUsage: KU.nonRepudiation } },
      "chain.keyUsage",
      /digitalSignature/,
    ],
    [
      "a leaf that may also encipher keys",
      { leaf: { keyUsage: KU.digitalSignature | KU.keyEncipherment } },
      "chain.keyUsage",
      /keyEncipherment/,
    ],
    [
      "a leaf without key usage",
      { leaf: { keyUsage: "absent" as const } },
      "chain.keyUsage",
      /must be present/,
    ],
    [
      "a leaf with a non-critical key usage",
      { leaf: { keyUsageCritical: false } },
      "chain.keyUsage",
      /critical/,
    ],
    [
      "an intermediate without keyCertSign",
      { inter: { keyUsage: KU.digitalSignature } },
      "chain.keyUsage",
      /keyCertSign/,
    ],
    [
      "a TLS serverAuth-only leaf",
      { leaf: { eku: ["1.3.6.1.5.5.7.3.1"] } },
      "chain.extendedKeyUsage",
      /serverAuth/,
    ],
    [
      "a leaf with codeSigning and clientAuth",
      { leaf: { eku: ["1.3.6.1.5.5.7.3.3", "1.3.6.1.5.5.7.3.2"] } },
      "chain.extendedKeyUsage",
      /clientAuth/,
    ],
  ])("rejects %s (%s), even under audit", async (_, over, code, reason) => {
    const c = await chain(over as Parameters<typeof chain>[0]);
    const env = await sign(c.signer);
    const v = verifyNotarySignature(env, image, policy, storeOf(c));
    expect(v.ok).toBe(false);
    expect(v.reason).toMatch(reason);
    const audit = { ...policy, signatureVerification: { level: "audit" as const } };
    expect(verifyNotarySignature(env, image, audit, storeOf(c)).ok).toBe(false);
    // The named check carries it: turned off, the same signature is accepted (what H2's mutation test relies on).
    const name = v.code === "chain.structure" ? code : v.code;
    expect(name).toBe(code);
    expect(
      verifyNotarySignature(env, image, policy, storeOf(c), new Date(), {
        disabledChecks: new Set([code as never]),
      }).ok,
    ).toBe(true);
  });
  it.each([
    [
      "leaf",
      { leaf: { notAfter: new Date(Date.now() - DAY), notBefore: new Date(Date.now() - 2 * DAY) } },
      /expired certificate: the signing certificate/,
    ],
    [
      "intermediate",
      { inter: { notAfter: new Date(Date.now() - DAY), notBefore: new Date(Date.now() - 2 * DAY) } },
      /expired certificate: the intermediate 1/,
    ],
    [
      "root",
      { root: { notAfter: new Date(Date.now() - DAY), notBefore: new Date(Date.now() - 2 * DAY) } },
      /expired certificate: the root/,
    ],
    [
      "leaf (not yet valid)",
      { leaf: { notBefore: new Date(Date.now() + DAY) } },
      /not yet valid certificate: the signing certificate/,
    ],
  ])("checks validity at every position: %s", async (_, over, reason) => {
    const c = await chain(over as Parameters<typeof chain>[0]);
    expect(verifyNotarySignature(await sign(c.signer), image, policy, storeOf(c)).reason).toMatch(reason);
  });
  it("requires the x5c chain to end with its self-signed root (a chain cut at the intermediate is refused)", async () => {
    const c = await chain();
    const cut = localSigner(await privateOf(c.leaf), c.certs.slice(0, 2));
    const interStore: TrustStore = new Map([["ca:acme", [x509(c.certs[1]!)]]]);
    expect(verifyNotarySignature(await sign(cut), image, policy, interStore).reason).toMatch(
      /self-signed root/,
    );
  });
});

describe("3. each trust store type serves only its own role", () => {
  it("a tsa: store is never a signing root", async () => {
    const c = await chain();
    const p = { ...policy, trustStores: ["tsa:acme"] };
    const v = verifyNotarySignature(await sign(c.signer), image, p, storeOf(c, "tsa:acme"));
    expect(v).toMatchObject({ ok: false, code: "store.role" });
    expect(v.reason).toMatch(/names no ca trust store/);
  });
  it("a signingAuthority: store does not anchor a notary.x509 signature", async () => {
    const c = await chain();
    const p = { ...policy, trustStores: ["signingAuthority:acme"] };
    const env = await sign(c.signer);
    expect(verifyNotarySignature(env, image, p, storeOf(c, "signingAuthority:acme"))).toMatchObject({
      ok: false,
      code: "store.role",
    });
    expect(
      verifyNotarySignature(env, image, p, storeOf(c, "signingAuthority:acme"), new Date(), {
        disabledChecks: new Set(["store.role"]),
      }).ok,
    ).toBe(true);
  });
  it("a notary.x509.signingAuthority signature is anchored by a signingAuthority: store only", async () => {
    const c = await chain();
    const env = JSON.parse((await sign(c.signer)).toString());
    const h = JSON.parse(Buffer.from(env.protected, "base64url").toString());
    h["io.cncf.notary.signingScheme"] = "notary.x509.signingAuthority";
    h["io.cncf.notary.authenticSigningTime"] = h["io.cncf.notary.signingTime"];
    delete h["io.cncf.notary.signingTime"];
    h.crit = ["io.cncf.notary.signingScheme", "io.cncf.notary.authenticSigningTime"];
    const p = Buffer.from(JSON.stringify(h)).toString("base64url");
    const sig = await c.signer.sign(Buffer.from(`${p}.${env.payload}`));
    const sa = Buffer.from(JSON.stringify({ ...env, protected: p, signature: sig.toString("base64url") }));
    const inSa = { ...policy, trustStores: ["signingAuthority:acme"] };
    expect(verifyNotarySignature(sa, image, inSa, storeOf(c, "signingAuthority:acme")).ok).toBe(true);
    expect(verifyNotarySignature(sa, image, policy, storeOf(c))).toMatchObject({
      ok: false,
      code: "store.role",
    });
  });
  it("a CA merely issuing the chain's last certificate is not enough: a chain certificate must be in the store", async () => {
    const c = await chain();
    const cut = localSigner(await privateOf(c.leaf), c.certs.slice(0, 2));
    expect(verifyNotarySignature(await sign(cut), image, policy, storeOf(c)).ok).toBe(false);
  });
});

describe("4. identities match the leaf subject parsed from its ASN.1", () => {
  it("a subject with two O attributes does not satisfy O=Acme", async () => {
    const c = await chain({ leaf: { subject: "C=US, ST=WA, O=TeamB, O=Acme, CN=builder" } });
    const v = verifyNotarySignature(await sign(c.signer), image, policy, storeOf(c));
    expect(v).toMatchObject({ ok: false, code: "identity.structuralDn" });
    expect(v.reason).toMatch(/attribute O twice/);
    const off = { disabledChecks: new Set(["identity.structuralDn"] as const) };
    expect(verifyNotarySignature(await sign(c.signer), image, policy, storeOf(c), new Date(), off).ok).toBe(
      true,
    );
  });
  it("a multi-valued RDN in the subject is refused", async () => {
    const c = await chain({ leaf: { subject: "C=US, ST=WA, O=Acme+OU=Build, CN=builder" } });
    expect(verifyNotarySignature(await sign(c.signer), image, policy, storeOf(c)).reason).toMatch(
      /multi-valued RDN/,
    );
  });
  it("values compare exactly (case matters, order does not)", async () => {
    const c = await chain({ leaf: { subject: "CN=builder, O=Acme, ST=WA, C=US" } });
    const env = await sign(c.signer);
    expect(verifyNotarySignature(env, image, policy, storeOf(c)).ok).toBe(true);
    const lower = { ...policy, trustedIdentities: ["x509.subject: C=US, ST=WA, O=acme"] };
    expect(verifyNotarySignature(env, image, lower, storeOf(c)).ok).toBe(false);
  });
});

describe("9. smaller notation rules", () => {
  it("RSA with RS256 is rejected (the Notary Project allows only PS256/384/512 for RSA)", async () => {
    const root = await makeCert({ subject: ROOT, ca: true });
    const rsa = (await subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        hash: "SHA-256",
        publicExponent: new Uint8Array([1, 0, 1]),
        modulusLength: 2048,
      },
      true,
      ["sign", "verify"],
    )) as webcrypto.CryptoKeyPair;
    const leaf = await px.X509CertificateGenerator.create({
      serialNumber: "77",
      subject: LEAF,
      issuer: root.cert.subject,
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + DAY),
      publicKey: rsa.publicKey,
      signingKey: root.keys.privateKey,
      signingAlgorithm: SIG,
      extensions: [new px.KeyUsagesExtension(px.KeyUsageFlags.digitalSignature, true)],
    });
    const key = createPrivateKey({
      key: Buffer.from(await subtle.exportKey("pkcs8", rsa.privateKey)),
      format: "der",
      type: "pkcs8",
    });
    const base = localSigner(key, [Buffer.from(leaf.rawData), der(root)]);
    const rs256: Signer = { ...base, alg: "RS256" as NotaryAlg, sign: (d) => base.sign(d, "RS256") };
    const store: TrustStore = new Map([["ca:acme", [x509(der(root))]]]);
    const env = await sign(rs256);
    expect(verifyNotarySignature(env, image, policy, store)).toMatchObject({
      ok: false,
      code: "alg.allowed",
    });
    expect(
      verifyNotarySignature(env, image, policy, store, new Date(), {
        disabledChecks: new Set(["alg.allowed"]),
      }).ok,
    ).toBe(true);
    expect(verifyNotarySignature(await sign(base), image, policy, store).ok).toBe(true);
  });
  it("the whole target descriptor must match (size and media type too)", async () => {
    const c = await chain();
    const env = await sign(c.signer, { ...image, size: 1 });
    expect(verifyNotarySignature(env, image, policy, storeOf(c)).reason).toMatch(/descriptor mismatch/);
  });
  it("a policy enforcing revocation fails the signature with the fix", async () => {
    const c = await chain();
    const strict = { ...policy, signatureVerification: { level: "strict" as const } };
    expect(verifyNotarySignature(await sign(c.signer), image, strict, storeOf(c)).reason).toMatch(
      /"revocation": "skip"/,
    );
  });
  it("a tsa: store asks for an RFC 3161 countersignature, which is not verified here: a clear failure", async () => {
    const c = await chain();
    const p = { ...policy, trustStores: ["ca:acme", "tsa:ts"] };
    const store: TrustStore = new Map([...storeOf(c), ["tsa:ts", [c.rootCert]]]);
    expect(verifyNotarySignature(await sign(c.signer), image, p, store).reason).toMatch(/RFC 3161/);
  });
  it("crit must name the signing scheme, and only headers that are present", async () => {
    const c = await chain();
    const env = JSON.parse((await sign(c.signer)).toString());
    const tamper = async (f: (h: Record<string, unknown>) => void) => {
      const h = JSON.parse(Buffer.from(env.protected, "base64url").toString());
      f(h);
      const p = Buffer.from(JSON.stringify(h)).toString("base64url");
      const sig = await c.signer.sign(Buffer.from(`${p}.${env.payload}`));
      return Buffer.from(JSON.stringify({ ...env, protected: p, signature: sig.toString("base64url") }));
    };
    const store = storeOf(c);
    expect(verifyNotarySignature(await tamper((h) => delete h.crit), image, policy, store).reason).toMatch(
      /"crit" header is missing/,
    );
    expect(
      verifyNotarySignature(
        await tamper((h) => {
          h.crit = [...(h.crit as string[]), "io.cncf.notary.expiry"];
        }),
        image,
        policy,
        store,
      ).reason,
    ).toMatch(/marked critical but not present/);
    expect(verifyNotarySignature(await tamper(() => {}), image, policy, store).ok).toBe(true);
  });
});

/** A registry in memory: manifests by digest and tag, blobs, referrers by subject. */
function memoryStore(): ArtifactStore & {
  put(m: object, tag?: string): Promise<Descriptor>;
  blobs: Map<string, Buffer>;
} {
  const manifests = new Map<string, { bytes: Buffer; manifest: object }>();
  const tags = new Map<string, string>();
  const blobs = new Map<string, Buffer>();
  const put = async (m: object, tag?: string) => {
    const bytes = Buffer.from(encodeJson(m));
    const digest = sha256Digest(bytes);
    manifests.set(digest, { bytes, manifest: m });
    if (tag) tags.set(tag, digest);
    return { mediaType: MediaType.ociManifest, digest, size: bytes.length };
  };
  const get = (r: string) => manifests.get(tags.get(r) ?? r);
  return {
    name: "memory",
    blobs,
    put,
    async resolve(r) {
      const m = get(r);
      if (!m) throw new Error(`no ${r}`);
      return { mediaType: MediaType.ociManifest, digest: sha256Digest(m.bytes), size: m.bytes.length };
    },
    async listReferrers(digest) {
      const descriptors = [...manifests.entries()]
        .filter(([, m]) => (m.manifest as { subject?: Descriptor }).subject?.digest === digest)
        .map(([d, m]) => {
          const mf = m.manifest as { artifactType?: string; annotations?: Record<string, string> };
          return {
            mediaType: MediaType.ociManifest,
            digest: d,
            size: m.bytes.length,
            artifactType: mf.artifactType,
            annotations: mf.annotations,
          };
        });
      return { descriptors, mode: "api" };
    },
    async fallbackReferrers() {
      return [];
    },
    async pushBlob(bytes) {
      blobs.set(sha256Digest(bytes), Buffer.from(bytes));
    },
    async pushReferrer(bytes) {
      const m = JSON.parse(Buffer.from(bytes).toString());
      return { digest: (await put(m)).digest, mode: "api" };
    },
    async getManifest(r) {
      const m = get(r);
      return m ? { manifest: m.manifest as never, digest: sha256Digest(m.bytes) } : undefined;
    },
    async getBlob(d) {
      const b = blobs.get(d);
      if (!b) throw new PlatformError("OCI_BLOB_UNKNOWN", `blob ${d} is not in the registry`);
      return b;
    },
    async putTagged(bytes, _mt, tag) {
      return (await put(JSON.parse(Buffer.from(bytes).toString()), tag)).digest;
    },
  };
}

async function imageIn(store: ReturnType<typeof memoryStore>) {
  await store.pushBlob(Buffer.from("{}"));
  const subject = await store.put(
    {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociEmpty, digest: sha256Digest(Buffer.from("{}")), size: 2 },
      layers: [],
    },
    "v1",
  );
  return subject;
}
async function attach(store: ReturnType<typeof memoryStore>, manifest: object, blob: Buffer) {
  await store.pushBlob(blob);
  return store.put(manifest);
}

/** A `.sig` tag for `digest` holding a signature by `signer` over another digest. */
async function plantLegacyForOtherDigest(store: ArtifactStore, signer: Signer, digest: string) {
  const other = await cosignLegacySignature(signer, "reg.example/app", `sha256:${"b".repeat(64)}`);
  await store.pushBlob(other.payload);
  await store.putTagged(
    encodeJson(cosignLegacyManifest([other.descriptor])),
    MediaType.ociManifest,
    cosignSignatureTag(digest),
  );
}

describe("verifyImage: each signature judged on its own, from what is signed", () => {
  let c: Awaited<ReturnType<typeof chain>>;
  beforeAll(async () => {
    c = await chain();
  });
  const notation = () => ({
    policy: parseTrustPolicy(
      JSON.stringify({
        version: "1.0",
        trustPolicies: [{ ...policy, registryScopes: ["MyACR.azurecr.io/app"] }],
      }),
    ),
    store: storeOf(c),
  });

  it("6. a malformed neighbour (bad x5c, bad JSON) is a reported failed check; the valid signature still verifies", async () => {
    const store = memoryStore();
    const subject = await imageIn(store);
    const env = await sign(c.signer, subject);
    const badX5c = JSON.parse(env.toString());
    badX5c.header.x5c = ["bm90IGEgY2VydA=="];
    for (const blob of [Buffer.from(JSON.stringify(badX5c)), Buffer.from("{not json")]) {
      await attach(store, notarySignatureManifest(blob, subject, c.certs), blob);
    }
    await attach(store, notarySignatureManifest(env, subject, c.certs), env);
    const r = await verifyImage({ imageRef: "myacr.azurecr.io/app:v1", store, notation: notation() });
    expect(r.verified).toBe(true);
    const failed = r.checks.filter((x) => !x.ok);
    expect(failed).toHaveLength(2);
    for (const f of failed) {
      expect(f.code).toBe("NOTARY_ENVELOPE_INVALID");
      expect(f.hint).toMatch(/remove it/);
      expect(f.reason).not.toMatch(/error:0|asn1|OpenSSL/i);
    }
  });

  it("8. a scope written MyACR.azurecr.io/app matches myacr.azurecr.io/app (not the * fallback)", async () => {
    const store = memoryStore();
    const subject = await imageIn(store);
    const env = await sign(c.signer, subject);
    await attach(store, notarySignatureManifest(env, subject, c.certs), env);
    const r = await verifyImage({ imageRef: "myacr.azurecr.io/app:v1", store, notation: notation() });
    expect(r).toMatchObject({ verified: true, policy: "prod" });
    const raw = JSON.stringify({
      version: "1.0",
      trustPolicies: [{ ...policy, registryScopes: ["MyACR.azurecr.io/app"] }],
    });
    const off = parseTrustPolicy(raw, "tp.json", { disabledChecks: new Set(["scope.normalise"]) });
    await expect(
      verifyImage({
        imageRef: "myacr.azurecr.io/app:v1",
        store,
        notation: { policy: off, store: storeOf(c) },
      }),
    ).rejects.toThrow(/No trust policy/);
  });

  it("9. under audit an untrusted signer verifies (integrity) but is not listed in signers", async () => {
    const store = memoryStore();
    const subject = await imageIn(store);
    const stranger = await chain();
    const env = await sign(stranger.signer, subject);
    await attach(store, notarySignatureManifest(env, subject, stranger.certs), env);
    const audit = {
      version: "1.0",
      trustPolicies: [{ ...policy, registryScopes: ["*"], signatureVerification: { level: "audit" } }],
    };
    const r = await verifyImage({
      imageRef: "reg.example/app:v1",
      store,
      notation: { policy: parseTrustPolicy(JSON.stringify(audit)), store: storeOf(c) },
    });
    expect(r.verified).toBe(true);
    expect(r.signers).toEqual([]);
  });

  it("10. a policy enforcing revocation is refused up front with the fix; a COSE envelope is a failed check", async () => {
    const store = memoryStore();
    const subject = await imageIn(store);
    const strict = {
      version: "1.0",
      trustPolicies: [{ ...policy, registryScopes: ["*"], signatureVerification: { level: "strict" } }],
    };
    await expect(
      verifyImage({
        imageRef: "reg.example/app:v1",
        store,
        notation: { policy: parseTrustPolicy(JSON.stringify(strict)), store: storeOf(c) },
      }),
    ).rejects.toMatchObject({ code: "TRUST_POLICY_REVOCATION_UNSUPPORTED" });
    const cose = Buffer.from([0xd2, 0x84]);
    await attach(
      store,
      referrerManifest(NOTARY_ARTIFACT_TYPE, "application/cose", cose, subject, new Date(), {}),
      cose,
    );
    const r = await verifyImage({
      imageRef: "reg.example/app:v1",
      store,
      notation: notation() && {
        policy: parseTrustPolicy(
          JSON.stringify({ version: "1.0", trustPolicies: [{ ...policy, registryScopes: ["*"] }] }),
        ),
        store: storeOf(c),
      },
    });
    expect(r.verified).toBe(false);
    expect(r.checks[0]).toMatchObject({ ok: false, code: "NOTARY_COSE_UNSUPPORTED" });
  });

  it("5. an SBOM attestation annotated as a signature does not count as one (the signed predicateType decides)", async () => {
    const store = memoryStore();
    const subject = await imageIn(store);
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const signer = localSigner(privateKey);
    const sbom = await dsseBundle(
      sigstoreKeySigner(signer),
      inTotoStatement(subject.digest, "https://cyclonedx.org/bom", { bomFormat: "CycloneDX" }),
    );
    // The annotation lies: it claims the cosign signature predicate.
    await attach(store, bundleManifest(sbom, subject, COSIGN_SIGN_PREDICATE), sbom);
    const keys = [{ name: "cosign.pub", key: publicKey }];
    const r = await verifyImage({ imageRef: "reg.example/app:v1", store, cosignKeys: keys });
    expect(r.verified).toBe(false);
    expect(r.checks[0]).toMatchObject({
      format: "attestation",
      ok: true,
      predicateType: "https://cyclonedx.org/bom",
    });
    const off = await verifyImage({
      imageRef: "reg.example/app:v1",
      store,
      cosignKeys: keys,
      disabledChecks: new Set(["bundle.signedType"]),
    });
    expect(off.verified).toBe(true);
  });

  it("9. cosign: a legacy .sig for another digest fails; RSA-PSS is not cosign's RSA scheme", async () => {
    const store = memoryStore();
    const subject = await imageIn(store);
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    await plantLegacyForOtherDigest(store, localSigner(privateKey), subject.digest);
    const r = await verifyImage({
      imageRef: "reg.example/app:v1",
      store,
      cosignKeys: [{ name: "k", key: publicKey }],
    });
    expect(r.verified).toBe(false);
    expect(r.checks[0]).toMatchObject({ code: "COSIGN_DIGEST_MISMATCH" });
  });
});

describe("7. sign decides 'already signed' by verifying the existing signature", () => {
  it("a planted junk referrer with our annotations does not make sign skip", async () => {
    const c = await chain();
    const store = memoryStore();
    const subject = await imageIn(store);
    const junk = Buffer.from("junk");
    const keyId = (await import("./crypto.ts")).sha256Hex(
      c.signer.publicKey.export({ type: "spki", format: "der" }),
    );
    const planted = notarySignatureManifest(junk, subject, c.certs);
    planted.annotations = { ...planted.annotations, [KEY_ANNOTATION]: keyId };
    await attach(store, planted, junk);
    const bundle = referrerManifest(
      "application/vnd.dev.sigstore.bundle.v0.3+json",
      "application/vnd.dev.sigstore.bundle.v0.3+json",
      junk,
      subject,
      new Date(),
      {
        [KEY_ANNOTATION]: keyId,
        "dev.sigstore.bundle.predicateType": COSIGN_SIGN_PREDICATE,
      },
    );
    await attach(store, bundle, junk);
    // A legacy .sig layer by the same key, but over another digest.
    await plantLegacyForOtherDigest(store, c.signer, subject.digest);

    const r = await signImage({
      imageRef: `reg.example/app@${subject.digest}`,
      format: "both",
      signer: c.signer,
      store,
    });
    expect(r.signatures.map((s) => s.mode)).toEqual(["api", "api", "sig-tag"]);
    const again = await signImage({
      imageRef: `reg.example/app@${subject.digest}`,
      format: "both",
      signer: c.signer,
      store,
    });
    expect(again.signatures.map((s) => s.mode)).toEqual(["exists", "exists", "exists"]);
  });
});
