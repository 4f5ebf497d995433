import { stringify } from "yaml";

// The render writes thousands of small, plain objects (2,000 services → 16,000 objects); the `yaml` package's
// general document model costs about a millisecond per service there. This emitter writes the same bytes as
// `stringify(value, { sortMapEntries: true, lineWidth: 0 })` for plain data (maps, lists, strings, numbers,
// booleans) and hands every scalar it is not sure about to `yaml` itself; a test holds the two equal on every
// render it makes.

const PLAIN = /^[A-Za-z0-9_/$.(][A-Za-z0-9_ /$.{}()@:+=,-]*$/;
const AMBIGUOUS =
  /^(?:true|false|yes|no|on|off|null|y|n|~|[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?|0x[0-9a-f]+|0o[0-7]+|\.inf|\.nan)$/i;

/** One YAML document (ending in a newline) for plain data, keys sorted. */
export function emitYaml(value: unknown): string {
  return isCollection(value) && !isEmpty(value) ? block(value, "") : `${scalar(value, "")}\n`;
}

function isCollection(v: unknown): v is object {
  return typeof v === "object" && v !== null;
}

function isEmpty(v: object): boolean {
  return Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0;
}

function block(value: object, indent: string): string {
  let out = "";
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isCollection(item) && !isEmpty(item)) {
        // The first entry goes on the dash's line; the rest align under it.
        const inner = block(item, `${indent}  `);
        out += `${indent}- ${inner.slice(indent.length + 2)}`;
      } else out += `${indent}- ${scalar(item, `${indent}  `)}\n`;
    }
    return out;
  }
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined) continue;
    const k = scalar(key, indent, true);
    if (isCollection(v) && !isEmpty(v)) out += `${indent}${k}:\n${block(v, `${indent}  `)}`;
    else out += `${indent}${k}: ${scalar(v, `${indent}  `)}\n`;
  }
  return out;
}

function scalar(v: unknown, indent: string, key = false): string {
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (isCollection(v) && isEmpty(v)) return Array.isArray(v) ? "[]" : "{}";
  if (typeof v === "string" && PLAIN.test(v) && !AMBIGUOUS.test(v) && !/[ :]$|: | #/.test(v)) return v;
  // Anything else: exactly what `yaml` writes for it in the same place (as a key, or as a value whose
  // continuation lines it indents two spaces under the key).
  if (key) return stringify({ [String(v)]: 0 }, { lineWidth: 0 }).slice(0, -": 0\n".length);
  return stringify({ x: v }, { lineWidth: 0 }).slice("x: ".length, -1).replaceAll("\n  ", `\n${indent}`);
}
