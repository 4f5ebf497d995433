// cel-go ext.Strings at version 2 (what Kubernetes 1.29+ enables; cel-go v0.26 semantics): strings are
// indexed by code point (cel-js's built-ins use UTF-16 units), `trim` uses Go's unicode.IsSpace, `replace`
// and `split` follow Go's strings.Replace/SplitN (also for an empty separator), plus `format` (the version-1
// formatter with the en_US locale) and `strings.quote`. Version 3's `reverse` is not in Kubernetes' env.
// The built-ins whose semantics differ are renamed to these overloads after parsing (engine.ts REPLACED).
import type { Environment } from "@marcbachmann/cel-js";
import { type CostMeter, stringCost } from "./cost.ts";
import {
  celError,
  celTypeOf,
  compareStrings,
  hasSurrogates,
  isCelValue,
  isDuration,
  isList,
  isMap,
  isUint,
  listItems,
  mapEntries,
} from "./values.ts";

/**
 * Built-ins whose semantics differ from cel-go's, and the overload names calls are renamed to after parsing
 * (the engine offers no way to replace a built-in overload).
 */
export const RENAMED_BUILTINS: Readonly<Record<string, string>> = {
  matches: "__re2matches",
  lowerAscii: "__lowerAscii",
  upperAscii: "__upperAscii",
  indexOf: "__indexOf",
  lastIndexOf: "__lastIndexOf",
  substring: "__substring",
  trim: "__trim",
  split: "__split",
};

function codePoints(s: string): string[] {
  return Array.from(s);
}

function cpLength(s: string): number {
  return hasSurrogates(s) ? codePoints(s).length : s.length;
}

/** ext.Strings charAt: the code point at `i`; "" at the end; error outside [0, size]. */
export function charAt(s: string, i: bigint): string {
  const cps = hasSurrogates(s) ? codePoints(s) : null;
  const len = cps ? cps.length : s.length;
  if (i < 0n || i > BigInt(len)) throw celError(`index out of range: ${i}`);
  const n = Number(i);
  if (n === len) return "";
  return cps ? cps[n]! : s.charAt(n);
}

function indexOfOffset(s: string, sub: string, offset: bigint): bigint {
  if (sub === "") return offset;
  if (offset < 0n) throw celError(`index out of range: ${offset}`);
  if (!hasSurrogates(s) && !hasSurrogates(sub)) {
    if (offset >= BigInt(s.length)) return -1n;
    return BigInt(s.indexOf(sub, Number(offset)));
  }
  const r = codePoints(s);
  const sr = codePoints(sub);
  if (offset >= BigInt(r.length)) return -1n;
  for (let i = Number(offset); i < r.length - (sr.length - 1); i++) {
    if (occursAt(r, sr, i)) return BigInt(i);
  }
  return -1n;
}

/** Whether code points `sub` occur in `s` at position `i`. */
function occursAt(s: string[], sub: string[], i: number): boolean {
  for (let j = 0; j < sub.length; j++) if (s[i + j] !== sub[j]) return false;
  return true;
}

function lastIndexOfOffset(s: string, sub: string, offset: bigint): bigint {
  if (sub === "") return offset;
  if (offset < 0n) throw celError(`index out of range: ${offset}`);
  const r = codePoints(s);
  const sr = codePoints(sub);
  if (offset >= BigInt(r.length)) return -1n;
  let off = Number(offset);
  if (off > r.length - sr.length) off = r.length - sr.length;
  for (let i = off; i >= 0; i--) {
    if (occursAt(r, sr, i)) return BigInt(i);
  }
  return -1n;
}

function lastIndexOf(s: string, sub: string): bigint {
  if (sub === "") return BigInt(cpLength(s));
  if (Buffer.byteLength(s) < Buffer.byteLength(sub)) return -1n;
  if (!hasSurrogates(s) && !hasSurrogates(sub)) return BigInt(s.lastIndexOf(sub));
  return lastIndexOfOffset(s, sub, BigInt(cpLength(s) - 1));
}

function substring(s: string, start: bigint, end?: bigint): string {
  const cps = hasSurrogates(s) ? codePoints(s) : null;
  const len = BigInt(cps ? cps.length : s.length);
  const e = end ?? len;
  if (end !== undefined && start > end)
    throw celError(`invalid substring range. start: ${start}, end: ${end}`);
  if (start < 0n || start > len) throw celError(`index out of range: ${start}`);
  if (e < 0n || e > len) throw celError(`index out of range: ${e}`);
  return cps ? cps.slice(Number(start), Number(e)).join("") : s.slice(Number(start), Number(e));
}

const GO_SPACE = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const TRIM_RE = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, "g");

/** Go strings.Replace (n < 0: all), including an empty `old`, which inserts around every code point. */
export function goReplace(s: string, old: string, repl: string, n: number): string {
  if (old === repl || n === 0) return s;
  if (old === "") {
    const cps = codePoints(s);
    const m = cps.length + 1;
    const count = n < 0 || m < n ? m : n;
    let out = "";
    for (let i = 0; i < cps.length; i++) out += (i < count ? repl : "") + cps[i];
    return count === m ? out + repl : out;
  }
  if (n < 0) return s.split(old).join(repl);
  let out = "";
  let rest = s;
  for (let i = 0; i < n; i++) {
    const at = rest.indexOf(old);
    if (at < 0) break;
    out += rest.slice(0, at) + repl;
    rest = rest.slice(at + old.length);
  }
  return out + rest;
}

/** Go strings.SplitN (n < 0: all; n == 0: none), splitting into code points on an empty separator. */
export function goSplit(s: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  const parts = sep === "" ? codePoints(s) : s.split(sep);
  if (n < 0 || parts.length <= n) return parts;
  const head = parts.slice(0, n - 1);
  head.push(parts.slice(n - 1).join(sep));
  return head;
}

/** cel-go's quote: wrap in double quotes, escape the CEL escape sequences, replace invalid UTF-16 with U+FFFD. */
export function celQuote(s: string): string {
  const ESC: Record<string, string> = {
    "\x07": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
  };
  const clean = s.toWellFormed();
  let out = "";
  for (const ch of clean) out += ESC[ch] ?? ch;
  return `"${out}"`;
}

/** Go's %q (strconv.Quote) for the ASCII range; other code points are kept. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s.toWellFormed()) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c === 7) out += "\\a";
    else if (c === 8) out += "\\b";
    else if (c === 12) out += "\\f";
    else if (c === 10) out += "\\n";
    else if (c === 13) out += "\\r";
    else if (c === 9) out += "\\t";
    else if (c === 11) out += "\\v";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/** strconv.FormatFloat(x, 'g', -1, 64): shortest digits, exponent form below 1e-4 or from 1e6 (Go's rule). */
export function goFormatFloatG(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Number.POSITIVE_INFINITY) return "+Inf";
  if (x === Number.NEGATIVE_INFINITY) return "-Inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const [mant, e] = x.toExponential().split("e") as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  return String(x);
}

function groupThousands(intPart: string): string {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

const SUPERSCRIPT = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"];

function isFloatString(v: unknown): v is "NaN" | "Infinity" | "-Infinity" {
  return v === "NaN" || v === "Infinity" || v === "-Infinity";
}

function floatArg(v: unknown, clause: string): number {
  if (typeof v === "number") return v;
  if (isFloatString(v)) return Number(v);
  throw celError(
    `error during formatting: ${clause} clause can only be used on doubles, was given ${celTypeOf(v)}`,
  );
}

function specialFloat(x: number): string | undefined {
  if (Number.isNaN(x)) return "NaN";
  if (x === Number.POSITIVE_INFINITY) return "∞";
  if (x === Number.NEGATIVE_INFINITY) return "-∞";
  return undefined;
}

/** %f with the en_US printer golang.org/x/text/message uses: grouped thousands. */
function formatFixed(x: number, precision: number): string {
  const special = specialFloat(x);
  if (special) return special;
  const fixed = Math.abs(x).toFixed(Math.min(precision, 100));
  const [i, f] = fixed.split(".") as [string, string | undefined];
  const sign = x < 0 || Object.is(x, -0) ? "-" : "";
  return `${sign}${groupThousands(i)}${f !== undefined ? `.${f}` : ""}`;
}

/** %e with the en_US printer: "2.718280 × 10⁰⁰" (narrow no-break spaces, superscript exponent). */
function formatScientific(x: number, precision: number): string {
  const special = specialFloat(x);
  if (special) return special;
  const [mant, e] = x.toExponential(Math.min(precision, 100)).split("e") as [string, string];
  const exp = Number(e);
  const digits = String(Math.abs(exp))
    .padStart(2, "0")
    .split("")
    .map((d) => SUPERSCRIPT[Number(d)])
    .join("");
  return `${mant}\u202f\u00d7\u202f10${exp < 0 ? "⁻" : ""}${digits}`;
}

function timestampString(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : "Z"));
}

/** The %s rendering of a value (cel-go FormatString). */
function formatString(v: unknown): string {
  if (isList(v)) return formatList(listItems(v));
  if (isMap(v)) return formatMap(mapEntries(v));
  if (typeof v === "string") return v;
  if (typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (isUint(v)) return String(v.valueOf());
  if (typeof v === "number") return goFormatFloatG(v);
  if (v === null) return "null";
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  if (v instanceof Date) return timestampString(v);
  if (isDuration(v)) return String(v);
  if (
    v &&
    typeof v === "object" &&
    typeof (v as { name?: unknown }).name === "string" &&
    String(v).startsWith("Type<")
  ) {
    return (v as { name: string }).name;
  }
  throw celError(
    `error during formatting: string clause can only be used on strings, bools, bytes, ints, doubles, maps, lists, types, durations, and timestamps, was given ${celTypeOf(v)}`,
  );
}

/** A list/map member as cel-go prints it inside %s: CEL-literal-like. */
function formatMember(v: unknown): string {
  if (typeof v === "string") return goQuote(v);
  if (v instanceof Uint8Array) return `b${goQuote(new TextDecoder().decode(v))}`;
  if (typeof v === "number") {
    const s = Number.isFinite(v) ? v.toFixed(6) : goFormatFloatG(v);
    return Number.isFinite(v) ? s : goQuote(s);
  }
  if (v instanceof Date) return `timestamp(${goQuote(timestampString(v))})`;
  if (isDuration(v)) return `duration(${goQuote(String(v))})`;
  if (isCelValue(v)) throw celError(`error during formatting: no formatting function for ${v.celTypeName}`);
  return formatString(v);
}

function formatList(items: unknown[]): string {
  return `[${items.map(formatMember).join(", ")}]`;
}

function formatMap(entries: Array<[unknown, unknown]>): string {
  const pairs = entries.map(([k, v]) => {
    if (!(typeof k === "string" || typeof k === "boolean" || typeof k === "bigint" || isUint(k))) {
      throw celError(`error during formatting: no formatting function for map key of type ${celTypeOf(k)}`);
    }
    return [formatMember(k), formatMember(v)] as const;
  });
  pairs.sort((a, b) => compareStrings(a[0], b[0]));
  return `{${pairs.map(([k, v]) => `${k}:${v}`).join(", ")}}`;
}

function integerArg(v: unknown, what: string): bigint {
  if (typeof v === "bigint") return v;
  if (isUint(v)) return v.valueOf();
  throw celError(`error during formatting: ${what}, was given ${celTypeOf(v)}`);
}

function hexOf(v: unknown, upper: boolean): string {
  let out: string;
  if (typeof v === "string") out = Buffer.from(v, "utf8").toString("hex");
  else if (v instanceof Uint8Array) out = Buffer.from(v).toString("hex");
  else {
    const n = integerArg(v, "only integers, byte buffers, and strings can be formatted as hex");
    out = n < 0n ? `-${(-n).toString(16)}` : n.toString(16);
  }
  return upper ? out.toUpperCase() : out;
}

/** cel-go's string.format (version-1 formatter, en_US locale). */
export function celFormat(fmt: string, args: unknown[]): string {
  let out = "";
  let argIndex = 0;
  for (let i = 0; i < fmt.length; ) {
    if (fmt[i] !== "%") {
      out += fmt[i];
      i++;
      continue;
    }
    if (fmt[i + 1] === "%") {
      out += "%";
      i += 2;
      continue;
    }
    if (argIndex >= args.length) throw celError(`index ${argIndex} out of range`);
    if (i + 1 >= fmt.length) throw celError("unexpected end of string");
    let j = i + 1;
    let precision: number | undefined;
    if (fmt[j] === ".") {
      j++;
      let digits = "";
      while (j < fmt.length && /[0-9]/.test(fmt[j]!)) digits += fmt[j++];
      if (j >= fmt.length) {
        throw celError(
          "could not parse formatting clause: error while parsing precision: could not find end of precision specifier",
        );
      }
      if (digits === "") {
        throw celError(
          `could not parse formatting clause: error while parsing precision: error while converting precision to integer: strconv.Atoi: parsing "": invalid syntax`,
        );
      }
      precision = Number(digits);
    }
    const verb = fmt[j];
    const arg = args[argIndex];
    let text: string;
    switch (verb) {
      case "s":
        text = formatString(arg);
        break;
      case "d":
        text = integerArg(arg, "decimal clause can only be used on integers").toString();
        break;
      case "f":
        text = formatFixed(floatArg(arg, "fixed-point"), precision ?? 6);
        break;
      case "e":
        text = formatScientific(floatArg(arg, "scientific"), precision ?? 6);
        break;
      case "b":
        if (typeof arg === "boolean") text = arg ? "1" : "0";
        else {
          const n = integerArg(arg, "only integers and bools can be formatted as binary");
          text = n < 0n ? `-${(-n).toString(2)}` : n.toString(2);
        }
        break;
      case "x":
      case "X":
        text = hexOf(arg, verb === "X");
        break;
      case "o": {
        const n = integerArg(arg, "octal clause can only be used on integers");
        text = n < 0n ? `-${(-n).toString(8)}` : n.toString(8);
        break;
      }
      default:
        throw celError(`could not parse formatting clause: unrecognized formatting clause "${verb ?? ""}"`);
    }
    out += text;
    i = j + 1;
    argIndex++;
  }
  return out;
}

/** The object `strings.quote(...)` is called on. */
export class StringsNamespace {}

/** Registers the ext.Strings functions cel-js lacks or implements differently (see engine.ts REPLACED). */
export function registerStringsLibrary(env: Environment, meter: CostMeter): void {
  const traverse = (s: string, factor = 1) => meter.charge(stringCost(s.length, factor));
  env.registerFunction("string.charAt(int): string", (s: string, i: bigint) => charAt(s, i));
  env.registerFunction("string.__indexOf(string): int", (s: string, sub: string) =>
    indexOfOffset(s, sub, 0n),
  );
  env.registerFunction("string.__indexOf(string, int): int", (s: string, sub: string, off: bigint) =>
    indexOfOffset(s, sub, off),
  );
  env.registerFunction("string.__lastIndexOf(string): int", (s: string, sub: string) => lastIndexOf(s, sub));
  env.registerFunction("string.__lastIndexOf(string, int): int", (s: string, sub: string, off: bigint) =>
    lastIndexOfOffset(s, sub, off),
  );
  env.registerFunction("string.__substring(int): string", (s: string, a: bigint) => {
    traverse(s);
    return substring(s, a);
  });
  env.registerFunction("string.__substring(int, int): string", (s: string, a: bigint, b: bigint) => {
    traverse(s);
    return substring(s, a, b);
  });
  env.registerFunction("string.__trim(): string", (s: string) => {
    traverse(s);
    return s.replace(TRIM_RE, "");
  });
  env.registerFunction("string.__lowerAscii(): string", (s: string) => {
    traverse(s);
    return s.replace(/[A-Z]+/g, (c) => c.toLowerCase());
  });
  env.registerFunction("string.__upperAscii(): string", (s: string) => {
    traverse(s);
    return s.replace(/[a-z]+/g, (c) => c.toUpperCase());
  });
  env.registerFunction("string.replace(string, string): string", (s: string, a: string, b: string) => {
    traverse(s, 2);
    return goReplace(s, a, b, -1);
  });
  env.registerFunction(
    "string.replace(string, string, int): string",
    (s: string, a: string, b: string, n: bigint) => {
      traverse(s, 2);
      return goReplace(s, a, b, n < -1n ? -1 : Number(n > 2n ** 31n ? 2n ** 31n : n));
    },
  );
  env.registerFunction("string.__split(string): list<string>", (s: string, sep: string) => {
    traverse(s, 2);
    return goSplit(s, sep, -1);
  });
  env.registerFunction("string.__split(string, int): list<string>", (s: string, sep: string, n: bigint) => {
    traverse(s, 2);
    return goSplit(s, sep, n < -1n ? -1 : Number(n > 2n ** 31n ? 2n ** 31n : n));
  });
  env.registerFunction("string.format(list): string", (s: string, args: unknown[] | Set<unknown>) => {
    traverse(s);
    return celFormat(s, listItems(args));
  });
  env.registerType("StringsNamespace", { ctor: StringsNamespace, fields: {} });
  env.registerConstant("strings", "StringsNamespace", new StringsNamespace());
  env.registerFunction("StringsNamespace.quote(string): string", (_ns: StringsNamespace, s: string) => {
    traverse(s);
    return celQuote(s);
  });
}
