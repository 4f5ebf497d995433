// cel-go ext.Sets (Kubernetes 1.29+): sets.contains, sets.equivalent, sets.intersects over lists, with CEL
// equality (so [1] and [1.0] are equivalent). The arguments are untyped lists: cel-go checks that both share
// an element type at compile time, cel-js would re-check it per call on runtime types and reject [1] vs [1.0].
import type { Environment } from "@marcbachmann/cel-js";
import type { CostMeter } from "./cost.ts";
import { celEquals, listItems } from "./values.ts";

type CelList = unknown[] | Set<unknown>;

function contains(a: CelList, b: CelList): boolean {
  const x = listItems(a);
  return listItems(b).every((v) => x.some((w) => celEquals(w, v)));
}

/** The object `sets.contains(...)` is called on. */
export class SetsNamespace {}

/** Registers sets.contains/equivalent/intersects. */
export function registerSetsLibrary(env: Environment, meter: CostMeter): void {
  const cost = (a: CelList, b: CelList) => meter.charge(listItems(a).length * listItems(b).length);
  env.registerType("SetsNamespace", { ctor: SetsNamespace, fields: {} });
  env.registerConstant("sets", "SetsNamespace", new SetsNamespace());
  env.registerFunction(
    "SetsNamespace.contains(list, list): bool",
    (_: SetsNamespace, a: CelList, b: CelList) => {
      cost(a, b);
      return contains(a, b);
    },
  );
  env.registerFunction(
    "SetsNamespace.equivalent(list, list): bool",
    (_: SetsNamespace, a: CelList, b: CelList) => {
      cost(a, b);
      return contains(a, b) && contains(b, a);
    },
  );
  env.registerFunction(
    "SetsNamespace.intersects(list, list): bool",
    (_: SetsNamespace, a: CelList, b: CelList) => {
      cost(a, b);
      const y = listItems(b);
      return listItems(a).some((v) => y.some((w) => celEquals(v, w)));
    },
  );
}
