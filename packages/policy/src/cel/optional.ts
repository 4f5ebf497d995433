// Optional-type functions cel-go's OptionalTypes library has and cel-js lacks (Kubernetes enables the latest
// version): optional equality, optional.ofNonZeroValue, list.first(), list.last(), optional.unwrap(list) and
// list.unwrapOpt().
// optMap/optFlatMap are macros (comprehensions.ts). Not possible here: the optional list and map literal
// entries `[?x]` and `{?k: v}`, which cel-js's parser does not accept.
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

/** Registers the optional helpers; `optional` is cel-js's own namespace object (type OptionalNamespace). */
export function registerOptionalExtras(env: Environment): void {
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
