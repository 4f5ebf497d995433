// The types the Rego side of Gatekeeper shares between compiling, caching and evaluating.

/** One template's Rego, from `spec.targets[0].code[engine=Rego].source` or the legacy `spec.targets[0].rego`/`libs`. */
export interface RegoTemplateSource {
  kind: string;
  rego: string;
  libs?: string[];
}

/** One `violation` result of a template: its message and details (`{}` when the Rego gives none). */
export interface RegoViolation {
  msg: string;
  details?: unknown;
}

/** A compiled template, ready to judge objects. */
export interface RegoProgram {
  /** Runs the template's `violation` rule; throws a PlatformError (REGO_EVAL) when evaluation itself fails. */
  evaluate(input: { review: unknown; parameters: unknown }, data?: { inventory?: unknown }): RegoViolation[];
}

/** A template's program, or why it cannot be evaluated (with the fix). */
export type RegoCompileResult =
  | { ok: true; program: RegoProgram }
  | { ok: false; reason: string; hint: string };

/** `o[key]` when `o` is a plain object (untyped YAML and JSON are read with it), else undefined. */
export function field(o: unknown, key: string): unknown {
  return asRecord(o)?.[key];
}

/** `o` as a record when it is a plain object (not null, not an array). */
export function asRecord(o: unknown): Record<string, unknown> | undefined {
  return o !== null && typeof o === "object" && !Array.isArray(o)
    ? (o as Record<string, unknown>)
    : undefined;
}
