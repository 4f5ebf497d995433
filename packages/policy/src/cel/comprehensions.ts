// Macros cel-js lacks, written against its custom-macro API (registerFunction with `ast` parameters; the
// handler returns { typeCheck, evaluate }, as cel-js's own `has` and `cel.bind` do):
//   - cel-go ext.TwoVarComprehensions (Kubernetes 1.32+): all/exists/existsOne/exists_one(i, v, p),
//     transformList(i, v, [filter,] expr), transformMap(k, v, [filter,] expr), transformMapEntry(k, v, [filter,] expr);
//   - cel-go ext.Lists `sortBy(v, key)` (Kubernetes 1.34+);
//   - cel-go optional `optMap(v, expr)` and `optFlatMap(v, expr)`.
// For lists the first variable is the index and the second the element; for maps, the key and the value.
import { type Environment, Optional, ParseError } from "@marcbachmann/cel-js";
import { type CostMeter, LOOP_MACRO, type LoopMacro } from "./cost.ts";
import {
  celCompare,
  celError,
  celTypeOf,
  comparableKind,
  isList,
  isMap,
  listItems,
  mapEntries,
} from "./values.ts";

// The slice of cel-js's internal API a macro touches (see node_modules/@marcbachmann/cel-js/lib/macros.js).
interface TypeDecl {
  kind: string;
  name: string;
  keyType?: TypeDecl;
  valueType?: TypeDecl;
  isDynOrBool(): boolean;
}
interface Ctx {
  forkWithVariable(name: string, type: TypeDecl): Ctx;
  reuse(parent: Ctx): Ctx;
  setIterValue(v: unknown, ev: Evaluator): Ctx;
}
interface Checker {
  check(node: unknown, ctx: Ctx): TypeDecl;
  getType(name: string): TypeDecl;
  createError(code: string, message: string, node: unknown): Error;
  formatType(t: TypeDecl): string;
  registry: {
    getListType(t: TypeDecl): TypeDecl;
    getMapType(k: TypeDecl, v: TypeDecl): TypeDecl;
    getOptionalType(t: TypeDecl): TypeDecl;
  };
}
interface Evaluator {
  run(node: unknown, ctx: Ctx): unknown;
  tryEval(node: unknown, ctx: Ctx): unknown;
}
interface MacroInput {
  ast: unknown;
  args: Array<{ op: string; args: unknown }>;
  receiver: unknown;
  methodName: string;
}

interface VarMacro extends LoopMacro {
  async: false;
  names: string[];
  ctxs: Ctx[];
  typeCheck(chk: Checker, m: VarMacro, ctx: Ctx): TypeDecl;
  evaluate(ev: Evaluator, m: VarMacro, ctx: Ctx): unknown;
}

function identifier(node: { op: string; args: unknown }, fn: string): string {
  if (node.op === "id" && typeof node.args === "string") return node.args;
  throw new ParseError(`${fn}() argument must be a simple name`, node as never);
}

function sync<T>(v: T): T {
  if (v instanceof Promise) throw celError("asynchronous functions are not supported in this macro");
  return v;
}

/** Binds the iteration variables' types: (index int, element) for lists, (key, value) for maps. */
function rangeTypes(chk: Checker, m: VarMacro, ctx: Ctx): [TypeDecl, TypeDecl] {
  const t = chk.check(m.receiver, ctx);
  if (t.kind === "list") return [chk.getType("int"), t.valueType ?? chk.getType("dyn")];
  if (t.kind === "map") return [t.keyType ?? chk.getType("dyn"), t.valueType ?? chk.getType("dyn")];
  if (t.kind === "dyn") return [chk.getType("dyn"), chk.getType("dyn")];
  throw chk.createError(
    "invalid_comprehension_range",
    `Expression of type '${chk.formatType(t)}' cannot be range of a comprehension (must be list, map, or dynamic).`,
    m.receiver,
  );
}

function forkVars(m: VarMacro, ctx: Ctx, types: TypeDecl[]): Ctx {
  let c = ctx;
  m.ctxs = m.names.map((n, i) => {
    c = c.forkWithVariable(n, types[i]!);
    return c;
  });
  return c;
}

/** Rebinds the macro's variable scope to this evaluation's context; returns the innermost scope. */
function scope(m: VarMacro, ctx: Ctx): Ctx {
  m.ctxs[0]!.reuse(ctx);
  return m.ctxs[m.ctxs.length - 1]!;
}

function entries(coll: unknown, fn: string): Array<[unknown, unknown]> {
  if (isList(coll)) return listItems(coll).map((v, i) => [BigInt(i), v]);
  if (isMap(coll)) return mapEntries(coll);
  throw celError(`${fn}() cannot iterate over ${celTypeOf(coll)}: expected a list or a map`);
}

function checkBool(chk: Checker, node: unknown, ctx: Ctx, what: string): void {
  const t = chk.check(node, ctx);
  if (!t.isDynOrBool())
    throw chk.createError(
      "invalid_condition_type",
      `${what} must return bool, got '${chk.formatType(t)}'`,
      node,
    );
}

function notBool(what: string, v: unknown): Error {
  return v instanceof Error ? v : celError(`${what} must return bool, got '${celTypeOf(v)}'`);
}

type Kind = "all" | "exists" | "existsOne" | "transformList" | "transformMap" | "transformMapEntry";

function twoVarMacro(meter: CostMeter, kind: Kind, withFilter: boolean) {
  return ({ args, receiver, methodName }: MacroInput): VarMacro => {
    const names = [identifier(args[0]!, methodName), identifier(args[1]!, methodName)];
    if (names[0] === names[1]) {
      throw new ParseError(`${methodName}() iteration variables must differ`, args[1] as never);
    }
    const filter = withFilter ? args[2] : undefined;
    const body = withFilter ? args[3]! : args[2]!;
    const desc = `${methodName}(${names.join(", ")}, …)`;
    return {
      [LOOP_MACRO]: true,
      async: false,
      receiver,
      bodies: filter ? [filter, body] : [body],
      iterationCost: 1,
      names,
      ctxs: [],
      typeCheck(chk, m, ctx) {
        const types = rangeTypes(chk, m, ctx);
        const inner = forkVars(m, ctx, types);
        if (filter) checkBool(chk, filter, inner, `${desc} filter`);
        if (kind === "all" || kind === "exists" || kind === "existsOne") {
          checkBool(chk, body, inner, `${desc} predicate`);
          return chk.getType("bool");
        }
        const t = chk.check(body, inner);
        if (kind === "transformList") return chk.registry.getListType(t);
        if (kind === "transformMap") return chk.registry.getMapType(types[0], t);
        if (t.kind !== "map" && t.kind !== "dyn") {
          throw chk.createError(
            "invalid_argument",
            `${desc} transform must return a map, got '${chk.formatType(t)}'`,
            body,
          );
        }
        return t;
      },
      evaluate(ev, m, ctx) {
        const coll = sync(ev.run(m.receiver, ctx));
        const items = entries(coll, methodName);
        const inner = scope(m, ctx);
        const [c1, c2] = m.ctxs as [Ctx, Ctx];
        const bind = (k: unknown, v: unknown) => {
          meter.charge(m.iterationCost);
          c1.setIterValue(k, ev);
          c2.setIterValue(v, ev);
        };
        switch (kind) {
          case "all":
          case "exists": {
            const stop = kind === "exists";
            let err: Error | undefined;
            for (const [k, v] of items) {
              bind(k, v);
              const r = sync(ev.tryEval(body, inner));
              if (r === stop) return stop;
              if (r !== !stop) err ??= notBool(`${desc} predicate`, r);
            }
            if (err) throw err;
            return !stop;
          }
          case "existsOne": {
            let n = 0;
            for (const [k, v] of items) {
              bind(k, v);
              const r = sync(ev.run(body, inner));
              if (r === true) n++;
              else if (r !== false) throw notBool(`${desc} predicate`, r);
            }
            return n === 1;
          }
          default:
            break;
        }
        const keep = (): boolean => {
          if (!filter) return true;
          const f = sync(ev.run(filter, inner));
          if (typeof f !== "boolean") throw notBool(`${desc} filter`, f);
          return f;
        };
        if (kind === "transformList") {
          const out: unknown[] = [];
          for (const [k, v] of items) {
            bind(k, v);
            if (keep()) out.push(sync(ev.run(body, inner)));
          }
          return out;
        }
        const out = new Map<unknown, unknown>();
        for (const [k, v] of items) {
          bind(k, v);
          if (!keep()) continue;
          const r = sync(ev.run(body, inner));
          if (kind === "transformMap") {
            out.set(k, r);
            continue;
          }
          if (!isMap(r)) throw celError(`${desc} transform must return a map, got '${celTypeOf(r)}'`);
          for (const [rk, rv] of mapEntries(r)) {
            if (out.has(rk)) throw celError(`insert failed: key ${String(rk)} already exists`);
            out.set(rk, rv);
          }
        }
        return toCelMap(out);
      },
    };
  };
}

/** A Map with only string keys becomes a plain object, the form cel-js and YAML inputs use for maps. */
function toCelMap(m: Map<unknown, unknown>): Record<string, unknown> | Map<unknown, unknown> {
  for (const k of m.keys()) if (typeof k !== "string") return m;
  const o: Record<string, unknown> = {};
  for (const [k, v] of m) if (k !== "__proto__") o[k as string] = v;
  return o;
}

function sortByMacro(meter: CostMeter) {
  return ({ args, receiver, methodName }: MacroInput): VarMacro => {
    const names = [identifier(args[0]!, methodName)];
    const key = args[1]!;
    return {
      [LOOP_MACRO]: true,
      async: false,
      receiver,
      bodies: [key],
      iterationCost: 1,
      names,
      ctxs: [],
      typeCheck(chk, m, ctx) {
        const t = chk.check(m.receiver, ctx);
        if (t.kind !== "list" && t.kind !== "dyn") {
          throw chk.createError(
            "invalid_argument",
            `sortBy() can only be applied to a list, got '${chk.formatType(t)}'`,
            m.receiver,
          );
        }
        chk.check(key, forkVars(m, ctx, [t.kind === "list" ? (t.valueType ?? chk.getType("dyn")) : t]));
        return t;
      },
      evaluate(ev, m, ctx) {
        const coll = sync(ev.run(m.receiver, ctx));
        if (!isList(coll)) throw celError(`sortBy() can only be applied to a list, got '${celTypeOf(coll)}'`);
        const items = listItems(coll);
        const inner = scope(m, ctx);
        const keys = items.map((v) => {
          meter.charge(m.iterationCost);
          inner.setIterValue(v, ev);
          return sync(ev.run(key, inner));
        });
        return sortByKeys(items, keys, meter);
      },
    };
  };
}

/** ext.Lists sortListByAssociatedKeys: keys must be comparable and of one type; the sort is stable. */
export function sortByKeys(items: unknown[], keys: unknown[], meter: CostMeter): unknown[] {
  if (keys.length === 0) return [];
  const kind = comparableKind(keys[0]);
  if (!kind) throw celError("list elements must be comparable");
  const t0 = celTypeOf(keys[0]);
  for (const k of keys) if (celTypeOf(k) !== t0) throw celError("list elements must have the same type");
  meter.charge(Math.ceil(keys.length * Math.log2(keys.length + 1)));
  const idx = keys.map((_, i) => i);
  idx.sort((a, b) => celCompare(keys[a], keys[b]) || a - b);
  return idx.map((i) => items[i]);
}

function optMacro(flat: boolean) {
  return ({ args, receiver, methodName }: MacroInput): VarMacro => {
    const names = [identifier(args[0]!, methodName)];
    const body = args[1]!;
    return {
      [LOOP_MACRO]: true,
      async: false,
      receiver,
      bodies: [body],
      iterationCost: 1,
      names,
      ctxs: [],
      typeCheck(chk, m, ctx) {
        const t = chk.check(m.receiver, ctx);
        if (t.kind !== "optional" && t.kind !== "dyn") {
          throw chk.createError(
            "optional_expected",
            `${methodName}() receiver must be optional, got '${chk.formatType(t)}'`,
            m.receiver,
          );
        }
        const r = chk.check(
          body,
          forkVars(m, ctx, [t.kind === "optional" ? (t.valueType ?? chk.getType("dyn")) : t]),
        );
        if (flat) return r.kind === "optional" || r.kind === "dyn" ? r : chk.registry.getOptionalType(r);
        return chk.registry.getOptionalType(r);
      },
      evaluate(ev, m, ctx) {
        const o = sync(ev.run(m.receiver, ctx));
        if (!(o instanceof Optional))
          throw celError(`${methodName}() receiver must be optional, got '${celTypeOf(o)}'`);
        if (!o.hasValue()) return Optional.none();
        const inner = scope(m, ctx);
        inner.setIterValue(o.value(), ev);
        const r = sync(ev.run(body, inner));
        if (!flat) return Optional.of(r);
        if (!(r instanceof Optional))
          throw celError(`optFlatMap() expression must return an optional, got '${celTypeOf(r)}'`);
        return r;
      },
    };
  };
}

/** Registers the two-variable comprehensions, sortBy, optMap and optFlatMap macros. */
export function registerComprehensionMacros(env: Environment, meter: CostMeter): void {
  const macro = (sig: string, handler: (input: MacroInput) => VarMacro) =>
    env.registerFunction(sig, handler as unknown as (...a: unknown[]) => unknown);
  macro("dyn.all(ast, ast, ast): bool", twoVarMacro(meter, "all", false));
  macro("dyn.exists(ast, ast, ast): bool", twoVarMacro(meter, "exists", false));
  macro("dyn.existsOne(ast, ast, ast): bool", twoVarMacro(meter, "existsOne", false));
  macro("dyn.exists_one(ast, ast, ast): bool", twoVarMacro(meter, "existsOne", false));
  macro("dyn.transformList(ast, ast, ast): list<dyn>", twoVarMacro(meter, "transformList", false));
  macro("dyn.transformList(ast, ast, ast, ast): list<dyn>", twoVarMacro(meter, "transformList", true));
  macro("dyn.transformMap(ast, ast, ast): map<dyn, dyn>", twoVarMacro(meter, "transformMap", false));
  macro("dyn.transformMap(ast, ast, ast, ast): map<dyn, dyn>", twoVarMacro(meter, "transformMap", true));
  macro(
    "dyn.transformMapEntry(ast, ast, ast): map<dyn, dyn>",
    twoVarMacro(meter, "transformMapEntry", false),
  );
  macro(
    "dyn.transformMapEntry(ast, ast, ast, ast): map<dyn, dyn>",
    twoVarMacro(meter, "transformMapEntry", true),
  );
  macro("dyn.sortBy(ast, ast): list<dyn>", sortByMacro(meter));
  macro("dyn.optMap(ast, ast): optional<dyn>", optMacro(false));
  macro("dyn.optFlatMap(ast, ast): optional<dyn>", optMacro(true));
}
