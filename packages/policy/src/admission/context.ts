import { gatekeeperInventory } from "../gatekeeper/rego.ts";
import type { KubeObject, LoadedObject } from "../types.ts";
import { admittedObject } from "./defaults.ts";
import type { AdmissionRequest } from "./request.ts";

/** Cross-object facts of one render: Namespaces (for namespaceSelector / namespaceObject) and param objects. */
export interface RenderContext {
  namespace(name: string): KubeObject | undefined;
  /** Objects of a kind (apiVersion "group/version" or "v1"), optionally by name and namespace. */
  find(apiVersion: string, kind: string, name?: string, namespace?: string): KubeObject[];
  /** Gatekeeper's data.inventory: cluster[gv][kind][name] and namespace[ns][gv][kind][name]. */
  inventory(): Record<string, unknown>;
}

/** Builds the context from the rendered objects plus extra objects (params files, suite inventories). */
export function renderContext(objects: ReadonlyArray<LoadedObject | KubeObject>): RenderContext {
  const all = objects.map((o) => ("obj" in o && "source" in o ? o.obj : o) as KubeObject);
  const namespaces = new Map<string, KubeObject>();
  // As stored: with the kubernetes.io/metadata.name label the API server sets on every Namespace.
  for (const o of all)
    if (o.kind === "Namespace" && o.apiVersion === "v1" && o.metadata?.name)
      namespaces.set(o.metadata.name, admittedObject(o));
  let inventory: Record<string, unknown> | undefined;
  return {
    namespace(name) {
      const ns = namespaces.get(name);
      if (ns) return ns;
      // The apiserver labels every Namespace with its own name; a namespace the render does not define
      // still has that label, so selectors on it behave as in the cluster.
      return name
        ? {
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name, labels: { "kubernetes.io/metadata.name": name } },
          }
        : undefined;
    },
    find(apiVersion, kind, name, namespace) {
      return all.filter(
        (o) =>
          o.kind === kind &&
          (apiVersion === "*" || o.apiVersion === apiVersion) &&
          (name === undefined || o.metadata?.name === name) &&
          (namespace === undefined || (o.metadata?.namespace ?? "") === namespace),
      );
    },
    inventory() {
      inventory ??= gatekeeperInventory(all);
      return inventory;
    },
  };
}

/** `namespaceObject` as VAP exposes it: the object's Namespace, or null for cluster-scoped objects. */
export function namespaceObjectFor(
  request: AdmissionRequest,
  ctx: RenderContext,
  clusterScoped: boolean,
): KubeObject | null {
  if (clusterScoped || !request.namespace) return null;
  return ctx.namespace(request.namespace) ?? null;
}
