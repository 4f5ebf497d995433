// Go's fmt.Sprintf as OPA's `sprintf` runs it (OPA passes integers as int64, other numbers as float64 and any
// other value as its Rego text), so messages read exactly as they do under gator.

type FmtArg =
  | { type: "string"; value: string }
  | { type: "int64"; value: bigint }
  | { type: "float64"; value: number };

/** OPA passes integers as int64, other numbers as float64, strings as they are, and anything else as its Rego text. */
function fmtArg(x: unknown): FmtArg {
  if (typeof x === "string") return { type: "string", value: x };
  if (typeof x === "number" && Number.isInteger(x) && Math.abs(x) < 2 ** 63)
    return { type: "int64", value: BigInt(x) };
  if (typeof x === "number") return { type: "float64", value: x };
  return { type: "string", value: regoText(x) };
}

/** A value as OPA prints it: `["a", 1]`, `{"k": true}` with sorted keys, `null`. */
function regoText(x: unknown): string {
  if (x === null || x === undefined) return "null";
  if (Array.isArray(x)) return `[${x.map(regoText).join(", ")}]`;
  if (typeof x === "object") {
    const keys = Object.keys(x).sort();
    return keys.length
      ? `{${keys.map((k) => `${JSON.stringify(k)}: ${regoText((x as Record<string, unknown>)[k])}`).join(", ")}}`
      : "{}";
  }
  if (typeof x === "string") return JSON.stringify(x);
  return String(x);
}

/** Go's fmt.Sprintf for the verbs Rego policies use, including its `%!v(MISSING)`-style complaints. */
export function goSprintf(format: string, values: unknown[]): string {
  const args = values.map(fmtArg);
  let out = "";
  let next = 0;
  let i = 0;
  while (i < format.length) {
    const c = format[i] as string;
    if (c !== "%") {
      out += c;
      i++;
      continue;
    }
    i++;
    const flags = { minus: false, plus: false, zero: false, space: false, sharp: false };
    for (; i < format.length; i++) {
      const f = format[i];
      if (f === "-") flags.minus = true;
      else if (f === "+") flags.plus = true;
      else if (f === "0") flags.zero = true;
      else if (f === " ") flags.space = true;
      else if (f === "#") flags.sharp = true;
      else break;
    }
    const width = /^\d+/.exec(format.slice(i))?.[0];
    i += width?.length ?? 0;
    let precision: number | undefined;
    if (format[i] === ".") {
      const digits = /^\d*/.exec(format.slice(i + 1))?.[0] ?? "";
      precision = Number(digits || "0");
      i += 1 + digits.length;
    }
    if (i >= format.length) {
      out += "%!(NOVERB)";
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) ?? 0);
    i += verb.length;
    if (verb === "%") {
      out += "%";
      continue;
    }
    const arg = args[next++];
    if (!arg) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const text = formatVerb(arg, verb, flags, precision);
    if (text === undefined) {
      out += `%!${verb}(${arg.type}=${formatVerb(arg, "v", NO_FLAGS, undefined)})`;
      continue;
    }
    out += pad(text, Number(width ?? 0), flags, arg.type !== "string" && verb !== "T");
  }
  if (next < args.length)
    out += `%!(EXTRA ${args
      .slice(next)
      .map((a) => `${a.type}=${formatVerb(a, "v", NO_FLAGS, undefined)}`)
      .join(", ")})`;
  return out;
}

type Flags = { minus: boolean; plus: boolean; zero: boolean; space: boolean; sharp: boolean };
const NO_FLAGS: Flags = { minus: false, plus: false, zero: false, space: false, sharp: false };

function formatVerb(
  arg: FmtArg,
  verb: string,
  flags: Flags,
  precision: number | undefined,
): string | undefined {
  if (verb === "T") return arg.type;
  if (arg.type === "string") {
    const s = precision === undefined ? arg.value : [...arg.value].slice(0, precision).join("");
    if (verb === "v" || verb === "s") return s;
    if (verb === "q") return JSON.stringify(s);
    if (verb === "x" || verb === "X") {
      const hex = Buffer.from(s, "utf8").toString("hex");
      return verb === "X" ? hex.toUpperCase() : hex;
    }
    return undefined;
  }
  if (arg.type === "int64") {
    const n = arg.value;
    const sign = n < 0n ? "-" : flags.plus ? "+" : flags.space ? " " : "";
    const abs = n < 0n ? -n : n;
    const digits = (radix: number) => {
      const d = abs.toString(radix);
      return precision !== undefined && d.length < precision ? d.padStart(precision, "0") : d;
    };
    switch (verb) {
      case "v":
      case "d":
        return sign + digits(10);
      case "b":
        return sign + digits(2);
      case "o":
        return sign + (flags.sharp ? "0" : "") + digits(8);
      case "O":
        return `${sign}0o${digits(8)}`;
      case "x":
        return sign + (flags.sharp ? "0x" : "") + digits(16);
      case "X":
        return sign + (flags.sharp ? "0X" : "") + digits(16).toUpperCase();
      case "c":
        return String.fromCodePoint(Number(n));
      case "q":
        return `'${String.fromCodePoint(Number(n))}'`;
      case "U":
        return `U+${abs.toString(16).toUpperCase().padStart(4, "0")}`;
      default:
        return undefined;
    }
  }
  const f = arg.value;
  const sign = f < 0 || Object.is(f, -0) ? "-" : flags.plus ? "+" : flags.space ? " " : "";
  const abs = Math.abs(f);
  switch (verb) {
    case "v":
    case "g":
      return sign + goG(abs, precision ?? -1, "e");
    case "G":
      return sign + goG(abs, precision ?? -1, "E");
    case "e":
      return sign + goE(abs, precision ?? 6, "e");
    case "E":
      return sign + goE(abs, precision ?? 6, "E");
    case "f":
    case "F":
      return sign + abs.toFixed(precision ?? 6);
    default:
      return undefined;
  }
}

function goE(abs: number, precision: number, e: string): string {
  const [mantissa = "0", exp = "0"] = abs.toExponential(Math.min(precision, 100)).split("e");
  const x = Number(exp);
  return `${mantissa}${e}${x < 0 ? "-" : "+"}${String(Math.abs(x)).padStart(2, "0")}`;
}

/** strconv.FormatFloat(f, 'g', prec): shortest digits when prec < 0, exponent form when the exponent is < -4 or ≥ the precision (6 for shortest). */
function goG(abs: number, precision: number, e: string): string {
  if (abs === 0) return "0";
  const [mantissa = "0", exp = "0"] = (
    precision < 0 ? abs.toExponential() : abs.toExponential(Math.max(precision, 1) - 1)
  ).split("e");
  const digits = mantissa.replace(".", "").replace(/0+$/, "") || "0";
  const x = Number(exp);
  let eprec = precision < 0 ? 6 : Math.max(precision, 1);
  if (precision >= 0 && eprec > digits.length && digits.length >= x + 1) eprec = digits.length;
  if (x < -4 || x >= eprec) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${m}${e}${x < 0 ? "-" : "+"}${String(Math.abs(x)).padStart(2, "0")}`;
  }
  if (x < 0) return `0.${"0".repeat(-x - 1)}${digits}`;
  const whole = digits.slice(0, x + 1).padEnd(x + 1, "0");
  const frac = digits.slice(x + 1);
  return frac ? `${whole}.${frac}` : whole;
}

function pad(text: string, width: number, flags: Flags, numeric: boolean): string {
  const length = [...text].length;
  if (length >= width) return text;
  if (flags.minus) return text + " ".repeat(width - length);
  if (flags.zero && numeric) {
    const sign = /^[+\- ]/.test(text) ? (text[0] as string) : "";
    return sign + "0".repeat(width - length) + text.slice(sign.length);
  }
  return " ".repeat(width - length) + text;
}
