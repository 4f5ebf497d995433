import { readFileSync } from "node:fs";
import { PlatformError } from "@platform/core/errors";
import { parseManifestStreamCached } from "@platform/core/yaml-cache";
import { checkTyped, fieldPath, isBuiltinGroup, TYPED_SCHEMA_VERSION } from "../k8s/schema.ts";
import type { KubeObject, LoadedObject, PolicyResult } from "../types.ts";
import type { ConstraintDoc, ConstraintTemplateDoc } from "./gatekeeper.ts";
import type { KyvernoPolicyDoc } from "./kyverno.ts";
import type { VapBindingDoc, VapDoc } from "./vap.ts";

/** Policy documents found in files, by kind; anything else is kept as a possible param or inventory object. */
export interface PolicyDocuments {
  vaps: VapDoc[];
  bindings: VapBindingDoc[];
  templates: ConstraintTemplateDoc[];
  constraints: ConstraintDoc[];
  kyverno: KyvernoPolicyDoc[];
  others: LoadedObject[];
}

export function emptyDocuments(): PolicyDocuments {
  return { vaps: [], bindings: [], templates: [], constraints: [], kyverno: [], others: [] };
}

/** Sorts objects into policy kinds (admissionregistration, Gatekeeper, Kyverno) and the rest. */
export function classify(objects: LoadedObject[], into: PolicyDocuments = emptyDocuments()): PolicyDocuments {
  for (const o of objects) {
    const { apiVersion, kind } = o.obj;
    const group = apiVersion.split("/")[0];
    if (group === "admissionregistration.k8s.io" && kind === "ValidatingAdmissionPolicy")
      into.vaps.push(o as unknown as VapDoc);
    else if (group === "admissionregistration.k8s.io" && kind === "ValidatingAdmissionPolicyBinding")
      into.bindings.push(o as unknown as VapBindingDoc);
    else if (group === "templates.gatekeeper.sh" && kind === "ConstraintTemplate")
      into.templates.push(o as unknown as ConstraintTemplateDoc);
    else if (group === "constraints.gatekeeper.sh") into.constraints.push(o as unknown as ConstraintDoc);
    else if (
      group === "policies.kyverno.io" &&
      (kind === "ValidatingPolicy" || kind === "NamespacedValidatingPolicy")
    )
      into.kyverno.push(o as unknown as KyvernoPolicyDoc);
    else into.others.push(o);
  }
  return into;
}

/**
 * Reads every document of one YAML file as LoadedObjects (suite files, policy files); errors name file:line.
 * Reads synchronously on purpose: suites are hundreds of tiny files, where a thread-pool round trip per
 * file costs more than the read (a third of `policy test`'s wall time on the gatekeeper-library).
 */
export async function readObjects(path: string, display = path): Promise<LoadedObject[]> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new PlatformError(
      "POLICY_FILE_UNREADABLE",
      `cannot read ${display}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      { file: display, hint: "Check the path; it is relative to the file that names it.", cause: err },
    );
  }
  // Policies and suite objects are objects for the cluster too: read them as the API server would (a
  // bundled run reuses what it parsed from the same bytes before: parsing is most of `policy test`'s time).
  const stream = await parseManifestStreamCached(bytes, display);
  const out: LoadedObject[] = [];
  for (const d of stream.docs) {
    const e = d.errors[0];
    if (e)
      throw new PlatformError("POLICY_FILE_INVALID", `invalid YAML: ${e.message}`, {
        file: display,
        line: e.line,
        column: e.column,
        hint: "Fix the YAML syntax.",
      });
    if (d.value === null || typeof d.value !== "object") continue;
    out.push({
      obj: d.value as KubeObject,
      source: { file: display, line: d.line },
      locate: (p) => stream.position(d, p),
    });
  }
  return out;
}

/** A List's items as kubectl walks them (a List inside a List too), each with its path in the document. */
export function listItems(
  v: unknown,
  path: Array<string | number> = [],
): Array<{ item: unknown; path: Array<string | number> }> {
  if (!isList(v)) return [{ item: v, path }];
  return v.items.flatMap((item, i) => listItems(item, [...path, "items", i]));
}

function isList(v: unknown): v is { items: unknown[] } {
  const o = v as Record<string, unknown> | null;
  return (
    !!o &&
    typeof o === "object" &&
    typeof o.apiVersion === "string" &&
    typeof o.kind === "string" &&
    o.kind.endsWith("List") &&
    Array.isArray(o.items)
  );
}

/**
 * What the API server's typed, strict decoding says about one object: an error row per unknown field or
 * mistyped value (at its file:line); for a kind the schema does not know, its metadata is still checked
 * (the server decodes every object's metadata strictly) and one skip row says the rest was not.
 */
export function decodeResults(
  obj: KubeObject,
  at: { file: string; line: number; via?: string },
  locate: (path: Array<string | number>) => { line: number; column?: number } | undefined,
): PolicyResult[] {
  // The name as the server would read it, when it is a string at all (a `name: y` is the boolean true).
  const name = [obj.metadata.name, obj.metadata.generateName].find((n) => typeof n === "string") ?? "";
  const row = (
    r: Pick<PolicyResult, "policy" | "verdict" | "message" | "severity"> & Partial<PolicyResult>,
  ): PolicyResult => ({
    kind: String(obj.kind),
    namespace: typeof obj.metadata.namespace === "string" ? obj.metadata.namespace : "",
    name,
    file: at.file,
    line: at.line,
    ...(at.via ? { via: at.via } : {}),
    ...r,
  });
  const typed = checkTyped(obj as unknown as Record<string, unknown>);
  const notChecked = typed.known
    ? []
    : [
        row({
          policy: "input/schema",
          verdict: "skip",
          severity: "warning",
          message: isBuiltinGroup(obj.apiVersion)
            ? `${obj.apiVersion} ${obj.kind} is not served by Kubernetes ${TYPED_SCHEMA_VERSION} (the release whose schema this check carries): its fields other than metadata were not checked for unknown or mistyped fields`
            : `${obj.apiVersion} ${obj.kind} is not a built-in kind of Kubernetes ${TYPED_SCHEMA_VERSION}: its fields other than metadata were not checked for unknown or mistyped fields (the cluster checks a custom resource against its CRD's schema)`,
        }),
      ];
  const refused = typed.issues.map((i) => {
    const pos = locate(i.path);
    return row({
      policy: i.kind === "unknown-field" ? "input/unknown-field" : "input/decode",
      verdict: "error",
      severity: "error",
      cause: "input",
      field: fieldPath(i.path),
      line: pos?.line ?? at.line,
      ...(pos?.column ? { column: pos.column } : {}),
      message:
        i.kind === "unknown-field"
          ? `strict decoding error: ${i.message}: the API server refuses the object (kubectl applies with --validate=strict by default). Fix the field name or remove it`
          : `${i.message}: the API server refuses the object. Write the value with the type the field needs`,
    });
  });
  return [...refused, ...notChecked];
}
