import { generateKeyPairSync } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { type GeneratedIdentity, generateRoot, generateSigningIdentity } from "./certs.ts";
import {
  bundleManifest,
  cosignLegacySignature,
  cosignVerify,
  dsseBundle,
  inTotoStatement,
  parseBundle,
  sigstoreKeySigner,
} from "./cosign.ts";
import {
  cosignAlgFor,
  ecdsaRawToDer,
  keySpecOf,
  notaryAlgFor,
  parseDn,
  signRaw,
  verifyRaw,
  x509,
} from "./crypto.ts";
import {
  NOTARY_ARTIFACT_TYPE,
  notarySignatureManifest,
  parseNotaryJws,
  signNotaryJws,
  THUMBPRINT_ANNOTATION,
} from "./notary.ts";
import { localSigner } from "./signer.ts";
import {
  parseTrustPolicy,
  selectPolicy,
  type TrustPolicy,
  type TrustStore,
  verifyNotarySignature,
} from "./trust.ts";

const image = {
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: `sha256:${"a".repeat(64)}`,
  size: 1234,
};

describe("algorithms", () => {
  it.each([
    [{ type: "rsa", modulusLength: 2048 }, "PS256"],
    [{ type: "rsa", modulusLength: 3072 }, "PS384"],
    [{ type: "rsa", modulusLength: 4096 }, "PS512"],
    [{ type: "ec", namedCurve: "P-256" }, "ES256"],
    [{ type: "ec", namedCurve: "P-384" }, "ES384"],
    [{ type: "ec", namedCurve: "P-521" }, "ES512"],
  ] as const)("%o → %s", (k, alg) => {
    const { privateKey } =
      k.type === "rsa"
        ? generateKeyPairSync("rsa", { modulusLength: k.modulusLength })
        : generateKeyPairSync("ec", { namedCurve: k.namedCurve });
    expect(notaryAlgFor(keySpecOf(privateKey))).toBe(alg);
  });

  it("refuses RSA 1024 and ed25519, naming the key", () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    expect(() => notaryAlgFor(keySpecOf(privateKey))).toThrow(/RSA key of 1024 bits/);
    const ed = generateKeyPairSync("ed25519").privateKey;
    expect(() => keySpecOf(ed)).toThrow(/ed25519/);
  });

  it("ECDSA signatures are raw r‖s for JWS and DER for cosign", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const sig = signRaw("ES256", privateKey, Buffer.from("x"));
    expect(sig).toHaveLength(64);
    expect(verifyRaw("ES256", publicKey, Buffer.from("x"), sig)).toBe(true);
    const der = ecdsaRawToDer(sig);
    expect(der[0]).toBe(0x30);
    expect(verifyRaw("ES256", publicKey, Buffer.from("x"), der, { der: true })).toBe(true);
    expect(cosignAlgFor(keySpecOf(privateKey))).toBe("ES256");
  });

  it("parses DNs with escaped commas and Node's multi-line subjects alike", () => {
    expect(parseDn("C=US, O=Acme\\, Inc., CN=builder")).toEqual([
      ["C", "US"],
      ["O", "Acme, Inc."],
      ["CN", "builder"],
    ]);
    expect(parseDn("C=US\nCN=b")).toEqual([
      ["C", "US"],
      ["CN", "b"],
    ]);
  });
});

describe("Notary Project JWS", () => {
  let id: GeneratedIdentity;
  let store: TrustStore;
  const policy: TrustPolicy = {
    name: "prod",
    registryScopes: ["reg.example/app"],
    signatureVerification: { level: "strict", override: { revocation: "skip" } },
    trustStores: ["ca:acme"],
    trustedIdentities: ["x509.subject: C=US, ST=WA, O=Platform Test, CN=platform-signer"],
  };
  beforeAll(async () => {
    id = await generateSigningIdentity();
    store = new Map([["ca:acme", [x509(id.chain[1]!)]]]);
  });

  it("builds the envelope with the exact protected headers, x5c and signing agent", async () => {
    const signer = localSigner(id.privateKey, id.chain);
    const env = JSON.parse(
      (await signNotaryJws(signer, image, { signingTime: new Date("2026-01-02T03:04:05.678Z") })).toString(),
    );
    expect(Object.keys(env).sort()).toEqual(["header", "payload", "protected", "signature"]);
    const prot = JSON.parse(Buffer.from(env.protected, "base64url").toString());
    expect(prot).toEqual({
      alg: "ES256",
      cty: "application/vnd.cncf.notary.payload.v1+json",
      "io.cncf.notary.signingScheme": "notary.x509",
      "io.cncf.notary.signingTime": "2026-01-02T03:04:05Z",
      crit: ["io.cncf.notary.signingScheme"],
    });
    expect(JSON.parse(Buffer.from(env.payload, "base64url").toString())).toEqual({ targetArtifact: image });
    expect(env.header.x5c).toHaveLength(2);
    expect(env.header["io.cncf.notary.signingAgent"]).toMatch(/^platform-signing\//);
    const parsed = parseNotaryJws(Buffer.from(JSON.stringify(env)));
    expect(parsed.target.digest).toBe(image.digest);
  });

  it("puts expiry in crit when set", async () => {
    const env = await signNotaryJws(localSigner(id.privateKey, id.chain), image, {
      expiry: new Date(Date.now() + 86400_000),
    });
    const prot = JSON.parse(Buffer.from(JSON.parse(env.toString()).protected, "base64url").toString());
    expect(prot.crit).toEqual(["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"]);
  });

  it("the signature manifest is an OCI 1.1 artifact with subject and thumbprints", async () => {
    const env = await signNotaryJws(localSigner(id.privateKey, id.chain), image);
    const m = notarySignatureManifest(env, image, id.chain);
    expect(m.artifactType).toBe(NOTARY_ARTIFACT_TYPE);
    expect(m.config.mediaType).toBe("application/vnd.oci.empty.v1+json");
    expect(m.layers[0]!.mediaType).toBe("application/jose+json");
    expect(m.subject).toEqual(image);
    expect(JSON.parse(m.annotations![THUMBPRINT_ANNOTATION]!)).toHaveLength(2);
    expect(JSON.parse(m.annotations![THUMBPRINT_ANNOTATION]!)[0]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("verifies under a strict policy and names the signer", async () => {
    const env = await signNotaryJws(localSigner(id.privateKey, id.chain), image);
    const v = verifyNotarySignature(env, image, policy, store);
    expect(v).toMatchObject({
      ok: true,
      signer: "C=US, ST=WA, O=Platform Test, CN=platform-signer",
      policy: "prod",
    });
  });

  it("rejects with a reason: digest mismatch, tampered payload, untrusted identity, wrong CA, expired cert", async () => {
    const signer = localSigner(id.privateKey, id.chain);
    const env = await signNotaryJws(signer, image);
    expect(
      verifyNotarySignature(env, { ...image, digest: `sha256:${"b".repeat(64)}` }, policy, store).reason,
    ).toMatch(/^digest mismatch/);

    const j = JSON.parse(env.toString());
    j.payload = Buffer.from(JSON.stringify({ targetArtifact: { ...image, size: 1 } })).toString("base64url");
    expect(verifyNotarySignature(Buffer.from(JSON.stringify(j)), image, policy, store).reason).toMatch(
      /^tampered payload/,
    );

    const other = { ...policy, trustedIdentities: ["x509.subject: C=US, ST=WA, O=Other, CN=someone-else"] };
    expect(verifyNotarySignature(env, image, other, store).reason).toMatch(
      /^untrusted identity: .* trustedIdentities/,
    );

    const stranger = await generateSigningIdentity();
    const strangerEnv = await signNotaryJws(localSigner(stranger.privateKey, stranger.chain), image);
    expect(verifyNotarySignature(strangerEnv, image, policy, store).reason).toMatch(
      /^untrusted signer: no certificate of the chain .* is in trust store\(s\) ca:acme/,
    );

    const root = await generateRoot();
    const old = await generateSigningIdentity({
      root,
      notBefore: new Date(Date.now() - 10 * 86400_000),
      notAfter: new Date(Date.now() - 86400_000),
    });
    const oldStore: TrustStore = new Map([["ca:acme", [x509(old.chain[1]!)]]]);
    const oldEnv = await signNotaryJws(localSigner(old.privateKey, old.chain), image);
    expect(verifyNotarySignature(oldEnv, image, policy, oldStore).reason).toMatch(/^expired certificate/);
    // permissive only logs certificate expiry
    const permissive = { ...policy, signatureVerification: { level: "permissive" as const } };
    const v = verifyNotarySignature(oldEnv, image, permissive, oldStore);
    expect(v.ok).toBe(true);
    expect(v.warnings.join()).toMatch(/expired certificate/);
    // audit still enforces integrity
    const audit = { ...policy, signatureVerification: { level: "audit" as const } };
    expect(verifyNotarySignature(strangerEnv, image, audit, store).ok).toBe(true);
    expect(
      verifyNotarySignature(env, { ...image, digest: `sha256:${"c".repeat(64)}` }, audit, store).ok,
    ).toBe(false);
  });

  it("refuses a chain whose leaf is not the key's certificate", async () => {
    const other = await generateSigningIdentity();
    expect(() => localSigner(id.privateKey, other.chain)).toThrow(/not the certificate of the signing key/);
  });
});

describe("trust policy documents", () => {
  const doc = {
    version: "1.0",
    trustPolicies: [
      {
        name: "prod",
        registryScopes: ["reg.example/app"],
        signatureVerification: { level: "strict" },
        trustStores: ["ca:acme"],
        trustedIdentities: ["x509.subject: C=US, ST=WA, O=X, CN=x"],
      },
      { name: "rest", registryScopes: ["*"], signatureVerification: { level: "skip" } },
    ],
  };
  it("selects by registry scope, else the wildcard", () => {
    const d = parseTrustPolicy(JSON.stringify(doc));
    expect(selectPolicy(d, "reg.example/app")?.name).toBe("prod");
    expect(selectPolicy(d, "reg.example/other")?.name).toBe("rest");
  });
  it.each([
    [{ ...doc, version: "2" }, /version must be "1.0"/],
    [
      { ...doc, trustPolicies: [{ ...doc.trustPolicies[0], trustStores: ["acme"] }] },
      /not <ca\|signingAuthority\|tsa>:<name>/,
    ],
    [
      { ...doc, trustPolicies: [{ ...doc.trustPolicies[0], trustedIdentities: ["CN=x"] }] },
      /is not "\*" or "x509.subject/,
    ],
    [{ ...doc, trustPolicies: [doc.trustPolicies[0], doc.trustPolicies[0]] }, /used twice/],
    [
      {
        ...doc,
        trustPolicies: [{ ...doc.trustPolicies[0], trustedIdentities: ["x509.subject: C=US, CN=x"] }],
      },
      /lacks ST, O/,
    ],
  ])("rejects %#", (d, msg) => {
    expect(() => parseTrustPolicy(JSON.stringify(d), "tp.json")).toThrow(msg);
  });
});

describe("cosign formats", () => {
  it("legacy: simple-signing payload and a DER signature annotation that verifies with the public key", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const layer = await cosignLegacySignature(localSigner(privateKey), "reg.example/app", image.digest);
    const payload = JSON.parse(layer.payload.toString());
    expect(payload.critical).toEqual({
      identity: { "docker-reference": "reg.example/app" },
      image: { "docker-manifest-digest": image.digest },
      type: "cosign container image signature",
    });
    const sig = Buffer.from(layer.descriptor.annotations!["dev.cosignproject.cosign/signature"]!, "base64");
    expect(cosignVerify(publicKey, layer.payload, sig)).toBe(true);
    expect(cosignVerify(publicKey, Buffer.from(`${layer.payload} `), sig)).toBe(false);
  });

  it("bundle v0.3: DSSE over an in-toto statement, made by @sigstore/sign with our key", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const statement = inTotoStatement(image.digest, "https://sigstore.dev/cosign/sign/v1", {});
    const bundle = await dsseBundle(sigstoreKeySigner(localSigner(privateKey)), statement);
    const json = JSON.parse(bundle.toString());
    expect(json.mediaType).toBe("application/vnd.dev.sigstore.bundle.v0.3+json");
    expect(json.dsseEnvelope.payloadType).toBe("application/vnd.in-toto+json");
    expect(json.dsseEnvelope.signatures[0].keyid ?? "").toBe("");
    const parsed = parseBundle(bundle);
    expect(parsed.statement.subject?.[0]?.digest?.sha256).toBe("a".repeat(64));
    expect(cosignVerify(publicKey, parsed.pae, parsed.signature)).toBe(true);
    const m = bundleManifest(bundle, image, "https://sigstore.dev/cosign/sign/v1");
    expect(m.annotations!["dev.sigstore.bundle.content"]).toBe("dsse-envelope");
  });
});
