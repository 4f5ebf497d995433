// Kubernetes format library (k8s.io/apiserver/pkg/cel/library/format.go, Kubernetes 1.32+): named string
// formats whose validate() returns optional.none() for a valid string, else the apimachinery validation
// messages. Message texts follow k8s.io/apimachinery/pkg/util/validation and api/validate/content as of
// Kubernetes 1.34 (label keys/values report lengths in bytes, DNS names in characters).
import { type Environment, Optional } from "@marcbachmann/cel-js";
import { type CostMeter, REGEX_STRING_LENGTH_COST_FACTOR, stringCost } from "./cost.ts";
import { requestURIError } from "./url.ts";
import { type CelValue, celError } from "./values.ts";

/** A named format (kubernetes.NamedFormat). */
export class NamedFormat implements CelValue {
  readonly celTypeName = "kubernetes.NamedFormat";
  readonly name: string;
  readonly validate: (s: string) => string[];
  /** Size of the (equivalent) regex, for cost. */
  readonly maxRegexSize: number;
  constructor(name: string, validate: (s: string) => string[], maxRegexSize: number) {
    this.name = name;
    this.validate = validate;
    this.maxRegexSize = maxRegexSize;
  }

  celEquals(other: unknown): boolean {
    return other instanceof NamedFormat && other.name === this.name;
  }
}

function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  let out = `${msg} (e.g. `;
  examples.forEach((e, i) => {
    if (i > 0) out += " or ";
    out += `'${e}', `;
  });
  return `${out}regex used for validation is '${fmt}')`;
}

const maxLenChars = (n: number) => `must be no more than ${n} characters`;
const maxLenBytes = (n: number) => `must be no more than ${n} bytes`;
const utf8Length = (s: string) => Buffer.byteLength(s, "utf8");

const DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_KEY_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${LABEL_KEY_FMT})?`;
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

const dns1123LabelRe = new RegExp(`^${DNS1123_LABEL_FMT}$`);
const dns1123SubdomainRe = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const dns1035LabelRe = new RegExp(`^${DNS1035_LABEL_FMT}$`);
const labelKeyRe = new RegExp(`^${LABEL_KEY_FMT}$`);
const labelValueRe = new RegExp(`^${LABEL_VALUE_FMT}$`);

/** validation.IsDNS1123Label. */
export function isDNS1123Label(v: string): string[] {
  const errs: string[] = [];
  if (utf8Length(v) > 63) errs.push(maxLenChars(63));
  if (!dns1123LabelRe.test(v)) {
    if (dns1123SubdomainRe.test(v)) errs.push("must not contain dots");
    else errs.push(regexError(DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc"));
  }
  return errs;
}

/** validation.IsDNS1123Subdomain. */
export function isDNS1123Subdomain(v: string, maxLen = maxLenChars): string[] {
  const errs: string[] = [];
  if (utf8Length(v) > 253) errs.push(maxLen(253));
  if (!dns1123SubdomainRe.test(v))
    errs.push(regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"));
  return errs;
}

/** validation.IsDNS1035Label. */
export function isDNS1035Label(v: string): string[] {
  const errs: string[] = [];
  if (utf8Length(v) > 63) errs.push(maxLenChars(63));
  if (!dns1035LabelRe.test(v))
    errs.push(regexError(DNS1035_LABEL_MSG, DNS1035_LABEL_FMT, "my-name", "abc-123"));
  return errs;
}

/** content.IsLabelKey (validation.IsQualifiedName). */
export function isQualifiedName(v: string): string[] {
  const errs: string[] = [];
  const parts = v.split("/");
  let name: string;
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push("prefix part must be non-empty");
    else for (const m of isDNS1123Subdomain(prefix, maxLenBytes)) errs.push(`prefix part ${m}`);
  } else {
    return [
      `a valid label key ${regexError(LABEL_KEY_MSG, LABEL_KEY_FMT, "MyName", "my.name", "123-abc")} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push("name part must be non-empty");
  else if (utf8Length(name) > 63) errs.push(`name part ${maxLenBytes(63)}`);
  if (!labelKeyRe.test(name)) {
    errs.push(`name part ${regexError(LABEL_KEY_MSG, LABEL_KEY_FMT, "MyName", "my.name", "123-abc")}`);
  }
  return errs;
}

/** content.IsLabelValue (validation.IsValidLabelValue). */
export function isValidLabelValue(v: string): string[] {
  const errs: string[] = [];
  if (utf8Length(v) > 63) errs.push(maxLenBytes(63));
  if (!labelValueRe.test(v))
    errs.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"));
  return errs;
}

/**
 * apimachinery's maskTrailingDash for generateName prefixes. It drops the last two characters, not one, and
 * panics on "-" (the apiserver reports that as an evaluation error); both kept as they are.
 */
function maskTrailingDash(name: string): string {
  if (!name.endsWith("-")) return name;
  if (name.length < 2)
    throw celError(`runtime error: slice bounds out of range [:-1] masking ${JSON.stringify(name)}`);
  return `${name.slice(0, -2)}a`;
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;
const DATE_TIME_TAIL_RE = /^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$/;

/** strfmt.IsDate: time.Parse("2006-01-02"), which also checks the day against the month. */
export function isDate(s: string): boolean {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(s);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]!;
  return d <= days;
}

/** strfmt.IsDateTime: a date, "t" (any case), then hh:mm:ss[.frac](z|±hh:mm). */
export function isDateTime(s: string): boolean {
  if (s.length < 4) return false;
  const parts = s.toLowerCase().split("t");
  if (parts.length < 2 || !isDate(parts[0]!)) return false;
  const m = DATE_TIME_TAIL_RE.exec(parts[1]!);
  if (!m) return false;
  return m[1]! <= "23" && m[2]! <= "59" && m[3]! <= "59";
}

// Sizes the apiserver uses for the cost of each format (MaxRegexSize).
const URL_REGEX_SIZE = 1070;
const UUID_REGEX_SIZE = 78;
const BASE64_REGEX_SIZE = 93;
const DATE_TIME_REGEX_SIZE = 79;

/** The named formats, keyed by the names format.named() accepts. */
export function namedFormats(): Map<string, NamedFormat> {
  const f = (key: string, name: string, size: number, validate: (s: string) => string[]) =>
    [key, new NamedFormat(name, validate, size)] as const;
  return new Map([
    f("dns1123Label", "DNS1123Label", 30, (s) => isDNS1123Label(s)),
    f("dns1123Subdomain", "DNS1123Subdomain", 60, (s) => isDNS1123Subdomain(s)),
    f("dns1035Label", "DNS1035Label", 30, (s) => isDNS1035Label(s)),
    f("qualifiedName", "QualifiedName", 60, isQualifiedName),
    f("dns1123LabelPrefix", "DNS1123LabelPrefix", 30, (s) => isDNS1123Label(maskTrailingDash(s))),
    f("dns1123SubdomainPrefix", "DNS1123SubdomainPrefix", 60, (s) => isDNS1123Subdomain(maskTrailingDash(s))),
    f("dns1035LabelPrefix", "DNS1035LabelPrefix", 30, (s) => isDNS1035Label(maskTrailingDash(s))),
    f("labelValue", "LabelValue", 40, isValidLabelValue),
    f("uri", "URI", URL_REGEX_SIZE, (s) => {
      const err = requestURIError(s);
      return err === undefined ? [] : [err];
    }),
    f("uuid", "uuid", UUID_REGEX_SIZE, (s) => (UUID_RE.test(s) ? [] : ["does not match the UUID format"])),
    f("byte", "byte", BASE64_REGEX_SIZE, (s) => (BASE64_RE.test(s) ? [] : ["invalid base64"])),
    f("date", "date", DATE_TIME_REGEX_SIZE, (s) => (isDate(s) ? [] : ["invalid date"])),
    f("datetime", "datetime", DATE_TIME_REGEX_SIZE, (s) => (isDateTime(s) ? [] : ["invalid datetime"])),
  ]);
}

/** The object `format.dns1123Label()` and `format.named(...)` are called on. */
export class FormatNamespace {}

/** Registers format.named(), format.<name>() and Format.validate(). */
export function registerFormatLibrary(env: Environment, meter: CostMeter): void {
  const F = "kubernetes.NamedFormat";
  const NS = "kubernetes.FormatNamespace";
  const formats = namedFormats();
  env.registerType(F, { ctor: NamedFormat, fields: {} });
  env.registerType(NS, { ctor: FormatNamespace, fields: {} });
  env.registerConstant("format", NS, new FormatNamespace());
  env.registerOperator(`${F} == ${F}`, (a: NamedFormat, b: NamedFormat) => a.celEquals(b));
  env.registerFunction(`${NS}.named(string): optional<${F}>`, (_ns: FormatNamespace, name: string) => {
    const f = formats.get(name);
    return f ? Optional.of(f) : Optional.none();
  });
  for (const [key, fmt] of formats) env.registerFunction(`${NS}.${key}(): ${F}`, () => fmt);
  env.registerFunction(`${F}.validate(string): optional<list<string>>`, (f: NamedFormat, s: string) => {
    meter.charge(stringCost(s.length) * Math.ceil(f.maxRegexSize * REGEX_STRING_LENGTH_COST_FACTOR));
    const errs = f.validate(s);
    return errs.length === 0 ? Optional.none() : Optional.of(errs);
  });
}
