// Certificates for the adversarial corpus, made at test time with @peculiar/x509 (nothing is committed):
// every knob an attacker or a careless CA could turn — validity, basicConstraints, pathLen, keyUsage,
// EKU, subject encoding — for root, intermediate and leaf alike.
import "reflect-metadata";
import { createPrivateKey, type KeyObject, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as never);

const subtle = webcrypto.subtle;
const DAY = 86400_000;

export type KeyKind = "EC-P256" | "EC-P384" | "RSA-2048" | "RSA-3072";

/** One certificate's knobs; every default is what notation accepts for its position. */
export interface CertSpec {
  /** A DN string, or @peculiar/x509's JSON name (one object per RDN; two keys in one object = multi-valued RDN). */
  subject?: string | x509.JsonNameParams;
  notBefore?: Date;
  notAfter?: Date;
  /** basicConstraints cA; "absent" leaves the extension out. Default: true for CAs, false for leaves. */
  ca?: boolean | "absent";
  pathLength?: number;
  /** keyUsage flags; "absent" leaves the extension out. */
  keyUsage?: number | "absent";
  /** EKU OIDs; "absent" leaves the extension out. Default: codeSigning for leaves, absent for CAs. */
  eku?: string[] | "absent";
  key?: KeyKind;
}

export interface Issued {
  cert: x509.X509Certificate;
  der: Buffer;
  pem: string;
  keys: webcrypto.CryptoKeyPair;
  /** The private key as a node KeyObject (for signing envelopes). */
  privateKey: KeyObject;
  kind: KeyKind;
}

export const EKU = {
  codeSigning: x509.ExtendedKeyUsage.codeSigning,
  serverAuth: x509.ExtendedKeyUsage.serverAuth,
  clientAuth: x509.ExtendedKeyUsage.clientAuth,
  timeStamping: x509.ExtendedKeyUsage.timeStamping,
  any: "2.5.29.37.0",
} as const;
export const KU = x509.KeyUsageFlags;

function keyAlgorithm(kind: KeyKind): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams {
  if (kind.startsWith("RSA")) {
    return {
      name: "RSASSA-PKCS1-v1_5",
      hash: "SHA-256",
      publicExponent: new Uint8Array([1, 0, 1]),
      modulusLength: Number(kind.slice(4)),
    };
  }
  return { name: "ECDSA", namedCurve: kind === "EC-P384" ? "P-384" : "P-256" };
}

function signingAlgorithm(kind: KeyKind) {
  return kind.startsWith("RSA")
    ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
    : { name: "ECDSA", hash: "SHA-256" };
}

function serial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(10));
  b[0] = (b[0]! & 0x7f) | 0x01;
  return Buffer.from(b).toString("hex");
}

/** Issues a certificate under `issuer` (self-signed when absent); `role` picks the defaults. */
export async function issue(role: "ca" | "leaf", spec: CertSpec = {}, issuer?: Issued): Promise<Issued> {
  const kind = spec.key ?? "EC-P256";
  const keys = (await subtle.generateKey(keyAlgorithm(kind), true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const isCa = role === "ca";
  const extensions: x509.Extension[] = [];
  const ca = spec.ca ?? isCa;
  if (ca !== "absent") extensions.push(new x509.BasicConstraintsExtension(ca, spec.pathLength, true));
  const ku = spec.keyUsage ?? (isCa ? KU.keyCertSign | KU.cRLSign : KU.digitalSignature);
  if (ku !== "absent") extensions.push(new x509.KeyUsagesExtension(ku, true));
  const eku = spec.eku ?? (isCa ? "absent" : [EKU.codeSigning]);
  if (eku !== "absent") extensions.push(new x509.ExtendedKeyUsageExtension(eku, false));
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));
  if (issuer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.cert, false));
  const subject = new x509.Name(spec.subject ?? (isCa ? "C=US, O=Corpus CA, CN=Corpus CA" : LEAF_SUBJECT));
  const common = {
    serialNumber: serial(),
    notBefore: spec.notBefore ?? new Date(Date.now() - DAY),
    notAfter: spec.notAfter ?? new Date(Date.now() + 30 * DAY),
    extensions,
  };
  const cert = issuer
    ? await x509.X509CertificateGenerator.create({
        ...common,
        subject,
        issuer: issuer.cert.subjectName,
        publicKey: keys.publicKey,
        signingKey: issuer.keys.privateKey,
        signingAlgorithm: signingAlgorithm(issuer.kind),
      })
    : await x509.X509CertificateGenerator.createSelfSigned({
        ...common,
        name: subject,
        keys,
        signingAlgorithm: signingAlgorithm(kind),
      });
  const pkcs8 = Buffer.from(await subtle.exportKey("pkcs8", keys.privateKey));
  const der = Buffer.from(cert.rawData);
  return {
    cert,
    der,
    pem: cert.toString("pem"),
    keys,
    privateKey: createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }),
    kind,
  };
}

/** The default leaf subject, and the trusted identity that matches it. */
export const LEAF_SUBJECT = "C=US, ST=WA, O=Acme, CN=corpus-signer";
export const LEAF_IDENTITY = `x509.subject: ${LEAF_SUBJECT}`;

export interface Chain {
  root: Issued;
  intermediates: Issued[];
  leaf: Issued;
  /** x5c order: leaf, intermediates (nearest first), root. */
  x5c: Buffer[];
}

/** root → intermediates (in order, each issuing the next) → leaf. */
export async function chain(
  opts: { root?: CertSpec; intermediates?: CertSpec[]; leaf?: CertSpec } = {},
): Promise<Chain> {
  const root = await issue("ca", { subject: "C=US, O=Corpus, CN=Corpus Root", ...opts.root });
  const intermediates: Issued[] = [];
  let parent = root;
  for (const [i, spec] of (opts.intermediates ?? [{}]).entries()) {
    parent = await issue(
      "ca",
      { subject: `C=US, O=Corpus, CN=Corpus Intermediate ${i + 1}`, ...spec },
      parent,
    );
    intermediates.push(parent);
  }
  const leaf = await issue("leaf", opts.leaf ?? {}, parent);
  return {
    root,
    intermediates,
    leaf,
    x5c: [leaf.der, ...[...intermediates].reverse().map((c) => c.der), root.der],
  };
}

export const days = (n: number) => new Date(Date.now() + n * DAY);
