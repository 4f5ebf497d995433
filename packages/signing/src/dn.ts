// Distinguished names the way notation compares them (notation-go internal/pkix over go-ldap's ParseDN):
// a trusted identity is RFC 4514 text; the certificate's subject is read structurally from its ASN.1.
import "reflect-metadata";
import * as px from "@peculiar/x509";

/** One RDN: its attribute (type, value) pairs; more than one pair is a multi-valued RDN. */
export type Rdn = Array<{ type: string; value: string }>;

/** Why a DN is not usable for notation's identity match (the message names the DN). */
export class DnError extends Error {}

/**
 * Splits RFC 4514 text into RDNs exactly as go-ldap v3.4.10's ParseDN does (`,` and `;` end an RDN, `+`
 * joins attributes, backslash escapes, `#hex` BER values, types kept as written): notation's validation
 * runs on its output, so an own grammar here would accept or reject different identities.
 */
export function parseRfc4514(text: string): Rdn[] {
  const rdns: Rdn[] = [];
  if (text.trim() === "") return rdns;
  let rdn: Rdn = [];
  let type: string | undefined;
  let start = 0;
  let escaping = false;
  const push = (end: number, last: boolean) => {
    if (type === undefined) throw new DnError("incomplete type, value pair");
    const raw = text.slice(start, end);
    // go-ldap decodes `#hex` as BER; notation refuses any DN holding "=#" before that matters.
    if (raw.startsWith("#")) throw new DnError("BER-encoded (#hex) values are not supported");
    rdn.push({ type, value: unescapeDn(raw) });
    type = undefined;
    start = end + 1;
    if (last) {
      rdns.push(rdn);
      rdn = [];
    }
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (escaping) escaping = false;
    else if (c === "\\") escaping = true;
    else if (c === "=" && type === undefined) {
      type = unescapeDn(text.slice(start, i));
      if (type === "") type = undefined;
      start = i + 1;
    } else if (c === "," || c === "+" || c === ";") push(i, c !== "+");
  }
  if (type === undefined) throw new DnError("DN ended with incomplete type, value pair");
  push(text.length, true);
  return rdns;
}

function trimSpaces(s: string): string {
  const t = s.replace(/^ +| +$/g, "");
  // An escaped trailing space stays.
  return t.endsWith("\\") && s.endsWith(" ") ? `${t} ` : t;
}

function unescapeDn(raw: string): string {
  const s = trimSpaces(raw);
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== "\\") {
      bytes.push(...Buffer.from(c, "utf8"));
      continue;
    }
    const next = s[i + 1];
    if (next === undefined) throw new DnError(`corrupted escaped character in "${s}"`);
    if (' "#+,;<=>\\'.includes(next)) {
      bytes.push(next.charCodeAt(0));
      i++;
      continue;
    }
    const hex = s.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new DnError(`invalid escape \\${hex} in "${s}"`);
    bytes.push(Number.parseInt(hex, 16));
    i += 2;
  }
  return Buffer.from(bytes).toString("utf8");
}

/** notation's parsed form of a DN: one value per attribute type (`S` folded into `ST`). */
export type DnMap = Map<string, string>;

const MANDATORY = ["C", "ST", "O"];

/**
 * notation-go's ParseDistinguishedName: no `=#`, no multi-valued RDN, no attribute twice, and C, ST (or S)
 * and O present. Throws a DnError saying which rule the DN breaks.
 */
export function notationDn(text: string): DnMap {
  if (text.includes("=#"))
    throw new DnError(`"${text}" contains "=#" (BER-encoded values are not supported)`);
  let rdns: Rdn[];
  try {
    rdns = parseRfc4514(text);
  } catch (err) {
    throw new DnError(`"${text}" is not an RFC 4514 DN: ${(err as Error).message}`);
  }
  return rdnMap(rdns, `"${text}"`);
}

function rdnMap(rdns: Rdn[], what: string): DnMap {
  const map: DnMap = new Map();
  for (const rdn of rdns) {
    if (rdn.length > 1)
      throw new DnError(`${what} has a multi-valued RDN (${rdn.map((a) => a.type).join("+")})`);
    for (const a of rdn) {
      const type = a.type === "S" ? "ST" : a.type;
      if (map.get(type)) throw new DnError(`${what} has the attribute ${type} twice`);
      map.set(type, a.value);
    }
  }
  const missing = MANDATORY.filter((k) => !map.get(k));
  if (missing.length)
    throw new DnError(`${what} lacks ${missing.join(", ")} (C, ST or S, and O are required)`);
  return map;
}

/** Attribute types Go's pkix.Name renders by name; any other makes notation see `OID=#hex` and refuse the subject. */
const GO_NAMES: Record<string, string> = {
  "2.5.4.6": "C",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.3": "CN",
  "2.5.4.5": "SERIALNUMBER",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "STREET",
  "2.5.4.17": "POSTALCODE",
};
/** @peculiar/x509's short names for the OIDs above (others it reports as the OID). */
const PECULIAR_TO_OID: Record<string, string> = {
  C: "2.5.4.6",
  O: "2.5.4.10",
  OU: "2.5.4.11",
  CN: "2.5.4.3",
  L: "2.5.4.7",
  ST: "2.5.4.8",
};

/** A certificate's subject as RDNs read from its ASN.1 (types named as Go names them, else the OID). */
export function certSubjectRdns(der: Uint8Array): Rdn[] {
  const name = new px.X509Certificate(der).subjectName;
  return name.toJSON().map((rdn) =>
    Object.entries(rdn).flatMap(([type, values]) => {
      const oid = PECULIAR_TO_OID[type] ?? type;
      return values.map((value) => ({ type: GO_NAMES[oid] ?? oid, value }));
    }),
  );
}

/**
 * The leaf subject for notation's identity match, from the certificate's structure: rejects multi-valued
 * RDNs, repeated attributes (`O=TeamB, O=Acme`), attribute types notation cannot name, and a subject
 * without C, ST and O.
 */
export function certSubjectDn(der: Uint8Array): DnMap {
  const rdns = certSubjectRdns(der);
  const odd = rdns.flat().find((a) => !Object.values(GO_NAMES).includes(a.type));
  if (odd)
    throw new DnError(`the certificate subject has attribute ${odd.type}, which notation cannot match`);
  return rdnMap(rdns, "the certificate subject");
}

/** notation's IsSubsetDN: every attribute of `wanted` has the same value in `have`. */
export function isSubsetDn(wanted: DnMap, have: DnMap): boolean {
  for (const [k, v] of wanted) if (have.get(k) !== v) return false;
  return true;
}

/** A subject rendered for messages: "C=US, ST=WA, O=Acme, CN=builder" in certificate order. */
export function formatRdns(rdns: Rdn[]): string {
  return rdns.map((r) => r.map((a) => `${a.type}=${a.value}`).join("+")).join(", ");
}
