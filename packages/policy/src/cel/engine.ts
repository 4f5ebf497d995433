// The CEL engine behind every policy: @marcbachmann/cel-js, chosen over @bufbuild/cel after measuring both
// (docs/cel-engine.md): it has optional types (`.?field.orValue()`), `cel.bind`, plain-object inputs and
// receiver-style custom functions, and evaluated our guardrail expression ~3.5× faster. Its gaps against the
// Kubernetes CEL environment are closed here: RE2 regex semantics (via re2js) and the Kubernetes string/regex
// library functions our policies use.
import { Environment } from "@marcbachmann/cel-js";
import { PlatformError } from "@platform/core";
import { RE2JS } from "re2js";
import { parseImageRef } from "../image.ts";

/** A compiled expression: parsed and checked once, evaluated per object. */
export interface CelProgram {
  readonly source: string;
  eval(vars: Record<string, unknown>): unknown;
}

export interface CelEngine {
  compile(
    expression: string,
    where?: { policy?: string; field?: string; file?: string; line?: number },
  ): CelProgram;
}

const regexCache = new Map<string, RE2JS>();
/** RE2 as the apiserver uses it: linear time, no lookaround or backreferences. */
function re2(pattern: string): RE2JS {
  let re = regexCache.get(pattern);
  if (!re) {
    re = RE2JS.compile(pattern);
    regexCache.set(pattern, re);
  }
  return re;
}

function buildEnvironment(): Environment {
  const env = new Environment({
    unlistedVariablesAreDyn: true,
    enableOptionalTypes: true,
    homogeneousAggregateLiterals: true,
  });
  // Kubernetes strings library (cel-go ext.Strings) functions the engine lacks.
  env.registerFunction("string.charAt(int): string", (s: string, i: bigint) => {
    const idx = Number(i);
    if (idx < 0 || idx > s.length) throw new Error(`index out of range: ${idx}`);
    return s.charAt(idx);
  });
  env.registerFunction("string.replace(string, string): string", (s: string, a: string, b: string) =>
    s.split(a).join(b),
  );
  env.registerFunction(
    "string.replace(string, string, int): string",
    (s: string, a: string, b: string, n: bigint) => {
      let count = Number(n);
      if (count < 0) return s.split(a).join(b);
      let out = "";
      let rest = s;
      while (count-- > 0) {
        const at = rest.indexOf(a);
        if (at < 0) break;
        out += rest.slice(0, at) + b;
        rest = rest.slice(at + a.length);
      }
      return out + rest;
    },
  );
  // The engine's own `matches` uses JS RegExp and its lowerAscii/upperAscii are Unicode-aware; Kubernetes
  // uses RE2 and ASCII-only case mapping. Calls are renamed to these overloads after parsing (see REPLACED).
  env.registerFunction("string.__re2matches(string): bool", (s: string, p: string) =>
    re2(p).matcher(s).find(),
  );
  env.registerFunction("__re2matches(string, string): bool", (s: string, p: string) =>
    re2(p).matcher(s).find(),
  );
  env.registerFunction("string.__lowerAscii(): string", (s: string) =>
    s.replace(/[A-Z]/g, (c) => c.toLowerCase()),
  );
  env.registerFunction("string.__upperAscii(): string", (s: string) =>
    s.replace(/[a-z]/g, (c) => c.toUpperCase()),
  );
  // Kubernetes regex library: find / findAll with RE2 semantics.
  env.registerFunction("string.find(string): string", (s: string, p: string) => {
    const m = re2(p).matcher(s);
    return m.find() ? (m.group() ?? "") : "";
  });
  env.registerFunction("string.findAll(string): list<string>", (s: string, p: string) => findAll(s, p, -1));
  env.registerFunction("string.findAll(string, int): list<string>", (s: string, p: string, n: bigint) =>
    findAll(s, p, Number(n)),
  );
  // Platform library: the distribution reference grammar, so rules compare registries and digests, not strings.
  // Images repeat across containers and rules, so parsed references are cached (bounded).
  const images = new Map<string, Record<string, string>>();
  env.registerFunction("image(string): map<string, string>", (s: string) => {
    let m = images.get(s);
    if (!m) {
      const r = parseImageRef(s);
      m = {
        registry: r.registry,
        repository: r.repository,
        tag: r.tag ?? "",
        digest: r.digest ?? "",
        name: `${r.registry}/${r.repository}`,
        valid: r.valid ? "true" : "false",
      };
      if (images.size > 10_000) images.clear();
      images.set(s, m);
    }
    return m;
  });
  return env;
}

function findAll(s: string, p: string, limit: number): string[] {
  const m = re2(p).matcher(s);
  const out: string[] = [];
  while ((limit < 0 || out.length < limit) && m.find()) out.push(m.group() ?? "");
  return out;
}

/** Built-in functions whose semantics differ from Kubernetes', mapped to our overloads. */
const REPLACED: Record<string, string> = {
  matches: "__re2matches",
  lowerAscii: "__lowerAscii",
  upperAscii: "__upperAscii",
};

/**
 * Walks the parsed AST before its first evaluation: renames REPLACED calls (the engine offers no way to
 * override a built-in overload) and checks every literal regex against RE2, as the apiserver's compiler does.
 */
function rewriteAst(node: unknown, onPattern: (p: string) => void): void {
  if (Array.isArray(node)) {
    for (const n of node) rewriteAst(n, onPattern);
    return;
  }
  if (!node || typeof node !== "object") return;
  const n = node as { op?: string; args?: unknown };
  if ((n.op === "rcall" || n.op === "call") && Array.isArray(n.args)) {
    const [name, a, b] = n.args as [unknown, unknown, unknown];
    if (typeof name === "string" && REPLACED[name]) (n.args as unknown[])[0] = REPLACED[name];
    if (name === "matches" || name === "find" || name === "findAll") {
      const argList = (n.op === "rcall" ? b : a) as unknown[];
      const pat = n.op === "rcall" ? argList?.[0] : argList?.[1];
      const lit = pat as { op?: string; args?: unknown } | undefined;
      if (lit?.op === "value" && typeof lit.args === "string") onPattern(lit.args);
    }
  }
  for (const v of Object.values(n)) if (v && typeof v === "object") rewriteAst(v, onPattern);
}

/** Creates an engine with the Kubernetes and platform CEL libraries registered. */
export function createCelEngine(): CelEngine {
  const env = buildEnvironment();
  return {
    compile(expression, where = {}) {
      const fail = (what: string, cause: unknown) =>
        new PlatformError(
          "POLICY_CEL_COMPILE",
          `${where.policy ? `${where.policy}: ` : ""}${where.field ? `${where.field}: ` : ""}${what}`,
          {
            file: where.file,
            line: where.line,
            hint: "Fix the CEL expression; the Kubernetes CEL reference is https://kubernetes.io/docs/reference/using-api/cel/.",
            cause,
          },
        );
      let parsed: ReturnType<Environment["parse"]>;
      try {
        parsed = env.parse(expression);
      } catch (err) {
        throw fail(`CEL syntax error: ${firstLine(err)}`, err);
      }
      rewriteAst(parsed.ast, (p) => {
        try {
          re2(p);
        } catch (err) {
          throw fail(
            `regex ${JSON.stringify(p)} is not valid RE2 (the apiserver would reject it): ${firstLine(err)}`,
            err,
          );
        }
      });
      return { source: expression, eval: (vars) => parsed(vars) };
    },
  };
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
}
