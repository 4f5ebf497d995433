// List functions: the Kubernetes list library (k8s.io/apiserver/pkg/cel/library/lists.go, all versions:
// isSorted, sum, min, max, indexOf, lastIndexOf) and cel-go ext.Lists version 3 (Kubernetes 1.34+: slice,
// flatten, distinct, reverse, sort, lists.range; sortBy is a macro in comprehensions.ts).
import type { Environment } from "@marcbachmann/cel-js";
import { sortByKeys } from "./comprehensions.ts";
import { type CostMeter, traversalCost } from "./cost.ts";
import { RENAMED_BUILTINS } from "./strings.ts";
import {
  celCompare,
  celEquals,
  celError,
  celTypeOf,
  comparableKind,
  type DurationValue,
  isDuration,
  isList,
  isUint,
  listItems,
  type UintValue,
} from "./values.ts";

type CelList = unknown[] | Set<unknown>;

const MAX_INT64 = (1n << 63n) - 1n;
const MIN_INT64 = -(1n << 63n);
const MAX_UINT64 = (1n << 64n) - 1n;

/** Compares for min/max/isSorted: cel-go skips (does not fail on) values of different comparable types. */
function orderOf(a: unknown, b: unknown, fn: string): number | undefined {
  const ka = comparableKind(a);
  const kb = comparableKind(b);
  if (!ka) throw celError(`no such overload: ${fn} on ${celTypeOf(a)}`);
  if (!kb) throw celError(`no such overload: ${fn} on ${celTypeOf(b)}`);
  if (ka !== kb) return undefined;
  return celCompare(a, b);
}

function extreme(list: CelList, fn: "min" | "max"): unknown {
  const items = listItems(list);
  if (items.length === 0) throw celError(`${fn} called on empty list`);
  let result = items[0];
  const prefer = fn === "min" ? 1 : -1;
  if (!comparableKind(result)) throw celError(`no such overload: ${fn} on ${celTypeOf(result)}`);
  for (let i = 1; i < items.length; i++) if (orderOf(result, items[i], fn) === prefer) result = items[i];
  return result;
}

interface Zeroes {
  uint: UintValue;
  duration: DurationValue;
}

function sum(list: CelList, kind: "int" | "uint" | "double" | "duration", zero: Zeroes): unknown {
  const items = listItems(list);
  const wrong = (v: unknown) => celError(`no such overload: sum of ${kind} and ${celTypeOf(v)}`);
  switch (kind) {
    case "int": {
      let acc = 0n;
      for (const v of items) {
        if (typeof v !== "bigint") throw wrong(v);
        acc += v;
        if (acc > MAX_INT64 || acc < MIN_INT64) throw celError("integer overflow");
      }
      return acc;
    }
    case "double": {
      let acc = 0;
      for (const v of items) {
        if (typeof v !== "number") throw wrong(v);
        acc += v;
      }
      return acc;
    }
    case "uint": {
      let acc = 0n;
      for (const v of items) {
        if (!isUint(v)) throw wrong(v);
        acc += v.valueOf();
        if (acc > MAX_UINT64) throw celError("unsigned integer overflow");
      }
      const Ctor = zero.uint.constructor as new (v: bigint) => UintValue;
      return new Ctor(acc);
    }
    case "duration": {
      let acc = zero.duration;
      for (const v of items) {
        if (!isDuration(v)) throw wrong(v);
        acc = acc.addDuration(v);
      }
      return acc;
    }
  }
}

/** ext.Lists flatten. */
function flatten(items: unknown[], depth: number): unknown[] {
  if (depth < 0) throw celError("level must be non-negative");
  const out: unknown[] = [];
  for (const v of items) {
    if (!isList(v) || depth === 0) out.push(v);
    else out.push(...flatten(listItems(v), depth - 1));
  }
  return out;
}

/** The object `lists.range(n)` is called on. */
export class ListsNamespace {}

/** Registers the Kubernetes list library and ext.Lists version 3. */
export function registerListsLibrary(env: Environment, meter: CostMeter): void {
  const traverse = (l: CelList) => meter.charge(traversalCost(listItems(l)));
  const zero: Zeroes = { uint: env.evaluate("0u"), duration: env.evaluate("duration('0s')") };

  env.registerFunction("list<T>.isSorted(): bool", (l: CelList) => {
    traverse(l);
    const items = listItems(l);
    for (let i = 1; i < items.length; i++)
      if (orderOf(items[i - 1], items[i], "isSorted") === 1) return false;
    return true;
  });
  // One overload for every element type: cel-js would pick the first typed overload for a list<dyn> at check
  // time and type the result by it. An empty list sums to int 0 (cel-go gives a typed list's own zero).
  env.registerFunction("list<T>.sum(): T", (l: CelList) => {
    traverse(l);
    const first = listItems(l)[0];
    const kind =
      first === undefined || typeof first === "bigint"
        ? "int"
        : typeof first === "number"
          ? "double"
          : isUint(first)
            ? "uint"
            : isDuration(first)
              ? "duration"
              : undefined;
    if (!kind) throw celError(`no such overload: sum of ${celTypeOf(first)}`);
    return sum(l, kind, zero);
  });
  env.registerFunction("list<T>.min(): T", (l: CelList) => {
    traverse(l);
    return extreme(l, "min");
  });
  env.registerFunction("list<T>.max(): T", (l: CelList) => {
    traverse(l);
    return extreme(l, "max");
  });
  // Registered under the names engine.ts renames indexOf/lastIndexOf calls to (see strings.ts). The element
  // is dyn, not the list's type, so that untyped data compares with CEL's cross-type numeric equality.
  env.registerFunction(`list.${RENAMED_BUILTINS.indexOf}(dyn): int`, (l: CelList, x: unknown) => {
    traverse(l);
    return BigInt(listItems(l).findIndex((v) => celEquals(v, x)));
  });
  env.registerFunction(`list.${RENAMED_BUILTINS.lastIndexOf}(dyn): int`, (l: CelList, x: unknown) => {
    traverse(l);
    return BigInt(listItems(l).findLastIndex((v) => celEquals(v, x)));
  });

  // ext.Lists (version 3).
  env.registerFunction("list<T>.slice(int, int): list<T>", (l: CelList, start: bigint, end: bigint) => {
    const items = listItems(l);
    if (start < 0n || end < 0n)
      throw celError(`cannot slice(${start}, ${end}), negative indexes not supported`);
    if (start > end) {
      throw celError(`cannot slice(${start}, ${end}), start index must be less than or equal to end index`);
    }
    if (end > BigInt(items.length))
      throw celError(`cannot slice(${start}, ${end}), list is length ${items.length}`);
    meter.charge(Number(end - start));
    return items.slice(Number(start), Number(end));
  });
  env.registerFunction("list.flatten(): list", (l: CelList) => {
    traverse(l);
    return flatten(listItems(l), 1);
  });
  env.registerFunction("list.flatten(int): list", (l: CelList, depth: bigint) => {
    traverse(l);
    return flatten(listItems(l), Number(depth));
  });
  env.registerFunction("list<T>.distinct(): list<T>", (l: CelList) => {
    const items = listItems(l);
    meter.charge(items.length);
    const out: unknown[] = [];
    for (const v of items) if (!out.some((o) => celEquals(o, v))) out.push(v);
    return out;
  });
  env.registerFunction("list<T>.reverse(): list<T>", (l: CelList) => {
    const items = listItems(l);
    meter.charge(items.length);
    return [...items].reverse();
  });
  env.registerFunction("list<T>.sort(): list<T>", (l: CelList) => {
    const items = listItems(l);
    return sortByKeys(items, items, meter);
  });
  env.registerType("ListsNamespace", { ctor: ListsNamespace, fields: {} });
  env.registerConstant("lists", "ListsNamespace", new ListsNamespace());
  env.registerFunction("ListsNamespace.range(int): list<int>", (_ns: ListsNamespace, n: bigint) => {
    const count = n > 0n ? Number(n) : 0;
    meter.charge(count);
    return Array.from({ length: count }, (_, i) => BigInt(i));
  });
}
