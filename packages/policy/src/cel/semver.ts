// Kubernetes semver library (k8s.io/apiserver/pkg/cel/library/semverlib.go, version 1, Kubernetes 1.33+) over a
// port of github.com/blang/semver/v4 Parse and Compare, with the library's optional normalization.
import type { Environment } from "@marcbachmann/cel-js";
import { type CostMeter, stringCost } from "./cost.ts";
import { type CelValue, celError } from "./values.ts";

type PreRelease = { num: bigint } | { str: string };

/** A semantic version (kubernetes.Semver). Build metadata is kept but ignored by comparison. */
export class Semver implements CelValue {
  readonly celTypeName = "kubernetes.Semver";
  readonly major: bigint;
  readonly minor: bigint;
  readonly patch: bigint;
  readonly pre: PreRelease[];
  readonly build: string[];
  constructor(major: bigint, minor: bigint, patch: bigint, pre: PreRelease[], build: string[]) {
    this.major = major;
    this.minor = minor;
    this.patch = patch;
    this.pre = pre;
    this.build = build;
  }

  compareTo(o: Semver): number {
    for (const k of ["major", "minor", "patch"] as const) {
      if (this[k] !== o[k]) return this[k] > o[k] ? 1 : -1;
    }
    if (this.pre.length === 0 && o.pre.length === 0) return 0;
    if (this.pre.length === 0) return 1;
    if (o.pre.length === 0) return -1;
    let i = 0;
    for (; i < this.pre.length && i < o.pre.length; i++) {
      const c = comparePre(this.pre[i]!, o.pre[i]!);
      if (c !== 0) return c;
    }
    if (i === this.pre.length && i === o.pre.length) return 0;
    return i === this.pre.length ? -1 : 1;
  }

  celEquals(other: unknown): boolean {
    return other instanceof Semver && this.compareTo(other) === 0;
  }

  toString(): string {
    let s = `${this.major}.${this.minor}.${this.patch}`;
    if (this.pre.length) s += `-${this.pre.map((p) => ("num" in p ? p.num.toString() : p.str)).join(".")}`;
    if (this.build.length) s += `+${this.build.join(".")}`;
    return s;
  }
}

function comparePre(a: PreRelease, b: PreRelease): number {
  if ("num" in a && "num" in b) return a.num === b.num ? 0 : a.num > b.num ? 1 : -1;
  if ("num" in a) return -1;
  if ("num" in b) return 1;
  return a.str === b.str ? 0 : a.str > b.str ? 1 : -1;
}

const NUMBERS = /^[0-9]*$/;
const ALPHANUM = /^[0-9A-Za-z-]*$/;
const MAX_UINT64 = (1n << 64n) - 1n;

function hasLeadingZeroes(s: string): boolean {
  return s.length > 1 && s[0] === "0";
}

function parseUint(s: string, what: string): bigint {
  if (s === "") throw celError(`strconv.ParseUint: parsing "": invalid syntax`);
  const v = BigInt(s);
  if (v > MAX_UINT64)
    throw celError(`strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range (${what})`);
  return v;
}

/** blang/semver v4 Parse, with its error messages. */
export function parseSemver(s: string): Semver {
  if (s.length === 0) throw celError("Version string empty");
  const parts = splitN(s, ".", 3);
  if (parts.length !== 3) throw celError("No Major.Minor.Patch elements found");
  const [maj, min, rest] = parts as [string, string, string];
  if (!NUMBERS.test(maj)) throw celError(`Invalid character(s) found in major number ${JSON.stringify(maj)}`);
  if (hasLeadingZeroes(maj))
    throw celError(`Major number must not contain leading zeroes ${JSON.stringify(maj)}`);
  const major = parseUint(maj, "major");
  if (!NUMBERS.test(min)) throw celError(`Invalid character(s) found in minor number ${JSON.stringify(min)}`);
  if (hasLeadingZeroes(min))
    throw celError(`Minor number must not contain leading zeroes ${JSON.stringify(min)}`);
  const minor = parseUint(min, "minor");

  let patchStr = rest;
  let build: string[] = [];
  let prerelease: string[] = [];
  const plus = patchStr.indexOf("+");
  if (plus !== -1) {
    build = patchStr.slice(plus + 1).split(".");
    patchStr = patchStr.slice(0, plus);
  }
  const dash = patchStr.indexOf("-");
  if (dash !== -1) {
    prerelease = patchStr.slice(dash + 1).split(".");
    patchStr = patchStr.slice(0, dash);
  }
  if (!NUMBERS.test(patchStr)) {
    throw celError(`Invalid character(s) found in patch number ${JSON.stringify(patchStr)}`);
  }
  if (hasLeadingZeroes(patchStr)) {
    throw celError(`Patch number must not contain leading zeroes ${JSON.stringify(patchStr)}`);
  }
  const patch = parseUint(patchStr, "patch");
  const pre: PreRelease[] = prerelease.map((p) => {
    if (p.length === 0) throw celError("Prerelease is empty");
    if (NUMBERS.test(p)) {
      if (hasLeadingZeroes(p)) {
        throw celError(`Numeric PreRelease version must not contain leading zeroes ${JSON.stringify(p)}`);
      }
      return { num: parseUint(p, "prerelease") };
    }
    if (ALPHANUM.test(p)) return { str: p };
    throw celError(`Invalid character(s) found in prerelease ${JSON.stringify(p)}`);
  });
  for (const b of build) {
    if (b.length === 0) throw celError("Buildmeta is empty");
    if (!ALPHANUM.test(b)) throw celError(`Invalid character(s) found in build meta ${JSON.stringify(b)}`);
  }
  return new Semver(major, minor, patch, pre, build);
}

function splitN(s: string, sep: string, n: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (out.length < n - 1) {
    const i = rest.indexOf(sep);
    if (i < 0) break;
    out.push(rest.slice(0, i));
    rest = rest.slice(i + sep.length);
  }
  out.push(rest);
  return out;
}

/** The library's normalizeAndParse: drop a leading "v", strip leading zeros, fill in a missing minor/patch. */
export function normalizeAndParseSemver(input: string): Semver {
  const s = input.startsWith("v") ? input.slice(1) : input;
  const parts = splitN(s, ".", 3).map((p) => {
    if (p.length <= 1) return p;
    const t = p.replace(/^0+/, "");
    return t.length === 0 || !/^[0-9]/.test(t) ? `0${t}` : t;
  });
  if (parts.length < 3) {
    if (/[+-]/.test(parts[parts.length - 1]!)) {
      throw celError("short version cannot contain PreRelease/Build meta data");
    }
    while (parts.length < 3) parts.push("0");
  }
  return parseSemver(parts.join("."));
}

const toInt = (v: bigint) => BigInt.asIntN(64, v);

/** Registers semver(), isSemver() and the Semver member functions. */
export function registerSemverLibrary(env: Environment, meter: CostMeter): void {
  const S = "kubernetes.Semver";
  env.registerType(S, { ctor: Semver, fields: {} });
  env.registerOperator(`${S} == ${S}`, (a: Semver, b: Semver) => a.celEquals(b));
  const parse = (s: string, normalize: boolean) => {
    meter.charge(stringCost(s.length));
    return normalize ? normalizeAndParseSemver(s) : parseSemver(s);
  };
  const test = (s: string, normalize: boolean) => {
    try {
      parse(s, normalize);
      return true;
    } catch {
      return false;
    }
  };
  env.registerFunction(`semver(string): ${S}`, (s: string) => parse(s, false));
  env.registerFunction(`semver(string, bool): ${S}`, (s: string, n: boolean) => parse(s, n));
  env.registerFunction("isSemver(string): bool", (s: string) => test(s, false));
  env.registerFunction("isSemver(string, bool): bool", (s: string, n: boolean) => test(s, n));
  env.registerFunction(`${S}.major(): int`, (v: Semver) => toInt(v.major));
  env.registerFunction(`${S}.minor(): int`, (v: Semver) => toInt(v.minor));
  env.registerFunction(`${S}.patch(): int`, (v: Semver) => toInt(v.patch));
  env.registerFunction(`${S}.isGreaterThan(${S}): bool`, (a: Semver, b: Semver) => a.compareTo(b) === 1);
  env.registerFunction(`${S}.isLessThan(${S}): bool`, (a: Semver, b: Semver) => a.compareTo(b) === -1);
  env.registerFunction(`${S}.compareTo(${S}): int`, (a: Semver, b: Semver) => BigInt(a.compareTo(b)));
}
