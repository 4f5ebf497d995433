// The built-ins OPA compiles into a WebAssembly module as calls out to the host, implemented as OPA's Go
// evaluator does. Errors thrown here make the call undefined, as OPA's Go evaluator does outside strict mode.
import { RE2JS } from "re2js";
import { parse as parseYaml } from "yaml";
import { goSprintf } from "./go-fmt.ts";

export type HostBuiltin = (...args: unknown[]) => unknown;

/** The host built-ins by OPA's name; a module calling one not listed here cannot be evaluated. */
export const HOST_BUILTINS: Record<string, HostBuiltin | undefined> = {
  sprintf: (format, values) => goSprintf(str(format), arr(values)),
  "strings.any_prefix_match": (search, base) => anyMatch(search, base, (s, b) => s.startsWith(b)),
  "strings.any_suffix_match": (search, base) => anyMatch(search, base, (s, b) => s.endsWith(b)),
  "strings.count": (s, sub) => countOccurrences(str(s), str(sub)),
  indexof_n: (s, sub) => indexesOf(str(s), str(sub)),
  "units.parse_bytes": (s) => parseBytes(str(s)),
  "units.parse": (s) => parseUnits(str(s)),
  "regex.replace": (s, pattern, value) => re2(str(pattern)).matcher(str(s)).replaceAll(str(value)),
  "regex.find_n": (pattern, s, n) => findN(str(pattern), str(s), Number(n)),
  "regex.split": (pattern, s) => re2(str(pattern)).split(str(s), -1),
  "json.is_valid": (s) => isValid(() => JSON.parse(str(s))),
  "yaml.is_valid": (s) => isValid(() => parseYaml(str(s))),
  "yaml.unmarshal": (s) => parseYaml(str(s)),
  cast_array: (x) => arr(x),
  "time.now_ns": () => BigInt(Date.now()) * 1_000_000n,
};

function str(x: unknown): string {
  if (typeof x !== "string") throw new TypeError("operand must be a string");
  return x;
}

function arr(x: unknown): unknown[] {
  if (!Array.isArray(x)) throw new TypeError("operand must be an array");
  return x;
}

function strings(x: unknown): string[] {
  return (Array.isArray(x) ? x : [x]).map(str);
}

function anyMatch(search: unknown, base: unknown, match: (s: string, b: string) => boolean): boolean {
  const bases = strings(base);
  return strings(search).some((s) => bases.some((b) => match(s, b)));
}

function countOccurrences(s: string, sub: string): number {
  if (!sub) return [...s].length + 1;
  return s.split(sub).length - 1;
}

function indexesOf(s: string, sub: string): number[] {
  const runes = [...s];
  const target = [...sub];
  const out: number[] = [];
  for (let i = 0; i + target.length <= runes.length; i++)
    if (target.every((r, j) => runes[i + j] === r)) out.push(i);
  return out;
}

function isValid(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch {
    return false;
  }
}

const regexCache = new Map<string, RE2JS>();
function re2(pattern: string): RE2JS {
  let re = regexCache.get(pattern);
  if (!re) {
    re = RE2JS.compile(pattern);
    if (regexCache.size > 500) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

function findN(pattern: string, s: string, n: number): string[] {
  const m = re2(pattern).matcher(s);
  const out: string[] = [];
  while ((n < 0 || out.length < n) && m.find()) out.push(m.group() ?? "");
  return out;
}

/** The number and unit of "10Mi", "1.5G", "100" (OPA splits at the first character that is not a digit or a dot). */
function numberAndUnit(s: string): [string, string] {
  if (s.includes(" ")) throw new Error("spaces not allowed in resource strings");
  const at = s.search(/[^0-9.]/);
  const [num, unit] = at < 0 ? [s, ""] : [s.slice(0, at), s.slice(at)];
  if (!num || !/^(\d+\.?\d*|\.\d+)$/.test(num)) throw new Error("no amount provided");
  return [num, unit];
}

const BYTE_UNITS: Record<string, bigint> = { "": 1n };
for (const [i, p] of ["k", "m", "g", "t", "p", "e"].entries()) {
  BYTE_UNITS[p] = BYTE_UNITS[`${p}b`] = 1000n ** BigInt(i + 1);
  BYTE_UNITS[`${p}i`] = BYTE_UNITS[`${p}ib`] = 1024n ** BigInt(i + 1);
}

/** units.parse_bytes: "1Gi", "200M", "1.5kb" → whole bytes, case-insensitive, truncated like OPA's big.Float. */
function parseBytes(raw: string): bigint {
  const [num, unit] = numberAndUnit(raw.replace(/^"+|"+$/g, "").toLowerCase());
  const mult = BYTE_UNITS[unit];
  if (mult === undefined) throw new Error(`byte unit ${unit} not recognized`);
  const [whole = "0", frac = ""] = num.split(".");
  const scale = 10n ** BigInt(frac.length);
  return (BigInt(`${whole || "0"}${frac}`) * mult) / scale;
}

const SI_UNITS: Record<string, number> = { m: 1e-3, "": 1, k: 1e3, K: 1e3, ki: 1024, Ki: 1024 };
for (const [i, p] of ["M", "G", "T", "P", "E"].entries()) {
  SI_UNITS[p] = 1000 ** (i + 2);
  SI_UNITS[`${p}i`] = SI_UNITS[`${p.toLowerCase()}i`] = 1024 ** (i + 2);
  if (p !== "M") SI_UNITS[p.toLowerCase()] = 1000 ** (i + 2);
}

/** units.parse: "100m" → 0.1, "1.5Gi" → 1610612736 (m is milli, M is mega, as in Kubernetes quantities). */
function parseUnits(raw: string): number {
  const [num, unit] = numberAndUnit(raw.replace(/^"+|"+$/g, ""));
  const mult = SI_UNITS[unit];
  if (mult === undefined) throw new Error(`unit ${unit} not recognized`);
  return unit === "m" ? Number(num) / 1000 : Number(num) * mult;
}
