// Optional-type functions cel-go's OptionalTypes library has and cel-js lacks (Kubernetes enables the latest
// version): optional equality, optional.ofNonZeroValue, list.first(), list.last(), optional.unwrap(list) and
// list.unwrapOpt().
// optMap/optFlatMap are macros (comprehensions.ts). Not possible here: the optional list and map literal
// entries `[?x]` and `{?k: v}`, which cel-js's parser does not accept.
// `or` and `orValue` are replaced: on a value that is not an optional, cel-go (v0.22/v0.23, as in
// kube-apiserver 1.32 and kyverno 1.15) returns that value unchanged (evalOptionalOr/evalOptionalOrValue),
// where cel-js throws "receiver must be optional".
import { type Environment, Optional } from "@marcbachmann/cel-js";
import {
  celEquals,
  celError,
  celTypeOf,
  isDuration,
  isList,
  isMap,
  isUint,
  listItems,
  mapEntries,
} from "./values.ts";

/** cel-go's zero-value test for optional.ofNonZeroValue. */
function isZeroValue(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (v === false || v === 0n || v === 0 || v === "") return true;
  if (isUint(v)) return v.valueOf() === 0n;
  if (v instanceof Uint8Array) return v.length === 0;
  if (isList(v)) return listItems(v).length === 0;
  if (isMap(v)) return mapEntries(v).length === 0;
  if (isDuration(v)) return v.seconds === 0n && v.nanos === 0;
  if (v instanceof Date) return v.getTime() === 0;
  if (v instanceof Optional) return !v.hasValue();
  return false;
}

function unwrap(l: unknown[] | Set<unknown>): unknown[] {
  const out: unknown[] = [];
  for (const v of listItems(l)) {
    if (!(v instanceof Optional)) throw celError(`value of type ${celTypeOf(v)} is not optional`);
    if (v.hasValue()) out.push(v.value());
  }
  return out;
}

// The slice of cel-js's macro API these two macros touch (see node_modules/@marcbachmann/cel-js/lib/optional.js).
interface TypeDecl {
  kind: string;
  valueType?: TypeDecl;
  unify(registry: unknown, other: TypeDecl): TypeDecl | undefined;
}
interface Checker {
  check(node: unknown, ctx: unknown): TypeDecl;
  getType(name: string): TypeDecl;
  createError(code: string, message: string, node: unknown): Error;
  registry: unknown;
}
interface Evaluator {
  run(node: unknown, ctx: unknown): unknown;
}
interface OrMacro {
  receiver: unknown;
  arg: unknown;
  async: false;
  typeCheck(chk: Checker, m: OrMacro, ctx: unknown): TypeDecl;
  evaluate(ev: Evaluator, m: OrMacro, ctx: unknown): unknown;
}

/**
 * `x.or(y)` / `x.orValue(y)` as cel-go's decorators evaluate them: an optional with a value yields it (or its
 * value); an empty one yields `y`, evaluated only then; any other value is returned unchanged.
 */
function orMacro(kind: "or" | "orValue") {
  return ({ args, receiver }: { args: unknown[]; receiver: unknown }): OrMacro => ({
    receiver,
    arg: args[0],
    async: false,
    typeCheck(chk, m, ctx) {
      const l = chk.check(m.receiver, ctx);
      const r = chk.check(m.arg, ctx);
      if (l.kind === "dyn") return kind === "or" ? r : chk.getType("dyn");
      // A receiver statically known not to be optional has no overload, as cel-go's checker says.
      if (l.kind !== "optional")
        throw chk.createError(
          "optional_expected",
          `optional.${kind}() receiver must be optional`,
          m.receiver,
        );
      const want = kind === "or" ? l : (l.valueType ?? chk.getType("dyn"));
      const unified = want.unify(chk.registry, r);
      if (unified) return unified;
      throw chk.createError(
        "incompatible_argument_type",
        `optional.${kind}() argument must be compatible type`,
        m.arg,
      );
    },
    evaluate(ev, m, ctx) {
      const v = ev.run(m.receiver, ctx);
      if (!(v instanceof Optional)) return v;
      if (v.hasValue()) return kind === "or" ? v : v.value();
      return ev.run(m.arg, ctx);
    },
  });
}

/** Registers the optional helpers; `optional` is cel-js's own namespace object (type OptionalNamespace). */
export function registerOptionalExtras(env: Environment): void {
  // cel-js picks the macro of a (name, receiver, arity) from the last declaration registered, whatever its
  // receiver type; a receiver type other than cel-js's own `optional` (and not dyn) keeps the two
  // declarations from overlapping, so these replace cel-js's `or`/`orValue` for every receiver.
  const macro = (sig: string, handler: ReturnType<typeof orMacro>) =>
    env.registerFunction(sig, handler as unknown as (...a: unknown[]) => unknown);
  macro("list<dyn>.or(ast): dyn", orMacro("or"));
  macro("list<dyn>.orValue(ast): dyn", orMacro("orValue"));
  env.registerOperator("optional<dyn> == optional<dyn>", (a: Optional<unknown>, b: Optional<unknown>) =>
    celEquals(a, b),
  );
  env.registerFunction("OptionalNamespace.ofNonZeroValue(A): optional<A>", (_ns: unknown, v: unknown) =>
    isZeroValue(v) ? Optional.none() : Optional.of(v),
  );
  env.registerFunction("list<T>.first(): optional<T>", (l: unknown[] | Set<unknown>) => {
    const items = listItems(l);
    return items.length ? Optional.of(items[0]) : Optional.none();
  });
  env.registerFunction("list<T>.last(): optional<T>", (l: unknown[] | Set<unknown>) => {
    const items = listItems(l);
    return items.length ? Optional.of(items[items.length - 1]) : Optional.none();
  });
  env.registerFunction("OptionalNamespace.unwrap(list<optional<T>>): list<T>", (_ns: unknown, l: unknown[]) =>
    unwrap(l),
  );
  env.registerFunction("list<optional<T>>.unwrapOpt(): list<T>", (l: unknown[]) => unwrap(l));
}
