import type { CelEngine } from "../cel/engine.ts";
import { globMatches, groupVersion, type LabelSelector, selectorMatches } from "../k8s/match.ts";
import { type CompiledPolicy, type EvalTarget, rowFor } from "../target.ts";
import type { KubeObject, PolicyResult, SourceRef, Verdict } from "../types.ts";
import { namespaceObjectFor } from "./context.ts";
import type { AdmissionRequest } from "./request.ts";
import { compileValidation, type ValidationSource } from "./validation.ts";

export interface TemplateCode {
  engine: string;
  source: ValidationSource & { rego?: string; libs?: string[] };
}

export interface ConstraintTemplateDoc {
  obj: KubeObject & {
    spec: {
      crd?: { spec?: { names?: { kind?: string } } };
      targets?: Array<{ target?: string; rego?: string; libs?: string[]; code?: TemplateCode[] }>;
    };
  };
  source: SourceRef;
}

export interface GatekeeperMatch {
  kinds?: Array<{ apiGroups?: string[]; kinds?: string[] }>;
  namespaces?: string[];
  excludedNamespaces?: string[];
  labelSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  scope?: "*" | "Cluster" | "Namespaced";
  name?: string;
}

export interface ConstraintDoc {
  obj: KubeObject & {
    spec?: {
      match?: GatekeeperMatch;
      parameters?: unknown;
      enforcementAction?: string;
      scopedEnforcementActions?: Array<{ action: string; enforcementPoints?: Array<{ name: string }> }>;
    };
  };
  source: SourceRef;
}

/** Evaluates a template's Rego for one review; provided by the Rego (OPA wasm) module when available. */
export type RegoRunner = (
  input: { review: unknown; parameters: unknown },
  data: { inventory: unknown },
) => Array<{ msg: string }>;

/** How each template kind is run: its CEL code, its Rego through OPA, or not at all (with the reason). */
export type TemplateEngine =
  | { engine: "cel"; validation: ReturnType<typeof compileValidation> }
  | { engine: "rego"; run: RegoRunner }
  | { engine: "none"; reason: string };

/** Template kind as its CRD names it. */
export function templateKind(t: ConstraintTemplateDoc): string {
  return t.obj.spec?.crd?.spec?.names?.kind ?? "";
}

/** The CEL source of a template (K8sNativeValidation), if it has one. */
export function celSource(t: ConstraintTemplateDoc): ValidationSource | undefined {
  for (const target of t.obj.spec?.targets ?? [])
    for (const c of target.code ?? []) if (c.engine === "K8sNativeValidation") return c.source;
  return undefined;
}

/** Gatekeeper's CEL environment prefix: `variables.anyObject` and `variables.params` come before the template's own. */
export function gatekeeperCel(
  t: ConstraintTemplateDoc,
  engine: CelEngine,
): ReturnType<typeof compileValidation> | undefined {
  const src = celSource(t);
  if (!src) return undefined;
  return compileValidation(
    {
      ...src,
      variables: [
        {
          name: "anyObject",
          expression:
            'has(request.operation) && request.operation == "DELETE" && object == null ? oldObject : object',
        },
        { name: "params", expression: "gatekeeperParameters" },
        ...(src.variables ?? []),
      ],
    },
    engine,
    { policy: templateKind(t), file: t.source.file, line: t.source.line },
  );
}

function isNamespace(o: KubeObject): boolean {
  return o.kind === "Namespace" && groupVersion(o).group === "";
}

/** Gatekeeper's match semantics (kinds, scope, namespaces with globs, excludedNamespaces, selectors, name). */
export function gatekeeperMatches(m: GatekeeperMatch | undefined, t: EvalTarget, obj: KubeObject): boolean {
  if (!m) return true;
  const { group } = groupVersion(obj);
  if (m.kinds?.length) {
    const ok = m.kinds.some(
      (k) =>
        (!k.apiGroups?.length || k.apiGroups.includes("*") || k.apiGroups.includes(group)) &&
        (!k.kinds?.length || k.kinds.includes("*") || k.kinds.includes(obj.kind)),
    );
    if (!ok) return false;
  }
  const scope = m.scope ?? "*";
  if (scope === "Cluster" && !t.clusterScoped) return false;
  if (scope === "Namespaced" && t.clusterScoped) return false;
  // A Namespace is matched by its own name; other cluster-scoped objects ignore namespace criteria.
  const ns = isNamespace(obj)
    ? (obj.metadata?.name ?? "")
    : t.clusterScoped
      ? undefined
      : t.request.namespace || t.namespace;
  if (ns !== undefined) {
    if (m.namespaces?.length && !m.namespaces.some((p) => globMatches(p, ns))) return false;
    if (m.excludedNamespaces?.some((p) => globMatches(p, ns))) return false;
  }
  if (m.labelSelector && !selectorMatches(m.labelSelector, obj.metadata?.labels)) return false;
  if (m.namespaceSelector) {
    if (isNamespace(obj)) {
      if (!selectorMatches(m.namespaceSelector, obj.metadata?.labels)) return false;
    } else if (!t.clusterScoped) {
      if (
        !selectorMatches(
          m.namespaceSelector,
          t.context.namespace(t.request.namespace || t.namespace)?.metadata?.labels,
        )
      )
        return false;
    }
  }
  if (m.name && !globMatches(m.name, obj.metadata?.name ?? "")) return false;
  return true;
}

/** deny → fail; dryrun and warn → warn (reported, not blocking); scoped → the action for admission validation. */
function enforcement(c: ConstraintDoc): { verdict: Verdict; action: string } {
  let action = c.obj.spec?.enforcementAction ?? "deny";
  if (action === "scoped") {
    const forValidation = c.obj.spec?.scopedEnforcementActions?.find(
      (s) =>
        !s.enforcementPoints ||
        s.enforcementPoints.some((p) => p.name === "validation.gatekeeper.sh" || p.name === "*"),
    );
    action = forValidation?.action ?? "dryrun";
  }
  return { verdict: action === "deny" ? "fail" : "warn", action };
}

/** The object a review judges: the new object, or the old one on DELETE. */
function reviewedObject(r: AdmissionRequest): KubeObject | null {
  return r.operation === "DELETE" && !r.object ? r.oldObject : r.object;
}

/** Compiles each constraint against its template's engine. */
export function compileConstraints(
  constraints: ConstraintDoc[],
  engines: Map<string, TemplateEngine>,
): { policies: CompiledPolicy[]; notes: PolicyResult[] } {
  const policies: CompiledPolicy[] = [];
  const notes: PolicyResult[] = [];
  for (const c of constraints) {
    const kind = c.obj.kind;
    const name = c.obj.metadata?.name ?? "";
    const id = `${kind}/${name}`;
    const engine = engines.get(kind);
    const note = (message: string, verdict: Verdict = "error"): PolicyResult => ({
      policy: id,
      kind,
      namespace: "",
      name,
      verdict,
      severity: "error",
      message,
      file: c.source.file,
      line: c.source.line,
    });
    if (!engine) {
      notes.push(note(`no ConstraintTemplate defines kind ${kind}; include the template in \`policies\``));
      continue;
    }
    if (engine.engine === "none") {
      notes.push(note(`constraint not evaluated: ${engine.reason}`, "skip"));
      continue;
    }
    const { verdict, action } = enforcement(c);
    const parameters = c.obj.spec?.parameters ?? null;
    policies.push({
      id,
      kind: "Constraint",
      title: `${kind} ${name} (${action})`,
      evaluate(t) {
        const obj = reviewedObject(t.request);
        if (!obj || !gatekeeperMatches(c.obj.spec?.match, t, obj)) return [];
        const base = rowFor(t, id, verdict === "fail" ? "error" : "warning");
        const rows: PolicyResult[] = [];
        if (engine.engine === "cel") {
          const outcome = engine.validation.run({
            object: t.request.object,
            oldObject: t.request.oldObject,
            request: t.request,
            params: c.obj,
            gatekeeperParameters: parameters,
            namespaceObject: namespaceObjectFor(t.request, t.context, t.clusterScoped),
          });
          // Gatekeeper's CEL driver fails closed: an expression error is a violation.
          if (outcome.kind === "evaluated")
            for (const f of outcome.failures) rows.push({ ...base, verdict, message: f.message });
        } else {
          let violations: Array<{ msg: string }>;
          try {
            violations = engine.run(
              { review: t.request, parameters: parameters ?? {} },
              { inventory: t.context.inventory() },
            );
          } catch (err) {
            violations = [
              { msg: `Rego evaluation failed: ${err instanceof Error ? err.message : String(err)}` },
            ];
          }
          for (const v of violations) rows.push({ ...base, verdict, message: v.msg });
        }
        return rows.length ? rows : [{ ...base, verdict: "pass", message: "" }];
      },
    });
  }
  return { policies, notes };
}
