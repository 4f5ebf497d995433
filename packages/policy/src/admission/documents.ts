import { readFileSync } from "node:fs";
import { PlatformError, parseYamlStream } from "@platform/core";
import type { KubeObject, LoadedObject } from "../types.ts";
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
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new PlatformError(
      "POLICY_FILE_UNREADABLE",
      `cannot read ${display}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      { file: display, hint: "Check the path; it is relative to the file that names it.", cause: err },
    );
  }
  const stream = parseYamlStream(text, display);
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
