// What every policy kind judges (an object in its render, as an admission request) and the row it reports.
// Apart from evaluate.ts so the suite runner (`@platform/policy/suites`) does not link the built-in rules,
// manifest rendering and the config loader evaluate.ts brings.
import type { RenderContext } from "./admission/context.ts";
import type { AdmissionRequest } from "./admission/request.ts";
import type { LoadedObject, PolicyResult, Severity } from "./types.ts";

/** A policy compiled once and applied per object; later loaders (VAP, Gatekeeper, Kyverno) add more kinds. */
export interface CompiledPolicy {
  id: string;
  kind: string;
  title: string;
  /** Set when the policy calls libraries that cannot run offline: its evaluation errors are "not supported". */
  unsupported?: string;
  evaluate(target: EvalTarget): PolicyResult[];
}

/** The identifying part of a result row for a policy judging a target (verdict and message to be added). */
export function rowFor(
  t: EvalTarget,
  policy: string,
  severity: Severity,
): Omit<PolicyResult, "verdict" | "message"> {
  return {
    policy,
    kind: t.loaded.obj.kind,
    namespace: t.namespace,
    name: t.loaded.obj.metadata?.name ?? "",
    severity,
    file: t.loaded.source.file,
    line: t.loaded.source.line,
    ...(t.loaded.source.via ? { via: t.loaded.source.via } : {}),
  };
}

/** What a policy sees of one object, with cross-object context from the same render. */
export interface EvalTarget {
  loaded: LoadedObject;
  namespace: string;
  clusterScoped: boolean;
  serviceAccounts: Record<string, unknown>;
  /** The admission request this object would arrive in (CREATE unless a suite says otherwise). */
  request: AdmissionRequest;
  context: RenderContext;
}
