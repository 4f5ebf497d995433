// Kubernetes quantity library (k8s.io/apiserver/pkg/cel/library/quantity.go, Kubernetes 1.29+) over an exact
// port of k8s.io/apimachinery resource.Quantity. The value is kept the way apimachinery keeps it — an int64
// mantissa with a base-10 exponent on the fast path, an arbitrary-precision decimal otherwise — because the
// library's results depend on which: isInteger()/asInteger() succeed only for the int64 form with a
// non-negative exponent ("1.0" and "1000m" are not integers there), and asApproximateFloat() multiplies the
// stored mantissa by Go's math.Pow10 table. Comparisons and arithmetic are exact (bigint), never float.
import type { Environment } from "@marcbachmann/cel-js";
import { type CostMeter, stringCost } from "./cost.ts";
import { type CelValue, celError } from "./values.ts";

const MAX_INT64 = (1n << 63n) - 1n;
const MIN_INT64 = -(1n << 63n);
/** Parsed exponents beyond this would need a decimal with millions of digits; apimachinery keeps them lazily. */
const MAX_MATERIALIZED_EXPONENT = 10_000;

type Format = "DecimalExponent" | "BinarySI" | "DecimalSI";

const SPLIT_RE = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";
const ERR_FORMAT = `quantities must match the regular expression '${SPLIT_RE}'`;
const ERR_NUMERIC = "unable to parse numeric part of quantity";
const ERR_SUFFIX = "unable to parse quantity's suffix";

const pow10Cache: bigint[] = [];
function pow10(n: number): bigint {
  if (n >= 64) return 10n ** BigInt(n);
  let v = pow10Cache[n];
  if (v === undefined) {
    v = 10n ** BigInt(n);
    pow10Cache[n] = v;
  }
  return v;
}

function fitsInt64(v: bigint): boolean {
  return v >= MIN_INT64 && v <= MAX_INT64;
}

/** A resource.Quantity: `mantissa × 10^exponent`, in apimachinery's int64 or decimal form. */
export class Quantity implements CelValue {
  readonly celTypeName = "kubernetes.Quantity";
  /** "int": apimachinery's int64Amount (mantissa fits int64); "dec": its inf.Dec form. */
  readonly form: "int" | "dec";
  readonly mantissa: bigint;
  readonly exponent: number;
  readonly format: Format;
  /**
   * Whether add()/sub() produced this value. The apiserver returns those as *Quantity while quantity() returns
   * a Quantity, and Quantity.Equal only accepts the latter, so `q == x.add(y)` is false there whatever the
   * values; equality here reproduces that (compareTo/isLessThan/isGreaterThan are unaffected).
   */
  readonly derived: boolean;

  constructor(form: "int" | "dec", mantissa: bigint, exponent: number, format: Format, derived = false) {
    this.form = form;
    this.mantissa = mantissa;
    this.exponent = exponent;
    this.format = format;
    this.derived = derived;
  }

  sign(): number {
    return this.mantissa > 0n ? 1 : this.mantissa < 0n ? -1 : 0;
  }

  isZero(): boolean {
    return this.mantissa === 0n;
  }

  /** resource.Quantity.AsInt64: only the int64 form converts, and only without a fractional exponent. */
  asInt64(): bigint | undefined {
    if (this.form === "dec") return undefined;
    if (this.exponent === 0) return this.mantissa;
    if (this.exponent < 0) return undefined;
    if (this.exponent > 18) return this.mantissa === 0n ? 0n : undefined;
    const v = this.mantissa * pow10(this.exponent);
    return fitsInt64(v) ? v : undefined;
  }

  /** resource.Quantity.AsApproximateFloat64, bit for bit. */
  asApproximateFloat(): number {
    const base = Number(this.mantissa);
    return this.exponent === 0 ? base : base * goPow10(this.exponent);
  }

  compareTo(o: Quantity): number {
    return compareDecimal(this.mantissa, this.exponent, o.mantissa, o.exponent);
  }

  add(y: Quantity): Quantity {
    const format = this.isZero() ? y.format : this.format;
    if (this.form === "int" && y.form === "int") {
      const sum = int64AmountAdd(this.mantissa, this.exponent, y.mantissa, y.exponent);
      if (sum) return new Quantity("int", sum[0], sum[1], format, true);
    }
    return decimalSum(this, y.mantissa, y.exponent, format);
  }

  sub(y: Quantity): Quantity {
    const format = this.isZero() ? y.format : this.format;
    if (this.form === "int" && y.form === "int" && y.mantissa !== MIN_INT64) {
      const diff = int64AmountAdd(this.mantissa, this.exponent, -y.mantissa, y.exponent);
      if (diff) return new Quantity("int", diff[0], diff[1], format, true);
    }
    return decimalSum(this, -y.mantissa, y.exponent, format);
  }

  celEquals(other: unknown): boolean {
    return other instanceof Quantity && !other.derived && this.compareTo(other) === 0;
  }

  /** The exact value in plain decimal notation (not apimachinery's canonical suffix form). */
  toString(): string {
    if (this.exponent >= 0) return (this.mantissa * pow10(this.exponent)).toString();
    const neg = this.mantissa < 0n;
    const digits = (neg ? -this.mantissa : this.mantissa).toString().padStart(1 - this.exponent, "0");
    const cut = digits.length + this.exponent;
    const frac = digits.slice(cut).replace(/0+$/, "");
    return `${neg ? "-" : ""}${digits.slice(0, cut)}${frac ? `.${frac}` : ""}`;
  }
}

function decimalSum(x: Quantity, ym: bigint, ye: number, format: Format): Quantity {
  // inf.Dec addition: exact, at the larger scale (smaller exponent).
  const e = Math.min(x.exponent, ye);
  const m = x.mantissa * pow10(x.exponent - e) + ym * pow10(ye - e);
  return new Quantity("dec", m, e, format, true);
}

/** int64Amount.Add: aligns to the smaller exponent; undefined when a step overflows int64. */
function int64AmountAdd(av: bigint, ae: number, bv: bigint, be: number): [bigint, number] | undefined {
  if (bv === 0n) return [av, ae];
  if (av === 0n) return [bv, be];
  let a = av;
  let b = bv;
  let e = ae;
  if (ae > be) {
    if (ae - be > 18) return undefined;
    a = av * pow10(ae - be);
    if (!fitsInt64(a)) return undefined;
    e = be;
  } else if (be > ae) {
    if (be - ae > 18) return undefined;
    b = bv * pow10(be - ae);
    if (!fitsInt64(b)) return undefined;
  }
  const sum = a + b;
  return fitsInt64(sum) ? [sum, e] : undefined;
}

function digitCount(v: bigint): number {
  return (v < 0n ? -v : v).toString().length;
}

/** Exact comparison of `am×10^ae` and `bm×10^be`, deciding by magnitude before aligning exponents. */
function compareDecimal(am: bigint, ae: number, bm: bigint, be: number): number {
  const as = am > 0n ? 1 : am < 0n ? -1 : 0;
  const bs = bm > 0n ? 1 : bm < 0n ? -1 : 0;
  if (as !== bs) return as > bs ? 1 : -1;
  if (as === 0) return 0;
  const ao = digitCount(am) + ae;
  const bo = digitCount(bm) + be;
  if (ao !== bo) return (ao > bo ? 1 : -1) * as;
  const e = Math.min(ae, be);
  const x = am * pow10(ae - e);
  const y = bm * pow10(be - e);
  return x > y ? 1 : x < y ? -1 : 0;
}

// Go's math.Pow10 (tables of correctly rounded constants, then one multiplication or division), so that
// asApproximateFloat returns exactly the float64 the apiserver computes.
const POW10_TAB = Array.from({ length: 32 }, (_, i) => Number(`1e${i}`));
const POW10_POS32 = Array.from({ length: 10 }, (_, i) => Number(`1e${i * 32}`));
const POW10_NEG32 = Array.from({ length: 11 }, (_, i) => Number(`1e-${i * 32}`));
function goPow10(n: number): number {
  if (n >= 0 && n <= 308) return POW10_POS32[Math.floor(n / 32)]! * POW10_TAB[n % 32]!;
  if (n < 0 && n >= -323) return POW10_NEG32[Math.floor(-n / 32)]! / POW10_TAB[-n % 32]!;
  return n > 0 ? Number.POSITIVE_INFINITY : 0;
}

interface Scanned {
  positive: boolean;
  num: string;
  denom: string;
  suffix: string;
}

/** apimachinery's parseQuantityString, including its quirks ("-", "." and "1." parse as numbers). */
function scanQuantity(str: string): Scanned {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (pos < end) {
    if (str[0] === "-") {
      positive = false;
      pos++;
    } else if (str[0] === "+") pos++;
  }
  for (let i = pos; ; i++) {
    if (i >= end) return { positive, num: "0", denom: "", suffix: "" };
    if (str[i] === "0") pos++;
    else break;
  }
  let num: string | undefined;
  for (let i = pos; ; i++) {
    if (i >= end) return { positive, num: str.slice(pos, end) || "0", denom: "", suffix: "" };
    const c = str.charCodeAt(i);
    if (c < 48 || c > 57) {
      num = str.slice(pos, i);
      pos = i;
      break;
    }
  }
  if (num.length === 0) num = "0";
  let denom = "";
  if (pos < end && str[pos] === ".") {
    pos++;
    let i = pos;
    for (; ; i++) {
      if (i >= end) return { positive, num, denom: str.slice(pos, end), suffix: "" };
      const c = str.charCodeAt(i);
      if (c < 48 || c > 57) break;
    }
    denom = str.slice(pos, i);
    pos = i;
  }
  const suffixStart = pos;
  for (let i = pos; ; i++) {
    if (i >= end) return { positive, num, denom, suffix: str.slice(suffixStart, end) };
    if (!"eEinumkKMGTP".includes(str[i]!)) {
      pos = i;
      break;
    }
  }
  if (pos < end && (str[pos] === "-" || str[pos] === "+")) pos++;
  for (let i = pos; ; i++) {
    if (i >= end) return { positive, num, denom, suffix: str.slice(suffixStart, end) };
    const c = str.charCodeAt(i);
    if (c < 48 || c > 57) break;
  }
  throw celError(ERR_FORMAT);
}

const SUFFIXES: Record<string, [base: 2 | 10, exponent: number, format: Format]> = {
  "": [10, 0, "DecimalSI"],
  n: [10, -9, "DecimalSI"],
  u: [10, -6, "DecimalSI"],
  m: [10, -3, "DecimalSI"],
  k: [10, 3, "DecimalSI"],
  M: [10, 6, "DecimalSI"],
  G: [10, 9, "DecimalSI"],
  T: [10, 12, "DecimalSI"],
  P: [10, 15, "DecimalSI"],
  E: [10, 18, "DecimalSI"],
  Ki: [2, 10, "BinarySI"],
  Mi: [2, 20, "BinarySI"],
  Gi: [2, 30, "BinarySI"],
  Ti: [2, 40, "BinarySI"],
  Pi: [2, 50, "BinarySI"],
  Ei: [2, 60, "BinarySI"],
};

function interpretSuffix(s: string): [2 | 10, number, Format] {
  const known = SUFFIXES[s];
  if (known) return known;
  if (s.length > 1 && (s[0] === "e" || s[0] === "E") && /^[+-]?[0-9]+$/.test(s.slice(1))) {
    // strconv.ParseInt(…, 64) then int32(…): out-of-range int64 fails, int32 wraps.
    const v = BigInt(s.slice(1));
    if (fitsInt64(v)) return [10, Number(BigInt.asIntN(32, v)), "DecimalExponent"];
  }
  throw celError(ERR_SUFFIX);
}

/** resource.ParseQuantity. */
export function parseQuantity(str: string): Quantity {
  if (str.length === 0) throw celError(ERR_FORMAT);
  if (str === "0") return new Quantity("int", 0n, 0, "DecimalSI");
  const { positive, num, denom, suffix } = scanQuantity(str);
  const [base, exponent, parsedFormat] = interpretSuffix(suffix);
  let format = parsedFormat;

  let precision: number;
  let scale = 0;
  let mantissa = 1n;
  if (format === "BinarySI") {
    if (exponent >= 0 && denom.length === 0) {
      mantissa = 1n << BigInt(exponent);
      precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
    } else precision = -1;
  } else {
    scale = exponent;
    precision = 18 - (num.length + denom.length);
  }
  if (precision >= 0) {
    scale -= denom.length;
    if (scale >= -9) {
      const value = BigInt(num + denom) * mantissa;
      if (fitsInt64(value)) return new Quantity("int", positive ? value : -value, scale, format);
    }
  }

  // Slow path: an exact decimal, rounded away from zero to nano precision, BinarySI capped at 2^63-1.
  if (!/^[0-9]*$/.test(num) || !/^[0-9]*$/.test(denom)) throw celError(ERR_NUMERIC);
  let m = BigInt(num + denom);
  let e = -denom.length;
  if (base === 10) e += exponent;
  else m <<= BigInt(exponent);
  if (e > MAX_MATERIALIZED_EXPONENT) {
    throw celError(`quantity ${JSON.stringify(str)} is too large for this engine's exact arithmetic`);
  }
  if (m !== 0n) {
    if (e < -9) {
      const drop = -9 - e;
      if (drop > digitCount(m)) m = 1n;
      else {
        const d = pow10(drop);
        m = m % d === 0n ? m / d : m / d + 1n;
      }
    } else if (e > -9) m *= pow10(e + 9);
    e = -9;
  }
  if (format === "BinarySI" && compareDecimal(m, e, MAX_INT64, 0) > 0) {
    m = MAX_INT64;
    e = 0;
  }
  if (format === "BinarySI" && m !== 0n && compareDecimal(m, e, 1n, 0) < 0) format = "DecimalSI";
  return new Quantity("dec", positive ? m : -m, e, format);
}

/** Registers quantity(), isQuantity() and the Quantity member functions. */
export function registerQuantityLibrary(env: Environment, meter: CostMeter): void {
  const T = "kubernetes.Quantity";
  env.registerType(T, { ctor: Quantity, fields: {} });
  env.registerOperator(`${T} == ${T}`, (a: Quantity, b: Quantity) => a.celEquals(b));
  env.registerFunction(`quantity(string): ${T}`, (s: string) => {
    meter.charge(stringCost(s.length));
    return parseQuantity(s);
  });
  env.registerFunction("isQuantity(string): bool", (s: string) => {
    meter.charge(stringCost(s.length));
    try {
      parseQuantity(s);
      return true;
    } catch {
      return false;
    }
  });
  env.registerFunction(`${T}.sign(): int`, (q: Quantity) => BigInt(q.sign()));
  env.registerFunction(`${T}.isInteger(): bool`, (q: Quantity) => q.asInt64() !== undefined);
  env.registerFunction(`${T}.asInteger(): int`, (q: Quantity) => {
    const v = q.asInt64();
    if (v === undefined) throw celError("cannot convert value to integer");
    return v;
  });
  env.registerFunction(`${T}.asApproximateFloat(): double`, (q: Quantity) => q.asApproximateFloat());
  env.registerFunction(`${T}.isGreaterThan(${T}): bool`, (a: Quantity, b: Quantity) => a.compareTo(b) === 1);
  env.registerFunction(`${T}.isLessThan(${T}): bool`, (a: Quantity, b: Quantity) => a.compareTo(b) === -1);
  env.registerFunction(`${T}.compareTo(${T}): int`, (a: Quantity, b: Quantity) => BigInt(a.compareTo(b)));
  env.registerFunction(`${T}.add(${T}): ${T}`, (a: Quantity, b: Quantity) => a.add(b));
  env.registerFunction(`${T}.add(int): ${T}`, (a: Quantity, n: bigint) =>
    a.add(new Quantity("int", n, 0, "DecimalExponent")),
  );
  env.registerFunction(`${T}.sub(${T}): ${T}`, (a: Quantity, b: Quantity) => a.sub(b));
  env.registerFunction(`${T}.sub(int): ${T}`, (a: Quantity, n: bigint) =>
    a.sub(new Quantity("int", n, 0, "DecimalExponent")),
  );
}

const DECIMAL_SI_SUFFIX: Record<number, string> = {
  [-9]: "n",
  [-6]: "u",
  [-3]: "m",
  0: "",
  3: "k",
  6: "M",
  9: "G",
  12: "T",
  15: "P",
  18: "E",
};
const BINARY_SI_SUFFIX = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/**
 * A quantity string as the API server writes it back (resource.Quantity's String()): the input itself
 * when ParseQuantity's fast path caches it (already canonical), else the canonical form ("0.5" is "500m",
 * "1.5Gi" is "1536Mi", "1e-12" is "1e-9"). Throws on a string that is not a quantity.
 */
export function quantityString(str: string): string {
  const q = parseQuantity(str);
  if (str !== "0" && q.form === "int") {
    // ParseQuantity keeps the input when it is canonical already (its fast path).
    const { num, denom, suffix } = scanQuantity(str);
    const [, exponent, format] = interpretSuffix(suffix);
    const shifted = num + denom;
    if (format === "BinarySI") {
      if (denom.length === 0 && exponent % 10 === 0 && (BigInt(shifted) & 7n) !== 0n) return str;
    } else if ((exponent - denom.length) % 3 === 0 && !shifted.endsWith("000") && shifted[0] !== "0")
      return str;
  }
  return canonical(q);
}

/** Quantity.CanonicalizeBytes. */
function canonical(q: Quantity): string {
  let m = q.mantissa < 0n ? -q.mantissa : q.mantissa;
  const sign = q.mantissa < 0n ? "-" : "";
  let e = q.exponent;
  if (m === 0n) return "0";
  let format = q.format;
  if (format === "BinarySI") {
    const whole = e >= 0 ? m * pow10(e) : m % pow10(-e) === 0n ? m / pow10(-e) : undefined;
    if (whole === undefined || compareDecimal(m, e, 1024n, 0) < 0) format = "DecimalSI";
    else {
      let n = whole;
      let k = 0;
      while (n % 1024n === 0n && k < BINARY_SI_SUFFIX.length - 1) {
        n /= 1024n;
        k++;
      }
      return `${sign}${n}${BINARY_SI_SUFFIX[k]}`;
    }
  }
  while (m % 10n === 0n) {
    m /= 10n;
    e++;
  }
  while (e % 3 !== 0) {
    m *= 10n;
    e--;
  }
  const suffix = format === "DecimalSI" ? (DECIMAL_SI_SUFFIX[e] ?? `e${e}`) : e === 0 ? "" : `e${e}`;
  return `${sign}${m}${suffix}`;
}
