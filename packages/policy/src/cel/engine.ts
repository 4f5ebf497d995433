// The CEL engine behind every policy: @marcbachmann/cel-js, chosen over @bufbuild/cel after measuring both
// (docs/cel-engine.md): it has optional types (`.?field.orValue()`), `cel.bind`, plain-object inputs and
// receiver-style custom functions, and evaluated our guardrail expression ~3.5× faster. Its gaps against the
// Kubernetes CEL environment are closed here and in the library modules beside this file: RE2 regex semantics
// (via re2js), the Kubernetes libraries (quantity, IP/CIDR, URL, format, semver, lists, regex), cel-go's
// extension libraries Kubernetes enables (strings v2, sets, lists v3, two-variable comprehensions, optional
// helpers) and runtime cost limits (cost.ts).
import { Environment } from "@marcbachmann/cel-js";
import { PlatformError } from "@platform/core/errors";
import { parseImageRef } from "@platform/core/image";
import { RE2JS } from "re2js";
import { registerComprehensionMacros } from "./comprehensions.ts";
import {
  type CelCostBudget,
  CostMeter,
  instrumentCost,
  PER_CALL_LIMIT,
  REGEX_STRING_LENGTH_COST_FACTOR,
  STRING_TRAVERSAL_COST_FACTOR,
} from "./cost.ts";
import { registerFormatLibrary } from "./format.ts";
import { registerListsLibrary } from "./lists.ts";
import { registerNetLibrary } from "./net.ts";
import { registerOptionalExtras } from "./optional.ts";
import { registerQuantityLibrary } from "./quantity.ts";
import { registerSemverLibrary } from "./semver.ts";
import { registerSetsLibrary } from "./sets.ts";
import { RENAMED_BUILTINS, registerStringsLibrary } from "./strings.ts";
import { registerURLLibrary } from "./url.ts";

export {
  type CelCostBudget,
  CelCostLimitError,
  createCostBudget,
  PER_CALL_LIMIT,
  RUNTIME_CEL_COST_BUDGET,
  RUNTIME_CEL_COST_BUDGET_MATCH_CONDITIONS,
} from "./cost.ts";

/** Options for one evaluation. */
export interface CelEvalOptions {
  /** Shared budget of the surrounding (policy, binding, param) evaluation; see createCostBudget(). */
  budget?: CelCostBudget;
  /** Cost limit of this one evaluation; defaults to the apiserver's PerCallLimit (1,000,000). */
  perCallLimit?: number;
}

/** A compiled expression: parsed once, evaluated per object under the apiserver's cost limits. */
export interface CelProgram {
  readonly source: string;
  /** Evaluates; throws CelCostLimitError ("running out of cost budget") when a cost limit is exceeded. */
  eval(vars: Record<string, unknown>, opts?: CelEvalOptions): unknown;
  /** Evaluates and reports the approximate cost (see cost.ts for what is counted). */
  evalWithCost(vars: Record<string, unknown>, opts?: CelEvalOptions): { value: unknown; cost: number };
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
    if (regexCache.size > 10_000) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

/** cel-go's cost of a regex call: string traversal × regex length (the apiserver's find/findAll formula). */
function regexCost(s: string, pattern: string): number {
  return (
    Math.ceil((1 + s.length) * STRING_TRAVERSAL_COST_FACTOR) *
    Math.ceil(pattern.length * REGEX_STRING_LENGTH_COST_FACTOR)
  );
}

function buildEnvironment(meter: CostMeter): Environment {
  const env = new Environment({
    unlistedVariablesAreDyn: true,
    enableOptionalTypes: true,
    homogeneousAggregateLiterals: true,
  });
  registerStringsLibrary(env, meter);
  // Kubernetes regex library and `matches` with RE2 semantics (the engine's own `matches` uses JS RegExp;
  // calls are renamed to these overloads after parsing, see RENAMED_BUILTINS).
  const matches = (s: string, p: string) => {
    meter.charge(regexCost(s, p));
    return re2(p).matcher(s).find();
  };
  env.registerFunction(`string.${RENAMED_BUILTINS.matches}(string): bool`, matches);
  env.registerFunction(`${RENAMED_BUILTINS.matches}(string, string): bool`, matches);
  env.registerFunction("string.find(string): string", (s: string, p: string) => {
    meter.charge(regexCost(s, p));
    const m = re2(p).matcher(s);
    return m.find() ? (m.group() ?? "") : "";
  });
  env.registerFunction("string.findAll(string): list<string>", (s: string, p: string) => {
    meter.charge(regexCost(s, p));
    return findAll(s, p, -1);
  });
  env.registerFunction("string.findAll(string, int): list<string>", (s: string, p: string, n: bigint) => {
    meter.charge(regexCost(s, p));
    return findAll(s, p, Number(n));
  });
  registerListsLibrary(env, meter);
  registerSetsLibrary(env, meter);
  registerQuantityLibrary(env, meter);
  registerNetLibrary(env, meter);
  registerURLLibrary(env, meter);
  registerFormatLibrary(env, meter);
  registerSemverLibrary(env, meter);
  registerOptionalExtras(env);
  registerComprehensionMacros(env, meter);
  // Type identifiers for `type(x) == net.IP` and the like, as cel-go declares them.
  const typeOf = (expr: string): unknown => env.evaluate(`type(${expr})`);
  env.registerConstant("net", "map<string, type>", {
    IP: typeOf("ip('0.0.0.0')"),
    CIDR: typeOf("cidr('::/0')"),
  });
  env.registerConstant("kubernetes", "map<string, type>", {
    Quantity: typeOf("quantity('0')"),
    URL: typeOf("url('/')"),
    Semver: typeOf("semver('0.0.0')"),
    NamedFormat: typeOf("format.uuid()"),
  });
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

interface AstNode {
  op?: string;
  args?: unknown;
  setMeta?(key: string, value: unknown): AstNode;
}

interface LiteralChecker {
  check(n: unknown, c: unknown): unknown;
  dynType: unknown;
  registry: { getListType(t: unknown): unknown; getMapType(k: unknown, v: unknown): unknown };
}

/** List and map literal checks that allow mixed element types (cel-go exempts `format` arguments). */
const HETEROGENEOUS_CHECK: Record<
  string,
  (chk: LiteralChecker, ast: { args: unknown[] }, ctx: unknown) => unknown
> = {
  list(chk, ast, ctx) {
    for (const el of ast.args) chk.check(el, ctx);
    return chk.registry.getListType(chk.dynType);
  },
  map(chk, ast, ctx) {
    for (const [k, v] of ast.args as Array<[unknown, unknown]>) {
      chk.check(k, ctx);
      chk.check(v, ctx);
    }
    return chk.registry.getMapType(chk.dynType, chk.dynType);
  },
};

/** Relaxes every list and map literal below `node`. */
function exemptLiterals(node: unknown): void {
  if (Array.isArray(node)) {
    for (const n of node) exemptLiterals(n);
    return;
  }
  if (!node || typeof node !== "object") return;
  const n = node as AstNode;
  const check = n.op ? HETEROGENEOUS_CHECK[n.op] : undefined;
  if (check && n.setMeta) n.setMeta("check", check);
  for (const v of Object.values(n)) if (v && typeof v === "object") exemptLiterals(v);
}

interface HasEvaluator {
  run(node: unknown, ctx: unknown): unknown;
  debugType(v: unknown): { fieldLazy(obj: unknown, key: unknown, node: unknown, ev: unknown): unknown };
}

/**
 * `has(e.f)` where `e` is any expression (a call, an index), as cel-go allows: `e` is evaluated and `f`'s
 * presence tested. cel-js's own macro takes only identifier chains (`has(a.b.c)`) and fails the rest with
 * "has() invalid argument" (Kyverno policies write `has(image.GetMetadata(x).config.Volumes)`).
 */
function hasOverAnyOperand(select: { op: string; args: [unknown, unknown] }) {
  return {
    args: [select],
    async: false,
    typeCheck(
      chk: { check(n: unknown, c: unknown): unknown; getType(n: string): unknown },
      _m: unknown,
      ctx: unknown,
    ) {
      chk.check(select.args[0], ctx);
      return chk.getType("bool");
    },
    evaluate(ev: HasEvaluator, _m: unknown, ctx: unknown) {
      const operand = ev.run(select.args[0], ctx);
      return ev.debugType(operand).fieldLazy(operand, select.args[1], select, ev) !== undefined;
    },
  };
}

/** The root of a field-selection chain (`a` of `a.b.?c`). */
function selectRoot(node: AstNode): AstNode {
  let n = node;
  while ((n.op === "." || n.op === ".?") && Array.isArray(n.args)) n = n.args[0] as AstNode;
  return n;
}

/**
 * Walks the parsed AST before its first evaluation: renames calls whose built-in semantics differ from
 * cel-go's (RENAMED_BUILTINS), lets `format` arguments hold mixed-type list and map literals as cel-go does,
 * accepts `has()` over any operand as cel-go does, and checks every literal regex against RE2, as the
 * apiserver's compiler does.
 */
function rewriteAst(node: unknown, onPattern: (p: string) => void): void {
  if (Array.isArray(node)) {
    for (const n of node) rewriteAst(n, onPattern);
    return;
  }
  if (!node || typeof node !== "object") return;
  const n = node as AstNode;
  if ((n.op === "rcall" || n.op === "call") && Array.isArray(n.args)) {
    const [name, a, b] = n.args as [unknown, unknown, unknown];
    if (typeof name === "string" && Object.hasOwn(RENAMED_BUILTINS, name)) {
      (n.args as unknown[])[0] = RENAMED_BUILTINS[name];
    }
    if (name === "matches" || name === "find" || name === "findAll") {
      const argList = (n.op === "rcall" ? b : a) as unknown[];
      const pat = n.op === "rcall" ? argList?.[0] : argList?.[1];
      const lit = pat as { op?: string; args?: unknown } | undefined;
      if (lit?.op === "value" && typeof lit.args === "string") onPattern(lit.args);
    }
    if (name === "format" && n.op === "rcall") exemptLiterals(b);
    const arg = (n.op === "call" ? (a as AstNode[] | undefined)?.[0] : undefined) as AstNode | undefined;
    if (name === "has" && arg?.op === "." && selectRoot(arg).op !== "id" && n.setMeta)
      n.setMeta("macro", hasOverAnyOperand(arg as { op: string; args: [unknown, unknown] }));
  }
  for (const v of Object.values(n)) if (v && typeof v === "object") rewriteAst(v, onPattern);
}

const INTERNAL_NAMES = new RegExp(`\\b(${Object.values(RENAMED_BUILTINS).join("|")})\\b`, "g");
const PUBLIC_NAMES = Object.fromEntries(Object.entries(RENAMED_BUILTINS).map(([k, v]) => [v, k]));

/** Error messages name the renamed overloads; report the names the expression used. */
function publicError(err: unknown): unknown {
  if (err instanceof Error && err.message.includes("__")) {
    err.message = err.message.replace(INTERNAL_NAMES, (m) => PUBLIC_NAMES[m] ?? m);
  }
  return err;
}

/** A library a policy format adds on top of the Kubernetes ones (e.g. Kyverno's resource/image/user functions). */
export type CelLibrary = (env: Environment) => void;

/** Creates an engine with the Kubernetes and platform CEL libraries registered, plus `libraries`. */
export function createCelEngine(opts: { libraries?: readonly CelLibrary[] } = {}): CelEngine {
  const meter = new CostMeter();
  const env = buildEnvironment(meter);
  for (const lib of opts.libraries ?? []) lib(env);
  // Parsed, checked and instrumented programs by source text: templates repeat expressions (every Gatekeeper
  // template gets the same `anyObject` and `params` variables), and a program holds no per-policy state (its
  // activation and cost budget come with each evaluation). Only successes are kept, so an error always names
  // the policy, field and file:line of the expression that has it.
  const compiled = new Map<string, { parsed: ReturnType<Environment["parse"]>; baseCost: number }>();
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
      let program = compiled.get(expression);
      if (!program) {
        let parsed: ReturnType<Environment["parse"]>;
        try {
          parsed = env.parse(expression);
        } catch (err) {
          throw fail(`CEL syntax error: ${firstLine(publicError(err))}`, err);
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
        program = { parsed, baseCost: instrumentCost(parsed.ast, meter) };
        if (compiled.size > 10_000) compiled.clear();
        compiled.set(expression, program);
      }
      const { parsed, baseCost } = program;
      // Returns the value; `cost` receives the evaluation's cost (frames are reused after exit()).
      const run = (
        vars: Record<string, unknown>,
        opts: CelEvalOptions | undefined,
        cost?: { cost: number },
      ) => {
        const frame = meter.enter(opts?.perCallLimit ?? PER_CALL_LIMIT, opts?.budget);
        try {
          meter.charge(baseCost);
          const value = parsed(vars);
          if (frame.error) throw frame.error;
          if (cost) cost.cost = frame.used;
          return value;
        } catch (err) {
          // A cost limit wins over whatever error (or absorbed error) it caused on the way out.
          throw publicError(frame.error ?? err);
        } finally {
          meter.exit();
        }
      };
      return {
        source: expression,
        eval: (vars, opts) => run(vars, opts),
        evalWithCost: (vars, opts) => {
          const out = { value: undefined as unknown, cost: 0 };
          out.value = run(vars, opts, out);
          return out;
        },
      };
    },
  };
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
}
