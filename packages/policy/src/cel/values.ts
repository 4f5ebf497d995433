// Value helpers shared by the library modules: CEL equality and ordering over the values cel-js produces
// (bigint int, number double, UnsignedInt uint, string, boolean, null, Uint8Array bytes, Date timestamp,
// Duration, arrays/Sets as lists, plain objects/Maps as maps, Optional, and the library types below).
import { EvaluationError, Optional } from "@marcbachmann/cel-js";

/** cel-js's uint value (its class is not exported): a wrapper whose valueOf() is a bigint. */
export interface UintValue {
  valueOf(): bigint;
  verify(v: bigint): void;
}

/** cel-js's google.protobuf.Duration value (its class is not exported). */
export interface DurationValue {
  readonly seconds: bigint;
  readonly nanos: number;
  addDuration(other: DurationValue): DurationValue;
}

export function isUint(v: unknown): v is UintValue {
  return (
    !!v &&
    typeof v === "object" &&
    typeof (v as UintValue).verify === "function" &&
    typeof v.valueOf() === "bigint"
  );
}

export function isDuration(v: unknown): v is DurationValue {
  return !!v && typeof v === "object" && typeof (v as DurationValue).addDuration === "function";
}

/** A library value type with CEL equality (Quantity, IP, CIDR, URL, Semver, NamedFormat). */
export interface CelValue {
  celEquals(other: unknown): boolean;
  readonly celTypeName: string;
}

/** An evaluation error, reported by cel-js with the expression's source position. */
export function celError(message: string): EvaluationError {
  return new EvaluationError(message);
}

export function isCelValue(v: unknown): v is CelValue {
  return !!v && typeof v === "object" && typeof (v as CelValue).celEquals === "function";
}

export function isPlainMap(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && (v.constructor === Object || v.constructor === undefined);
}

export function isList(v: unknown): v is unknown[] | Set<unknown> {
  return Array.isArray(v) || v instanceof Set;
}

export function isMap(v: unknown): v is Record<string, unknown> | Map<unknown, unknown> {
  return v instanceof Map || isPlainMap(v);
}

/** The elements of a CEL list. */
export function listItems(v: unknown[] | Set<unknown>): unknown[] {
  return Array.isArray(v) ? v : [...v];
}

/** The entries of a CEL map, in insertion order. */
export function mapEntries(v: Record<string, unknown> | Map<unknown, unknown>): Array<[unknown, unknown]> {
  return v instanceof Map ? [...v.entries()] : Object.entries(v);
}

/** The CEL type name of a runtime value, for error messages. */
export function celTypeOf(v: unknown): string {
  switch (typeof v) {
    case "bigint":
      return "int";
    case "number":
      return "double";
    case "string":
      return "string";
    case "boolean":
      return "bool";
    case "undefined":
      return "undefined";
  }
  if (v === null) return "null_type";
  if (isUint(v)) return "uint";
  if (v instanceof Uint8Array) return "bytes";
  if (v instanceof Date) return "google.protobuf.Timestamp";
  if (isDuration(v)) return "google.protobuf.Duration";
  if (v instanceof Optional) return "optional_type";
  if (isList(v)) return "list";
  if (isMap(v)) return "map";
  if (isCelValue(v)) return v.celTypeName;
  return "dyn";
}

function numeric(v: unknown): bigint | number | undefined {
  if (typeof v === "bigint" || typeof v === "number") return v;
  if (isUint(v)) return v.valueOf();
  return undefined;
}

/** CEL equality with heterogeneous numeric equality (1 == 1.0 == 1u), as cel-go's runtime applies it. */
export function celEquals(a: unknown, b: unknown): boolean {
  if (a === b) return typeof a !== "number" || !Number.isNaN(a);
  const na = numeric(a);
  if (na !== undefined) {
    const nb = numeric(b);
    // Loose equality compares bigint and number exactly.
    // biome-ignore lint/suspicious/noDoubleEquals: exact cross-type numeric comparison
    return nb !== undefined && na == nb;
  }
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (isCelValue(a)) return a.celEquals(b);
  if (a instanceof Uint8Array) {
    if (!(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  if (isDuration(a)) return isDuration(b) && a.seconds === b.seconds && a.nanos === b.nanos;
  if (a instanceof Optional) {
    if (!(b instanceof Optional) || a.hasValue() !== b.hasValue()) return false;
    return !a.hasValue() || celEquals(a.value(), b.value());
  }
  if (isList(a)) {
    if (!isList(b)) return false;
    const x = listItems(a);
    const y = listItems(b);
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!celEquals(x[i], y[i])) return false;
    return true;
  }
  if (isMap(a)) {
    if (!isMap(b)) return false;
    const x = mapEntries(a);
    const y = b instanceof Map ? b : new Map(Object.entries(b));
    if (x.length !== y.size) return false;
    for (const [k, v] of x) {
      if (!y.has(k)) return false;
      if (!celEquals(v, y.get(k))) return false;
    }
    return true;
  }
  return false;
}

/** Compares strings by code point, as Go compares UTF-8 bytes (JS `<` compares UTF-16 code units). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** The comparable kind of a value, or undefined when CEL cannot order it. */
export function comparableKind(v: unknown): string | undefined {
  if (numeric(v) !== undefined) return "number";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (v instanceof Uint8Array) return "bytes";
  if (v instanceof Date) return "timestamp";
  if (isDuration(v)) return "duration";
  return undefined;
}

/** CEL ordering (`<`), with cross-type numeric comparison; throws for values CEL cannot compare. */
export function celCompare(a: unknown, b: unknown): number {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) {
    if ((typeof na === "number" && Number.isNaN(na)) || (typeof nb === "number" && Number.isNaN(nb))) {
      throw celError("NaN values cannot be ordered");
    }
    return na < nb ? -1 : na > nb ? 1 : 0;
  }
  if (typeof a === "string" && typeof b === "string") return compareStrings(a, b);
  if (typeof a === "boolean" && typeof b === "boolean") return a === b ? 0 : a ? 1 : -1;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
    return Math.sign(a.length - b.length);
  }
  if (a instanceof Date && b instanceof Date) return Math.sign(a.getTime() - b.getTime());
  if (isDuration(a) && isDuration(b)) {
    if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
    return Math.sign(a.nanos - b.nanos);
  }
  throw celError(`no such overload: ${celTypeOf(a)} < ${celTypeOf(b)}`);
}

/** Whether a string has characters outside the BMP, where code point and UTF-16 indexes differ. */
export function hasSurrogates(s: string): boolean {
  return /[\uD800-\uDFFF]/.test(s);
}
