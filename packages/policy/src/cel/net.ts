// Kubernetes IP and CIDR libraries (k8s.io/apiserver/pkg/cel/library/ip.go, cidr.go; Kubernetes 1.31+),
// over a port of Go's net/netip parsing: IPv4 without leading zeros, IPv6 with "::" and an embedded IPv4
// tail; zones and IPv4-mapped IPv6 addresses are rejected, as the apiserver rejects them.
import type { Environment } from "@marcbachmann/cel-js";
import { type CostMeter, stringCost } from "./cost.ts";
import { type CelValue, celError } from "./values.ts";

class AddrParseError extends Error {}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

function addrError(input: string, msg: string, at?: string): AddrParseError {
  return new AddrParseError(`ParseAddr(${goQuote(input)}): ${msg}${at ? ` (at ${goQuote(at)})` : ""}`);
}

function parseIPv4Into(input: string, s: string, out: Uint8Array, off: number): void {
  let val = 0;
  let pos = 0;
  let digLen = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digLen === 1 && val === 0) throw addrError(input, "IPv4 field has octet with leading zero");
      val = val * 10 + (c - 48);
      digLen++;
      if (val > 255) throw addrError(input, "IPv4 field has value >255");
    } else if (c === 46) {
      if (i === 0 || i === s.length - 1 || s[i - 1] === ".") {
        throw addrError(input, "IPv4 field must have at least one digit", s.slice(i));
      }
      if (pos === 3) throw addrError(input, "IPv4 address too long");
      out[off + pos++] = val;
      val = 0;
      digLen = 0;
    } else throw addrError(input, "unexpected character", s.slice(i));
  }
  if (pos < 3) throw addrError(input, "IPv4 address too short");
  out[off + 3] = val;
}

function parseIPv6(input: string): { bytes: Uint8Array; zone: string } {
  let s = input;
  let zone = "";
  const pct = s.indexOf("%");
  if (pct !== -1) {
    zone = s.slice(pct + 1);
    s = s.slice(0, pct);
    if (zone === "") throw addrError(input, "zone must be a non-empty string");
  }
  const ip = new Uint8Array(16);
  let ellipsis = -1;
  if (s.length >= 2 && s[0] === ":" && s[1] === ":") {
    ellipsis = 0;
    s = s.slice(2);
    if (s.length === 0) return { bytes: ip, zone };
  }
  let i = 0;
  while (i < 16) {
    let off = 0;
    let acc = 0;
    for (; off < s.length; off++) {
      const c = s.charCodeAt(off);
      if (c >= 48 && c <= 57) acc = acc * 16 + (c - 48);
      else if (c >= 97 && c <= 102) acc = acc * 16 + (c - 87);
      else if (c >= 65 && c <= 70) acc = acc * 16 + (c - 55);
      else break;
      if (off > 3) throw addrError(input, "each colon-separated field must have at most 4 hex digits", s);
      if (acc > 0xffff) throw addrError(input, "IPv6 field has value >=2^16", s);
    }
    if (off === 0) throw addrError(input, "each colon-separated field must have at least one digit", s);
    if (off < s.length && s[off] === ".") {
      if (ellipsis < 0 && i !== 12) {
        throw addrError(input, "embedded IPv4 address must replace the final 2 fields of the address", s);
      }
      if (i + 4 > 16) {
        throw addrError(input, "too many hex fields to fit an embedded IPv4 at the end of the address", s);
      }
      parseIPv4Into(input, s, ip, i);
      s = "";
      i += 4;
      break;
    }
    ip[i] = acc >> 8;
    ip[i + 1] = acc & 0xff;
    i += 2;
    s = s.slice(off);
    if (s.length === 0) break;
    if (s[0] !== ":") throw addrError(input, "unexpected character, want colon", s);
    if (s.length === 1) throw addrError(input, "colon must be followed by more characters", s);
    s = s.slice(1);
    if (s[0] === ":") {
      if (ellipsis >= 0) throw addrError(input, "multiple :: in address", s);
      ellipsis = i;
      s = s.slice(1);
      if (s.length === 0) break;
    }
  }
  if (s.length !== 0) throw addrError(input, "trailing garbage after address", s);
  if (i < 16) {
    if (ellipsis < 0) throw addrError(input, "address string too short");
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j]!;
    ip.fill(0, ellipsis, ellipsis + n);
  } else if (ellipsis >= 0) {
    throw addrError(input, "the :: must expand to at least one field of zeros");
  }
  return { bytes: ip, zone };
}

/** netip.ParseAddr. */
function parseAddr(s: string): { bytes: Uint8Array; zone: string } {
  for (let i = 0; i < s.length; i++) {
    switch (s[i]) {
      case ".": {
        const bytes = new Uint8Array(4);
        parseIPv4Into(s, s, bytes, 0);
        return { bytes, zone: "" };
      }
      case ":":
        return parseIPv6(s);
      case "%":
        throw addrError(s, "missing IPv6 address");
    }
  }
  throw addrError(s, "unable to parse IP");
}

function is4In6(b: Uint8Array): boolean {
  if (b.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** An IP address (net.IP). */
export class IP implements CelValue {
  readonly celTypeName = "net.IP";
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  get family(): 4 | 6 {
    return this.bytes.length === 4 ? 4 : 6;
  }

  isUnspecified(): boolean {
    return this.bytes.every((b) => b === 0);
  }

  isLoopback(): boolean {
    if (this.family === 4) return this.bytes[0] === 127;
    return this.bytes.every((b, i) => b === (i === 15 ? 1 : 0));
  }

  isMulticast(): boolean {
    return this.family === 4 ? (this.bytes[0]! & 0xf0) === 0xe0 : this.bytes[0] === 0xff;
  }

  isLinkLocalMulticast(): boolean {
    if (this.family === 4) return this.bytes[0] === 224 && this.bytes[1] === 0 && this.bytes[2] === 0;
    return this.bytes[0] === 0xff && (this.bytes[1]! & 0x0f) === 0x02;
  }

  isLinkLocalUnicast(): boolean {
    if (this.family === 4) return this.bytes[0] === 169 && this.bytes[1] === 254;
    return this.bytes[0] === 0xfe && (this.bytes[1]! & 0xc0) === 0x80;
  }

  isGlobalUnicast(): boolean {
    if (this.family === 4 && (this.isUnspecified() || this.bytes.every((b) => b === 255))) return false;
    return !this.isUnspecified() && !this.isLoopback() && !this.isMulticast() && !this.isLinkLocalUnicast();
  }

  /** netip.Addr.String: dotted IPv4; RFC 5952 IPv6 (lower case, longest run of ≥2 zero groups as "::"). */
  toString(): string {
    const b = this.bytes;
    if (b.length === 4) return b.join(".");
    const groups: number[] = [];
    for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
    let zs = -1;
    let ze = -1;
    for (let i = 0; i < 8; i++) {
      let j = i;
      while (j < 8 && groups[j] === 0) j++;
      if (j - i >= 2 && j - i > ze - zs) {
        zs = i;
        ze = j;
      }
    }
    let out = "";
    for (let i = 0; i < 8; i++) {
      if (i === zs) {
        out += "::";
        i = ze - 1;
        continue;
      }
      if (i > 0 && i !== ze) out += ":";
      out += groups[i]!.toString(16);
    }
    return out;
  }

  celEquals(other: unknown): boolean {
    return other instanceof IP && sameBytes(this.bytes, other.bytes);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function maskBytes(bytes: Uint8Array, bits: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    out[i] = out[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/** A network prefix (net.CIDR): an address and a prefix length; the address keeps its host bits. */
export class CIDR implements CelValue {
  readonly celTypeName = "net.CIDR";
  readonly ip: IP;
  readonly bits: number;
  constructor(ip: IP, bits: number) {
    this.ip = ip;
    this.bits = bits;
  }

  masked(): CIDR {
    return new CIDR(new IP(maskBytes(this.ip.bytes, this.bits)), this.bits);
  }

  containsIP(ip: IP): boolean {
    if (ip.family !== this.ip.family) return false;
    return sameBytes(maskBytes(ip.bytes, this.bits), maskBytes(this.ip.bytes, this.bits));
  }

  /** Whether `other` lies within this network (the Kubernetes 1.33 fix, kubernetes#130450, masks both sides). */
  containsCIDR(other: CIDR): boolean {
    return other.bits >= this.bits && this.containsIP(other.ip);
  }

  toString(): string {
    return `${this.ip}/${this.bits}`;
  }

  celEquals(other: unknown): boolean {
    return other instanceof CIDR && other.bits === this.bits && this.ip.celEquals(other.ip);
  }
}

/** The apiserver's parseIPAddr: netip.ParseAddr without zones or IPv4-mapped IPv6. */
export function parseIP(raw: string): IP {
  let addr: { bytes: Uint8Array; zone: string };
  try {
    addr = parseAddr(raw);
  } catch (err) {
    throw celError(
      `IP Address ${goQuote(raw)} parse error during conversion from string: ${(err as Error).message}`,
    );
  }
  if (addr.zone !== "") throw celError(`IP address ${goQuote(raw)} with zone value is not allowed`);
  if (is4In6(addr.bytes)) throw celError(`IPv4-mapped IPv6 address ${goQuote(raw)} is not allowed`);
  return new IP(addr.bytes);
}

/** The apiserver's parseCIDR: netip.ParsePrefix without IPv4-mapped IPv6; host bits are allowed. */
export function parseCIDR(raw: string): CIDR {
  const fail = (msg: string) =>
    celError(
      `network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix(${goQuote(raw)}): ${msg}`,
    );
  const slash = raw.lastIndexOf("/");
  if (slash < 0) throw fail("no '/'");
  let addr: { bytes: Uint8Array; zone: string };
  try {
    addr = parseAddr(raw.slice(0, slash));
  } catch (err) {
    throw fail((err as Error).message);
  }
  if (addr.bytes.length === 16 && addr.zone !== "") throw fail("IPv6 zones cannot be present in a prefix");
  const bitsStr = raw.slice(slash + 1);
  if (!/^(0|[1-9][0-9]*)$/.test(bitsStr)) throw fail(`bad bits after slash: ${goQuote(bitsStr)}`);
  const bits = Number(bitsStr);
  if (bits > addr.bytes.length * 8) throw fail("prefix length out of range");
  if (is4In6(addr.bytes)) {
    throw celError(
      `network address parse error during conversion from string: IPv4-mapped IPv6 address ${goQuote(raw)} is not allowed`,
    );
  }
  return new CIDR(new IP(addr.bytes), bits);
}

function succeeds(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch {
    return false;
  }
}

/** An object to hang `ip.isCanonical(...)` on: cel-js parses `ip.x(...)` as a call on an identifier `ip`. */
export class IPNamespace {}

/** Registers ip(), isIP(), ip.isCanonical(), cidr(), isCIDR() and the IP/CIDR member functions. */
export function registerNetLibrary(env: Environment, meter: CostMeter): void {
  const I = "net.IP";
  const C = "net.CIDR";
  env.registerType(I, { ctor: IP, fields: {} });
  env.registerType(C, { ctor: CIDR, fields: {} });
  env.registerType("net.IPNamespace", { ctor: IPNamespace, fields: {} });
  env.registerConstant("ip", "net.IPNamespace", new IPNamespace());
  env.registerOperator(`${I} == ${I}`, (a: IP, b: IP) => a.celEquals(b));
  env.registerOperator(`${C} == ${C}`, (a: CIDR, b: CIDR) => a.celEquals(b));

  const parseCost = (s: string) => meter.charge(stringCost(s.length));
  env.registerFunction(`ip(string): ${I}`, (s: string) => {
    parseCost(s);
    return parseIP(s);
  });
  env.registerFunction("isIP(string): bool", (s: string) => {
    parseCost(s);
    return succeeds(() => parseIP(s));
  });
  env.registerFunction("net.IPNamespace.isCanonical(string): bool", (_ns: IPNamespace, s: string) => {
    meter.charge(stringCost(s.length, 2));
    return parseIP(s).toString() === s;
  });
  env.registerFunction(`string(${I}): string`, (ip: IP) => ip.toString());
  env.registerFunction(`${I}.family(): int`, (ip: IP) => BigInt(ip.family));
  env.registerFunction(`${I}.isUnspecified(): bool`, (ip: IP) => ip.isUnspecified());
  env.registerFunction(`${I}.isLoopback(): bool`, (ip: IP) => ip.isLoopback());
  env.registerFunction(`${I}.isLinkLocalMulticast(): bool`, (ip: IP) => ip.isLinkLocalMulticast());
  env.registerFunction(`${I}.isLinkLocalUnicast(): bool`, (ip: IP) => ip.isLinkLocalUnicast());
  env.registerFunction(`${I}.isGlobalUnicast(): bool`, (ip: IP) => ip.isGlobalUnicast());

  env.registerFunction(`cidr(string): ${C}`, (s: string) => {
    parseCost(s);
    return parseCIDR(s);
  });
  env.registerFunction("isCIDR(string): bool", (s: string) => {
    parseCost(s);
    return succeeds(() => parseCIDR(s));
  });
  env.registerFunction(`string(${C}): string`, (c: CIDR) => c.toString());
  const compareCost = (c: CIDR) => stringCost(c.ip.bytes.length * 2);
  env.registerFunction(`${C}.containsIP(${I}): bool`, (c: CIDR, ip: IP) => {
    meter.charge(compareCost(c));
    return c.containsIP(ip);
  });
  env.registerFunction(`${C}.containsIP(string): bool`, (c: CIDR, s: string) => {
    meter.charge(compareCost(c) + stringCost(s.length));
    return c.containsIP(parseIP(s));
  });
  env.registerFunction(`${C}.containsCIDR(${C}): bool`, (c: CIDR, o: CIDR) => {
    meter.charge(compareCost(c) + stringCost(c.ip.bytes.length) + 1);
    return c.containsCIDR(o);
  });
  env.registerFunction(`${C}.containsCIDR(string): bool`, (c: CIDR, s: string) => {
    meter.charge(compareCost(c) + stringCost(c.ip.bytes.length) + 1 + stringCost(s.length));
    return c.containsCIDR(parseCIDR(s));
  });
  env.registerFunction(`${C}.ip(): ${I}`, (c: CIDR) => c.ip);
  env.registerFunction(`${C}.masked(): ${C}`, (c: CIDR) => c.masked());
  env.registerFunction(`${C}.prefixLength(): int`, (c: CIDR) => BigInt(c.bits));
}
