// @peculiar/x509 resolves its ASN.1 services through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import { createPrivateKey, type KeyObject, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { derToPem } from "./crypto.ts";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as never);

export interface GeneratedIdentity {
  /** Private key of the leaf (signing) certificate. */
  privateKey: KeyObject;
  /** Chain, leaf first then the root, DER. */
  chain: Buffer[];
  /** PEM of the private key (PKCS#8). */
  keyPem: string;
  /** PEM of the chain, leaf first. */
  chainPem: string;
  /** PEM of the root CA, for a trust store. */
  rootPem: string;
  subject: string;
}

export interface IdentityOptions {
  /** Leaf subject, e.g. "C=US, O=Acme, CN=builder". */
  subject?: string;
  key?: "EC-P256" | "EC-P384" | "RSA-2048" | "RSA-3072";
  notBefore?: Date;
  notAfter?: Date;
  /** Reuse a root (its private key and certificate) instead of making one. */
  root?: { privateKey: CryptoKey; certificate: x509.X509Certificate };
}

function algorithmFor(
  key: IdentityOptions["key"],
): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams {
  switch (key) {
    case "RSA-2048":
    case "RSA-3072":
      return {
        name: "RSASSA-PKCS1-v1_5",
        hash: "SHA-256",
        publicExponent: new Uint8Array([1, 0, 1]),
        modulusLength: key === "RSA-2048" ? 2048 : 3072,
      };
    case "EC-P384":
      return { name: "ECDSA", namedCurve: "P-384" };
    default:
      return { name: "ECDSA", namedCurve: "P-256" };
  }
}

const subtle = webcrypto.subtle;

/** A throwaway root CA (EC P-256) for test and demo signing identities. */
export async function generateRoot(subject = "C=US, ST=WA, O=Platform Test, CN=Platform Test Root") {
  const keys = (await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: subject,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 365 * 86400_000),
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { privateKey: keys.privateKey, certificate };
}

/**
 * A signing identity that notation accepts: a code-signing leaf (digitalSignature, EKU codeSigning) under
 * a root CA. Generated at run time; never committed.
 */
export async function generateSigningIdentity(opts: IdentityOptions = {}): Promise<GeneratedIdentity> {
  const root = opts.root ?? (await generateRoot());
  const alg = algorithmFor(opts.key);
  const keys = (await subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
  const subject = opts.subject ?? "C=US, ST=WA, O=Platform Test, CN=platform-signer";
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: root.certificate.subject,
    notBefore: opts.notBefore ?? new Date(Date.now() - 3600_000),
    notAfter: opts.notAfter ?? new Date(Date.now() + 30 * 86400_000),
    publicKey: keys.publicKey,
    signingKey: root.privateKey,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning], false),
      await x509.AuthorityKeyIdentifierExtension.create(root.certificate, false),
    ],
  });
  const pkcs8 = Buffer.from(await subtle.exportKey("pkcs8", keys.privateKey));
  const privateKey = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
  const chain = [Buffer.from(leaf.rawData), Buffer.from(root.certificate.rawData)];
  return {
    privateKey,
    chain,
    keyPem: derToPem(pkcs8, "PRIVATE KEY"),
    chainPem: chain.map((c) => derToPem(c)).join(""),
    rootPem: derToPem(chain[1]!),
    subject,
  };
}

function randomSerial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(8));
  b[0] = (b[0]! & 0x7f) | 0x01;
  return Buffer.from(b).toString("hex");
}
