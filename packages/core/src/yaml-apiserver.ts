// Reading a manifest as the Kubernetes API server does. kube-apiserver (and kubectl before it) turns YAML into
// JSON with sigs.k8s.io/yaml over its fork of go-yaml v2 (goyaml.v2, based on v2.4.0), then decodes the JSON
// into typed objects. go-yaml v2 resolves plain scalars by YAML 1.1-ish rules of its own (neither the YAML 1.1
// nor the 1.2 schema of any JS library): `yes`/`on`/`y` are booleans, `0o17`/`017`/`0x1F`/`1_000` integers,
// `.inf` a float (which JSON then refuses), timestamps stay strings, base-60 numbers are strings. With
// `fieldValidation=Strict` (kubectl's default since 1.27) a duplicate key anywhere is an error, and so is a key
// a merge (`<<`) brings in that the map already has. So the value a policy judges here is built by the rules
// of resolve.go/decode.go (goyaml.v2) and yaml.go (sigs.k8s.io/yaml v1.4.0), over the `yaml` library's syntax
// tree (failsafe schema: it resolves nothing itself). The generic parseYamlStream is unchanged: gitops edits
// files byte-exactly with it, and config files are not sent to a cluster.
import { EVENT_ID, type Event, getScalarValue, SCALAR_STYLE } from "js-yaml";
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseAllDocuments,
  Scalar,
} from "yaml";
import {
  DEFAULT_YAML_LIMITS,
  documentStream,
  IssueList,
  parseFastIf,
  repairQuotedIndentation,
  type YamlDoc,
  type YamlLimits,
  type YamlStream,
} from "./yaml.ts";

const STR = "tag:yaml.org,2002:str";
const BINARY = "tag:yaml.org,2002:binary";
const BOOL = "tag:yaml.org,2002:bool";
const INT = "tag:yaml.org,2002:int";
const FLOAT = "tag:yaml.org,2002:float";
const NULL = "tag:yaml.org,2002:null";
const TIMESTAMP = "tag:yaml.org,2002:timestamp";
const MERGE = "tag:yaml.org,2002:merge";

/** A scalar as go-yaml v2 resolves it; `int`/`uint` keep Go's type apart because map keys compare by type. */
export type GoScalar =
  | { type: "null" }
  | { type: "bool"; value: boolean }
  | { type: "int"; value: bigint }
  | { type: "uint"; value: bigint }
  | { type: "float"; value: number }
  | { type: "str"; value: string };

class DecodeError extends Error {
  /** Where the refused node starts (set by the innermost node that knows it). */
  offset?: number;
}

/** Runs `f`; a DecodeError without a position gets the position of `node`. */
function at<T>(node: unknown, f: () => T): T {
  try {
    return f();
  } catch (err) {
    const range = (node as Node | null)?.range;
    if (err instanceof DecodeError && err.offset === undefined && range) err.offset = range[0];
    throw err;
  }
}

const BOOLS: Record<string, boolean> = {};
for (const s of ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]) BOOLS[s] = true;
for (const s of ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"])
  BOOLS[s] = false;
const NULLS = new Set(["", "~", "null", "Null", "NULL"]);
const SPECIAL_FLOATS: Record<string, number> = {};
for (const s of [".nan", ".NaN", ".NAN"]) SPECIAL_FLOATS[s] = Number.NaN;
for (const s of [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"])
  SPECIAL_FLOATS[s] = Number.POSITIVE_INFINITY;
for (const s of ["-.inf", "-.Inf", "-.INF"]) SPECIAL_FLOATS[s] = Number.NEGATIVE_INFINITY;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
// go-yaml's allowedTimestampFormats, as patterns (only an explicit !!timestamp needs them: into an
// interface{} a timestamp stays the string it was written as).
const TIMESTAMP_RE =
  /^\d{4}-\d{1,2}-\d{1,2}(?:(?:[Tt]| )\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})?)?$/;

/** strconv.ParseInt(s, 0, 64) / ParseUint(s, 0, 64): a sign (ParseInt only), then 0x, 0o, 0b, leading-0 octal, or decimal. */
function parseGoInt(s: string, signed: boolean): bigint | undefined {
  let body = s;
  let negative = false;
  if (signed && (body.startsWith("+") || body.startsWith("-"))) {
    negative = body.startsWith("-");
    body = body.slice(1);
  }
  let digits: RegExp;
  let prefix = "";
  if (/^0[xX]/.test(body)) {
    digits = /^[0-9a-fA-F]+$/;
    prefix = "0x";
    body = body.slice(2);
  } else if (/^0[oO]/.test(body)) {
    digits = /^[0-7]+$/;
    prefix = "0o";
    body = body.slice(2);
  } else if (/^0[bB]/.test(body)) {
    digits = /^[01]+$/;
    prefix = "0b";
    body = body.slice(2);
  } else if (body.length > 1 && body.startsWith("0")) {
    digits = /^[0-7]+$/;
    prefix = "0o";
    body = body.slice(1);
  } else digits = /^[0-9]+$/;
  if (!digits.test(body)) return undefined;
  const magnitude = BigInt(prefix + body);
  const v = negative ? -magnitude : magnitude;
  if (signed) return v >= INT64_MIN && v <= INT64_MAX ? v : undefined;
  return v <= UINT64_MAX ? v : undefined;
}

/** strconv.ParseFloat for the decimal forms go-yaml hands it; out of range is an error (so the scalar stays a string). */
function parseGoFloat(s: string): number | undefined {
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

/** Go's underscoreOK for a decimal literal: each `_` sits between two digits. */
function underscoresOk(s: string): boolean {
  return !/(^|[^0-9])_|_($|[^0-9])/.test(s);
}

/** go-yaml v2's resolve(tag, in) for a plain or explicitly tagged scalar; throws its "cannot decode" error. */
export function resolveGoScalar(tag: string, text: string): GoScalar {
  if (tag && tag !== STR && tag !== BOOL && tag !== INT && tag !== FLOAT && tag !== NULL && tag !== TIMESTAMP)
    return { type: "str", value: text }; // not a resolvable tag: the text, as go-yaml keeps it
  const resolved = resolvePlain(tag, text);
  if (!tag || tag === STR || tag === resolved.tag) return resolved.value;
  if (tag === FLOAT && resolved.value.type === "int")
    return { type: "float", value: Number(resolved.value.value) };
  throw new DecodeError(`cannot decode ${shortTag(resolved.tag)} \`${text}\` as a ${shortTag(tag)}`);
}

function shortTag(tag: string): string {
  return tag.startsWith("tag:yaml.org,2002:") ? `!!${tag.slice("tag:yaml.org,2002:".length)}` : tag;
}

function resolvePlain(tag: string, text: string): { tag: string; value: GoScalar } {
  const str = { tag: STR, value: { type: "str", value: text } as GoScalar };
  if (tag === STR) return str;
  const first = text === "" ? "N" : text[0]!;
  let hint: "M" | "." | "D" | "S" | undefined;
  if (first === "+" || first === "-") hint = "S";
  else if (first >= "0" && first <= "9") hint = "D";
  else if ("yYnNtTfFoO~".includes(first)) hint = "M";
  else if (first === ".") hint = ".";
  if (!hint) return str;
  if (text in BOOLS) return { tag: BOOL, value: { type: "bool", value: BOOLS[text]! } };
  if (NULLS.has(text)) return { tag: NULL, value: { type: "null" } };
  if (text in SPECIAL_FLOATS) return { tag: FLOAT, value: { type: "float", value: SPECIAL_FLOATS[text]! } };
  if (hint === ".") {
    if (underscoresOk(text) && /^\.[0-9_]+([eE][-+]?[0-9_]+)?$/.test(text)) {
      const f = parseGoFloat(text.replace(/_/g, ""));
      if (f !== undefined) return { tag: FLOAT, value: { type: "float", value: f } };
    }
    return str;
  }
  if (hint === "D" || hint === "S") {
    if ((tag === "" || tag === TIMESTAMP) && TIMESTAMP_RE.test(text) && validDate(text))
      return { tag: TIMESTAMP, value: { type: "str", value: text } };
    const plain = text.replace(/_/g, "");
    const i = parseGoInt(plain, true);
    if (i !== undefined) return { tag: INT, value: { type: "int", value: i } };
    const u = parseGoInt(plain, false);
    if (u !== undefined) return { tag: INT, value: { type: "uint", value: u } };
    if (YAML_STYLE_FLOAT.test(plain)) {
      const f = parseGoFloat(plain);
      if (f !== undefined) return { tag: FLOAT, value: { type: "float", value: f } };
    }
  }
  return str;
}

/** time.Parse refuses a day the month does not have (so `2099-02-31` is no timestamp, only a string). */
function validDate(text: string): boolean {
  const [y, m, d] = text.split(/[-Tt ]/).map(Number) as [number, number, number];
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** A Go map key as sigs.k8s.io/yaml turns it into a JSON object key; throws for the key types it refuses. */
function jsonKey(k: GoScalar): string {
  switch (k.type) {
    case "str":
      return k.value;
    case "int":
      return k.value.toString();
    case "bool":
      return String(k.value);
    case "float":
      return formatFloat32G(k.value);
    case "uint":
      throw new DecodeError(`unsupported map key of type: uint64, key: 0x${k.value.toString(16)}`);
    case "null":
      throw new DecodeError("unsupported map key of type: <nil>, key: <nil>");
  }
}

/** strconv.FormatFloat(f, 'g', -1, 32), with go-yaml's spellings of the specials. */
function formatFloat32G(f: number): string {
  if (Number.isNaN(f)) return ".nan";
  if (f === Number.POSITIVE_INFINITY) return ".inf";
  if (f === Number.NEGATIVE_INFINITY) return "-.inf";
  const x = Math.fround(f);
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  let digits = "";
  let exp = 0;
  for (let p = 1; p <= 9; p++) {
    const s = x.toExponential(p - 1);
    if (Math.fround(Number(s)) === x) {
      const [mant, e] = s.split("e") as [string, string];
      digits = mant.replace("-", "").replace(".", "");
      exp = Number(e);
      break;
    }
  }
  const sign = x < 0 ? "-" : "";
  // Go's %g for the shortest form: %e when the decimal exponent is < -4 or >= 6.
  if (exp < -4 || exp >= 6) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const es = Math.abs(exp).toString().padStart(2, "0");
    return `${sign}${mant}e${exp < 0 ? "-" : "+"}${es}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return sign + digits + "0".repeat(exp + 1 - digits.length);
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/** A JSON number after encoding/json and a decode that preserves ints: integral and in int64 range → bigint. */
function jsonNumber(s: GoScalar & { type: "int" | "uint" | "float" }): bigint | number {
  if (s.type === "int") return s.value;
  if (s.type === "uint") return s.value <= INT64_MAX ? s.value : Number(s.value);
  const f = s.value;
  if (!Number.isFinite(f))
    throw new DecodeError(`json: unsupported value: ${Number.isNaN(f) ? "NaN" : f > 0 ? "+Inf" : "-Inf"}`);
  if (Number.isInteger(f) && Math.abs(f) < 1e21) {
    const b = BigInt(f);
    if (b >= INT64_MIN && b <= INT64_MAX) return b;
  }
  return f;
}

interface Issue {
  message: string;
  offset: number;
}

/** go-yaml's alias budget (decode.go allowedAliasRatio), plus a hard cap so a value never grows without bound. */
const MAX_DECODED_NODES = 1_000_000;
function allowedAliasRatio(decodeCount: number): number {
  if (decodeCount <= 400_000) return 0.99;
  if (decodeCount >= 4_000_000) return 0.1;
  return 0.99 - 0.89 * ((decodeCount - 400_000) / 3_600_000);
}

/** Builds one document's JSON value by go-yaml v2 (strict) and sigs.k8s.io/yaml; duplicate keys are collected. */
class Builder {
  decodeCount = 0;
  aliasCount = 0;
  aliasDepth = 0;
  readonly active = new Set<Node>();
  readonly issues: Issue[] = [];
  readonly doc: Document.Parsed;
  /** JSON input: kubectl sends it as JSON, so numbers keep the float-ness they were written with. */
  readonly json: boolean;

  constructor(doc: Document.Parsed, json = false) {
    this.doc = doc;
    this.json = json;
  }

  value(node: unknown): unknown {
    return at(node, () => this.valueOf(node));
  }

  valueOf(node: unknown): unknown {
    this.count();
    if (this.json && (isAlias(node) || (node as { tag?: string } | null)?.tag))
      throw new DecodeError("invalid JSON: YAML anchors, aliases and tags are not JSON");
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return this.alias(node, (n) => this.value(n));
    if (isScalar(node)) return this.scalarJson(node);
    if (isSeq(node)) return node.items.map((item) => this.value(item));
    if (isMap(node)) {
      const out: Map<string, { key: GoScalar; value: unknown }> = new Map();
      this.mapping(node, out);
      return toObject(out, this, node);
    }
    throw new DecodeError("unsupported YAML node");
  }

  count(): void {
    this.decodeCount++;
    if (this.aliasDepth > 0) this.aliasCount++;
    if (
      (this.aliasCount > 100 &&
        this.decodeCount > 1000 &&
        this.aliasCount / this.decodeCount > allowedAliasRatio(this.decodeCount)) ||
      this.decodeCount > MAX_DECODED_NODES
    )
      throw new DecodeError("document contains excessive aliasing");
  }

  alias<T>(node: { source: string; resolve(doc: Document): Node | undefined }, then: (target: Node) => T): T {
    const target = node.resolve(this.doc);
    if (!target) throw new DecodeError(`unknown anchor '${node.source}' referenced`);
    if (this.active.has(target)) throw new DecodeError(`anchor '${node.source}' value contains itself`);
    this.active.add(target);
    this.aliasDepth++;
    try {
      return then(target);
    } finally {
      this.aliasDepth--;
      this.active.delete(target);
    }
  }

  scalar(node: Scalar): GoScalar {
    const tag = node.tag ?? "";
    const text = String(node.source ?? node.value ?? "");
    if (tag === BINARY) {
      const clean = text.replace(/[\r\n]/g, "");
      if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(clean))
        throw new DecodeError("!!binary value contains invalid base64 data");
      return { type: "str", value: Buffer.from(clean, "base64").toString("utf8") };
    }
    // A quoted or block scalar without a tag is a string; with a tag, go-yaml resolves its text like a plain one.
    if (node.type !== Scalar.PLAIN && !tag) return { type: "str", value: text };
    return resolveGoScalar(tag, text);
  }

  scalarJson(node: Scalar): unknown {
    if (this.json) return jsonScalar(node);
    const s = this.scalar(node);
    try {
      return s.type === "null" ? null : s.type === "str" || s.type === "bool" ? s.value : jsonNumber(s);
    } catch (err) {
      if (err instanceof DecodeError)
        this.issues.push({ message: err.message, offset: node.range?.[0] ?? 0 });
      return null;
    }
  }

  key(node: unknown): GoScalar {
    return at(node, () => this.keyOf(node));
  }

  keyOf(node: unknown): GoScalar {
    this.count();
    if (
      this.json &&
      !(isScalar(node) && (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE))
    )
      throw new DecodeError("invalid JSON: an object key must be a quoted string");
    if (node === null || node === undefined) return { type: "null" };
    if (isAlias(node)) return this.alias(node, (n) => this.key(n));
    if (isScalar(node)) return this.scalar(node);
    const shown = isSeq(node) ? "[]interface {}" : "map[interface {}]interface {}";
    throw new DecodeError(`invalid map key: ${shown}`);
  }

  /** decode.go mapping(): merges first-come, each key set once (strict), line of the value in errors. */
  mapping(node: Node, out: Map<string, { key: GoScalar; value: unknown }>): void {
    if (isAlias(node)) {
      this.alias(node, (n) => {
        if (!isMap(n)) throw new DecodeError("map merge requires map or sequence of maps as the value");
        this.mapping(n, out);
      });
      return;
    }
    if (!isMap(node)) throw new DecodeError("map merge requires map or sequence of maps as the value");
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      if (isMergeKey(pair.key)) {
        this.mergeInto(pair.value as Node | null, out);
        continue;
      }
      const key = this.key(pair.key);
      const value = this.value(pair.value);
      const id = `${key.type}:${"value" in key ? String(key.value) : ""}`;
      if (out.has(id)) {
        const offset = (pair.value as Node | null)?.range?.[0] ?? (pair.key as Node | null)?.range?.[0] ?? 0;
        this.issues.push({ message: `key ${goQuote(key)} already set in map`, offset });
        continue;
      }
      out.set(id, { key, value });
    }
  }

  mergeInto(value: Node | null, out: Map<string, { key: GoScalar; value: unknown }>): void {
    this.count();
    if (value && isSeq(value)) {
      // Earlier maps take precedence: go-yaml merges them last to first.
      for (let i = value.items.length - 1; i >= 0; i--) {
        const item = value.items[i] as Node | null;
        if (!item || !(isMap(item) || isAlias(item)))
          throw new DecodeError("map merge requires map or sequence of maps as the value");
        this.count();
        this.mapping(item, out);
      }
      return;
    }
    if (!value || !(isMap(value) || isAlias(value)))
      throw new DecodeError("map merge requires map or sequence of maps as the value");
    this.mapping(value, out);
  }
}

const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/;

/** A JSON scalar as encoding/json with preserved ints reads it: `1.0` and `1e3` are floats, `1` an int64. */
function jsonScalar(node: Scalar): unknown {
  const text = String(node.source ?? "");
  if (node.type !== Scalar.PLAIN) return text;
  if (text === "true" || text === "false") return text === "true";
  if (text === "null") return null;
  const m = JSON_NUMBER.exec(text);
  if (!m) throw new DecodeError(`invalid character in JSON: ${JSON.stringify(text.slice(0, 20))}`);
  if (m[1] || m[2]) return Number(text);
  const i = BigInt(text);
  return i >= INT64_MIN && i <= INT64_MAX ? i : Number(text);
}

function isMergeKey(key: unknown): boolean {
  return (
    isScalar(key) &&
    key.source === "<<" &&
    (key.type === Scalar.PLAIN || key.tag === MERGE) &&
    (!key.tag || key.tag === MERGE)
  );
}

/** %#v of a Go map key, as go-yaml writes it into "already set in map". */
function goQuote(k: GoScalar): string {
  switch (k.type) {
    case "str":
      return JSON.stringify(k.value);
    case "null":
      return "interface {}(nil)";
    case "float":
      return String(k.value);
    default:
      return String(k.value);
  }
}

/** The JSON object of a Go map; two keys that become one JSON key would leave the winner to Go's map order. */
function toObject(
  entries: Map<string, { key: GoScalar; value: unknown }>,
  b: Builder,
  node: Node,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const { key, value } of entries.values()) {
    const k = jsonKey(key);
    if (seen.has(k)) {
      b.issues.push({
        message: `keys of different YAML types become the same JSON key "${k}" (the API server would keep either one)`,
        offset: node.range?.[0] ?? 0,
      });
      continue;
    }
    seen.add(k);
    // defineProperty: a "__proto__" key is data, never the object's prototype.
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Where a text is not what go-yaml's reader accepts: invalid UTF-8, or a character YAML forbids. */
export interface EncodingProblem {
  message: string;
  line: number;
  column: number;
}

/**
 * Bytes → text as go-yaml's reader takes them: a UTF-8 BOM is dropped, a UTF-16 BOM selects UTF-16; invalid
 * UTF-8 and control characters (anything but tab, LF, CR, NEL and the printable ranges) are errors.
 */
export function decodeManifestBytes(
  data: Uint8Array | string,
): { text: string; problem?: undefined } | { text?: undefined; problem: EncodingProblem } {
  let text: string;
  if (typeof data === "string") text = data.startsWith("\uFEFF") ? data.slice(1) : data;
  else {
    let encoding: "utf-8" | "utf-16le" | "utf-16be" = "utf-8";
    if (data[0] === 0xff && data[1] === 0xfe) encoding = "utf-16le";
    else if (data[0] === 0xfe && data[1] === 0xff) encoding = "utf-16be";
    try {
      text = new TextDecoder(encoding, { fatal: true, ignoreBOM: false }).decode(data);
    } catch {
      const bad = encoding === "utf-8" ? firstInvalidUtf8(data) : 0;
      const before = new TextDecoder(encoding).decode(data.subarray(0, bad));
      return {
        problem: {
          message: `invalid ${encoding === "utf-8" ? "UTF-8" : "UTF-16"} byte sequence (0x${(data[bad] ?? 0).toString(16).padStart(2, "0")} at byte ${bad}): manifests must be UTF-8, the API server refuses it ("yaml: invalid leading UTF-8 octet")`,
          ...lineCol(before, before.length),
        },
      };
    }
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.codePointAt(i)!;
    if (c > 0xffff) {
      i++;
      continue;
    }
    if (c === 0x85 || c === 0x2028 || c === 0x2029)
      return {
        problem: {
          message: `U+${c.toString(16).toUpperCase().padStart(4, "0")} is a line break to the API server's YAML parser (YAML 1.1) but not to YAML 1.2 tools, so the file reads differently in each; write it as the escape ${c === 0x85 ? "\\N" : c === 0x2028 ? "\\L" : "\\P"} inside a double-quoted string, or remove it`,
          ...lineCol(text, i),
        },
      };
    if (
      c === 0x09 ||
      c === 0x0a ||
      c === 0x0d ||
      (c >= 0x20 && c <= 0x7e) ||
      (c >= 0xa0 && c <= 0xd7ff) ||
      (c >= 0xe000 && c <= 0xfffd)
    )
      continue;
    return {
      problem: {
        message: `control character U+${c.toString(16).toUpperCase().padStart(4, "0")} is not allowed in YAML ("yaml: control characters are not allowed")`,
        ...lineCol(text, i),
      },
    };
  }
  return { text };
}

/** Byte index of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number {
  const dec = new TextDecoder("utf-8", { fatal: true });
  let lo = 0;
  let hi = b.length;
  // The longest valid prefix, by bisection on whole-prefix validity (a cut inside a sequence is invalid too,
  // so step back over continuation bytes before testing).
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    let cut = mid;
    while (cut > 0 && cut < b.length && (b[cut]! & 0xc0) === 0x80) cut--;
    try {
      dec.decode(b.subarray(0, cut));
      if (cut <= lo) break;
      lo = cut;
    } catch {
      hi = mid - 1;
    }
  }
  return lo;
}

/** kubectl splits a stream on lines starting with `---` and refuses one with anything but a comment after it. */
function separatorProblem(text: string): EncodingProblem | undefined {
  const re = /^---([^\n]*)$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const rest = m[1]!.replace(/\r$/, "").trim();
    if (rest && !rest.startsWith("#"))
      return {
        message: `invalid YAML document separator: "${m[0].replace(/\r$/, "")}" (kubectl allows only a comment after "---")`,
        ...lineCol(text, m.index),
      };
  }
  return undefined;
}

// A plain scalar the YAML 1.2 core schema (the fast parser) and go-yaml v2 both read as this same string:
// nothing in core's null/bool/int/float forms, nothing go-yaml resolves otherwise.
const CORE_NON_STRING =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?(?:0o[0-7]+|0x[0-9a-fA-F]+|[0-9]+)|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const SAME_INT = /^-?(?:0|[1-9][0-9]{0,17})$/;

function sameScalar(t: string, key: boolean): boolean {
  if (t === "true" || t === "True" || t === "TRUE" || t === "false" || t === "False" || t === "FALSE")
    return true;
  if (SAME_INT.test(t)) return true;
  if (t === "" || t === "~" || t === "null" || t === "Null" || t === "NULL") return !key; // a null key: go refuses
  if (t === "<<" || CORE_NON_STRING.test(t)) return false;
  return resolvePlain("", t).value.type === "str";
}

/**
 * Whether the fast (YAML 1.2 core) parse of these events gives exactly the value go-yaml v2 gives: no tags,
 * anchors, aliases or merge keys, and every plain scalar one that both read alike (see sameScalar).
 */
export function goCompatible(events: Event[], text: string): boolean {
  const stack: Array<{ map: boolean; key: boolean }> = [];
  for (const e of events) {
    if (e.type === EVENT_ID.POP) {
      stack.pop();
      continue;
    }
    if (e.type === EVENT_ID.DOCUMENT) {
      stack.push({ map: false, key: false });
      continue;
    }
    if (e.type === EVENT_ID.ALIAS || e.anchorStart >= 0 || e.tagStart >= 0) return false;
    const parent = stack[stack.length - 1];
    const isKey = !!parent?.map && parent.key;
    if (parent?.map) parent.key = !parent.key;
    if (e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE) {
      if (isKey) return false;
      stack.push({ map: e.type === EVENT_ID.MAPPING, key: true });
      continue;
    }
    if (
      e.type === EVENT_ID.SCALAR &&
      e.style === SCALAR_STYLE.PLAIN &&
      !sameScalar(getScalarValue(text, e), isKey)
    )
      return false;
  }
  return true;
}

/**
 * Parses a manifest stream exactly as the API server decodes it (YAML 1.1 scalars by go-yaml v2's rules,
 * merge keys, strict duplicate keys, JSON conversion); each document's value is what the server would judge,
 * or null with the reasons in `errors`. Integers are bigint, as parseYamlStream gives them.
 */
export function parseManifestStream(
  data: Uint8Array | string,
  file: string,
  limits: YamlLimits = {},
  /** "thorough" skips the fast path (tests hold both paths to the same answers). */
  opts: { parser?: "auto" | "thorough" } = {},
): YamlStream {
  const l = { ...DEFAULT_YAML_LIMITS, ...limits };
  const size = typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
  if (size > l.maxBytes) return failed(`${file} is larger than ${l.maxBytes} bytes`, 1, 1);
  const decoded = decodeManifestBytes(data);
  if (decoded.problem) return failed(decoded.problem.message, decoded.problem.line, decoded.problem.column);
  const text = decoded.text;
  const sep = separatorProblem(text);
  if (sep) return failed(sep.message, sep.line, sep.column);
  // kubectl reads a stream that starts with `{` as JSON and sends it as JSON (its IsJSONBuffer).
  const json = text.trimStart().startsWith("{");
  // Most manifests mean the same to go-yaml as to the YAML 1.2 core schema: those take the fast parse.
  const fast = !json && opts.parser !== "thorough" ? parseFastIf(text, file, l, goCompatible) : undefined;
  if (fast) return fast;
  const parse = (t: string) => {
    const lineCounter = new LineCounter();
    const parsed = parseAllDocuments(t, {
      lineCounter,
      schema: "failsafe",
      uniqueKeys: false,
      prettyErrors: false,
      version: "1.1",
    });
    return { lineCounter, parsed: Array.isArray(parsed) ? parsed : [] };
  };
  let { lineCounter, parsed } = parse(text);
  // go-yaml (libyaml) accepts a quoted scalar's continuation lines at any indentation; see yaml.ts.
  if (parsed.some((d) => d.errors.length > 0)) {
    const repaired = repairQuotedIndentation(text);
    if (repaired !== text) ({ lineCounter, parsed } = parse(repaired));
  }
  const list = parsed;
  if (list.length > l.maxDocuments)
    return failed(`${file} holds ${list.length} documents, more than the limit of ${l.maxDocuments}`, 1, 1);
  return documentStream(list, lineCounter, (doc) => {
    const b = new Builder(doc, json);
    let value: unknown = null;
    try {
      value = b.value(doc.contents);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      b.issues.unshift({ message: err.message, offset: err.offset ?? doc.range[0] });
    }
    return b.issues.length > 0 ? new IssueList(b.issues) : value;
  });
}

function lineCol(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/** A stream that is one error: the file cannot be read as YAML at all. */
function failed(message: string, line: number, column: number): YamlStream {
  const doc: YamlDoc = { index: 0, value: null, line, errors: [{ message, line, column }] };
  return { docs: [doc], position: () => ({ line, column, exact: false }) };
}
