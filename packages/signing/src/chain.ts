// The Notary Project's certificate requirements for a signing chain, as notation-core-go v1.3.0
// (x509/codesigning_cert_validations.go) enforces them while checking a signature's integrity.
import "reflect-metadata";
import { X509Certificate as NodeCertificate } from "node:crypto";
import * as px from "@peculiar/x509";
import { type CheckSwitches, checkOn } from "./checks.ts";

const KU = px.KeyUsageFlags;
const EKU = {
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  emailProtection: "1.3.6.1.5.5.7.3.4",
  timeStamping: "1.3.6.1.5.5.7.3.8",
  ocspSigning: "1.3.6.1.5.5.7.3.9",
} as const;
const KEY_USAGE_OID = "2.5.29.15";

/** A certificate as both libraries see it: node's for signatures, @peculiar/x509's for extensions and names. */
export interface ChainCert {
  der: Buffer;
  node: NodeCertificate;
  px: px.X509Certificate;
  subject: string;
}

/** Parses DER certificates; throws an Error naming the position of one that does not parse. */
export function parseChain(ders: Buffer[]): ChainCert[] {
  return ders.map((der, i) => {
    try {
      const p = new px.X509Certificate(der);
      return { der, node: new NodeCertificate(der), px: p, subject: p.subject };
    } catch (err) {
      throw new Error(
        `certificate ${i + 1} of x5c is not a DER X.509 certificate (${(err as Error).message})`,
      );
    }
  });
}

const rawName = (n: px.Name) => Buffer.from(n.toArrayBuffer());

/** Go's CheckSignatureFrom plus equal raw names: `issuer` is a CA allowed to sign certificates, and signed `cert`. */
function issuedBy(cert: ChainCert, issuer: ChainCert, opts?: CheckSwitches): boolean {
  const bc = issuer.px.getExtension(px.BasicConstraintsExtension);
  const ku = issuer.px.getExtension(px.KeyUsagesExtension);
  // Go refuses a v3 parent without basicConstraints CA:TRUE, or with a key usage lacking keyCertSign.
  if (checkOn(opts, "chain.basicConstraints") && !bc?.ca) return false;
  if (checkOn(opts, "chain.keyUsage") && ku && !(ku.usages & KU.keyCertSign)) return false;
  return rawName(issuer.px.subjectName).equals(rawName(cert.px.issuerName)) && signedBy(cert, issuer);
}

function signedBy(cert: ChainCert, issuer: ChainCert): boolean {
  try {
    return cert.node.verify(issuer.node.publicKey);
  } catch {
    return false;
  }
}

function selfSignedLeaf(cert: ChainCert): boolean {
  return rawName(cert.px.subjectName).equals(rawName(cert.px.issuerName)) && signedBy(cert, cert);
}

/** Every problem found, first one first; empty means the chain meets the Notary Project's requirements. */
export type ChainProblem = {
  check:
    | "chain.basicConstraints"
    | "chain.pathLength"
    | "chain.keyUsage"
    | "chain.extendedKeyUsage"
    | "chain.structure";
  reason: string;
};

/**
 * Validates an x5c chain (leaf first) as notation-core-go's ValidateCodeSigningCertChain does, with no
 * signing time (notation checks validity separately): a lone self-signed leaf, or leaf → … → self-signed
 * root where each certificate is issued by the next; issuers CA:TRUE with path length honoured and a
 * critical key usage with keyCertSign; the leaf not a CA, with a critical key usage of digitalSignature
 * (nonRepudiation allowed, nothing else) and no serverAuth, clientAuth, emailProtection, timeStamping or
 * OCSPSigning extended key usage.
 */
export function chainProblem(chain: ChainCert[], opts?: CheckSwitches): ChainProblem | undefined {
  if (chain.length === 0) return { check: "chain.structure", reason: "the certificate chain is empty" };
  if (chain.length === 1) {
    if (!selfSignedLeaf(chain[0]!)) {
      return {
        check: "chain.structure",
        reason: `"${chain[0]!.subject}" is alone in x5c but not self-signed`,
      };
    }
    return leafProblem(chain[0]!, opts);
  }
  for (const [i, cert] of chain.entries()) {
    const last = i === chain.length - 1;
    if (last) {
      if (!issuedBy(cert, cert, opts)) {
        return {
          check: "chain.structure",
          reason: `the chain must end with a self-signed root CA; "${cert.subject}" is not one`,
        };
      }
    } else {
      if (issuedBy(cert, cert, opts)) {
        return {
          check: "chain.structure",
          reason: `"${cert.subject}" is self-signed but not the last certificate`,
        };
      }
      const parent = chain[i + 1]!;
      if (!issuedBy(cert, parent, opts)) {
        return {
          check: "chain.structure",
          reason: `"${cert.subject}" is not issued by "${parent.subject}"${caHint(parent)}`,
        };
      }
    }
    const p = i === 0 ? leafProblem(cert, opts) : caProblem(cert, i - 1, opts);
    if (p) return p;
  }
  return undefined;
}

function caHint(parent: ChainCert): string {
  const bc = parent.px.getExtension(px.BasicConstraintsExtension);
  if (!bc?.ca) return " (the issuer is not a CA: basicConstraints CA:TRUE is missing)";
  const ku = parent.px.getExtension(px.KeyUsagesExtension);
  if (ku && !(ku.usages & KU.keyCertSign)) return " (the issuer's key usage lacks keyCertSign)";
  return "";
}

function caProblem(cert: ChainCert, expectedPathLen: number, opts?: CheckSwitches): ChainProblem | undefined {
  const bc = cert.px.getExtension(px.BasicConstraintsExtension);
  if (checkOn(opts, "chain.basicConstraints") && !bc?.ca) {
    return {
      check: "chain.basicConstraints",
      reason: `issuer "${cert.subject}" is not a CA (basicConstraints CA:TRUE is required)`,
    };
  }
  if (checkOn(opts, "chain.pathLength") && bc?.pathLength !== undefined && bc.pathLength < expectedPathLen) {
    return {
      check: "chain.pathLength",
      reason: `issuer "${cert.subject}" allows a path length of ${bc.pathLength}, but ${expectedPathLen} CA certificate(s) sit below it`,
    };
  }
  if (checkOn(opts, "chain.keyUsage")) {
    const ku = keyUsage(cert);
    if (typeof ku === "string") return { check: "chain.keyUsage", reason: `issuer "${cert.subject}": ${ku}` };
    if (!(ku & KU.keyCertSign)) {
      return {
        check: "chain.keyUsage",
        reason: `issuer "${cert.subject}": key usage must include keyCertSign`,
      };
    }
  }
  return undefined;
}

function leafProblem(cert: ChainCert, opts?: CheckSwitches): ChainProblem | undefined {
  const bc = cert.px.getExtension(px.BasicConstraintsExtension);
  if (checkOn(opts, "chain.basicConstraints") && bc?.ca) {
    return {
      check: "chain.basicConstraints",
      reason: `signing certificate "${cert.subject}" is a CA (basicConstraints CA:TRUE); a signing certificate must not be`,
    };
  }
  if (checkOn(opts, "chain.keyUsage")) {
    const ku = keyUsage(cert);
    if (typeof ku === "string")
      return { check: "chain.keyUsage", reason: `signing certificate "${cert.subject}": ${ku}` };
    if (!(ku & KU.digitalSignature)) {
      return {
        check: "chain.keyUsage",
        reason: `signing certificate "${cert.subject}": key usage must include digitalSignature`,
      };
    }
    const extra = ku & ~(KU.digitalSignature | KU.nonRepudiation);
    if (extra) {
      const names = Object.entries(KU)
        .filter(([, bit]) => typeof bit === "number" && extra & bit)
        .map(([n]) => n);
      return {
        check: "chain.keyUsage",
        reason: `signing certificate "${cert.subject}": key usage must be digitalSignature only, not ${names.join(", ")}`,
      };
    }
  }
  if (checkOn(opts, "chain.extendedKeyUsage")) {
    const eku = cert.px.getExtension(px.ExtendedKeyUsageExtension);
    const bad = (eku?.usages ?? []).filter((u) => (Object.values(EKU) as string[]).includes(String(u)));
    if (bad.length) {
      const names = bad.map((u) => Object.entries(EKU).find(([, oid]) => oid === String(u))![0]);
      return {
        check: "chain.extendedKeyUsage",
        reason: `signing certificate "${cert.subject}": extended key usage ${names.join(", ")} is not for code signing (a Notary Project signing certificate must not carry it)`,
      };
    }
  }
  return undefined;
}

/** The key usage bits, or why the extension is unacceptable (absent or not critical). */
function keyUsage(cert: ChainCert): number | string {
  const ext = cert.px.extensions.find((e) => e.type === KEY_USAGE_OID);
  if (!ext) return "the key usage extension must be present";
  if (!ext.critical) return "the key usage extension must be critical";
  return cert.px.getExtension(px.KeyUsagesExtension)!.usages;
}
