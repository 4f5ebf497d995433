// The object as admission sees it. The API server decodes a manifest into its typed struct, applies the
// registered defaults and converts it back before any ValidatingAdmissionPolicy or Pod Security check runs,
// so a policy reading a field the manifest leaves out (a Pod's requests when only limits are set, a
// hostNetwork pod's hostPort) judges the defaulted value. This applies the defaults of k8s.io/kubernetes
// pkg/apis/{core,apps}/v1/defaults.go (v1.32) that change what policies see, and the decoding facts: explicit
// nulls vanish, Secret stringData is merged into data, quantities are canonical strings.
// Not applied (differences stay possible): the ServiceAccount admission plugin's token volume, the Job controller's labels, status and managed fields.

import { quantityString } from "../cel/quantity.ts";
import { podTarget } from "../podspec.ts";
import type { KubeObject } from "../types.ts";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => !!v && typeof v === "object" && !Array.isArray(v);

/** A deep copy without null map values (a typed decode leaves a null pointer, slice or map unset). */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = withoutNulls(x);
  return out;
}

const CONTAINER_LISTS = ["containers", "initContainers", "ephemeralContainers"] as const;

/** The tag parsers.ParseImageName reports: the explicit tag, else "latest" unless a digest pins it. */
function imageTag(image: string): string {
  const noDigest = image.split("@")[0]!;
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  if (colon > slash) return noDigest.slice(colon + 1);
  return image.includes("@") ? "" : "latest";
}

/**
 * resource.Quantity fields come back as the server writes them: strings (`cpu: 1` is "1") in canonical form
 * ("0.5" is "500m"). A value that is no quantity stays as it is (the server refuses the object).
 */
function quantityStrings(list: unknown): void {
  if (!isObj(list)) return;
  for (const [k, v] of Object.entries(list)) {
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "bigint") continue;
    try {
      list[k] = quantityString(String(v));
    } catch {
      // Not a quantity: left for the server's (and the decoder's) own error.
    }
  }
}

function defaultContainer(c: Obj): void {
  if (typeof c.image === "string" && c.imagePullPolicy === undefined)
    c.imagePullPolicy = imageTag(c.image) === "latest" ? "Always" : "IfNotPresent";
  // ResourceRequirements is a struct, not a pointer: the server always writes `resources: {}`.
  c.resources ??= {};
  c.terminationMessagePath ??= "/dev/termination-log";
  c.terminationMessagePolicy ??= "File";
  if (Array.isArray(c.ports)) for (const p of c.ports) if (isObj(p)) p.protocol ??= "TCP";
  if (isObj(c.resources)) {
    quantityStrings(c.resources.requests);
    quantityStrings(c.resources.limits);
  }
}

function defaultPodSpec(spec: Obj): void {
  spec.dnsPolicy ??= "ClusterFirst";
  spec.restartPolicy ??= "Always";
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ??= "default-scheduler";
  quantityStrings(spec.overhead);
  if (isObj(spec.resources)) {
    quantityStrings(spec.resources.requests);
    quantityStrings(spec.resources.limits);
  }
  for (const list of CONTAINER_LISTS)
    if (Array.isArray(spec[list])) for (const c of spec[list] as unknown[]) if (isObj(c)) defaultContainer(c);
}

/** SetDefaults_Pod: only Pods, not pod templates. */
function defaultPod(spec: Obj): void {
  for (const list of ["containers", "initContainers"] as const) {
    if (!Array.isArray(spec[list])) continue;
    for (const c of spec[list] as unknown[]) {
      if (!isObj(c)) continue;
      const res = isObj(c.resources) ? c.resources : undefined;
      // Requests default to limits, per resource.
      if (res && isObj(res.limits)) {
        const requests = isObj(res.requests) ? res.requests : {};
        for (const [k, v] of Object.entries(res.limits)) if (!(k in requests)) requests[k] = v;
        res.requests = requests;
      }
      if (spec.hostNetwork === true && Array.isArray(c.ports))
        for (const p of c.ports)
          if (isObj(p) && !p.hostPort && p.containerPort !== undefined) p.hostPort = p.containerPort;
    }
  }
  spec.enableServiceLinks ??= true;
}

/** The object as the API server hands it to admission after decoding and defaulting (a copy). */
export function admittedObject(obj: KubeObject): KubeObject {
  const out = withoutNulls(obj) as KubeObject & Obj;
  const pod = podTarget(out);
  if (pod) {
    defaultPodSpec(pod.spec);
    if (out.kind === "Pod" && out.apiVersion === "v1") defaultPod(pod.spec);
  }
  const spec = isObj(out.spec) ? out.spec : undefined;
  if (out.apiVersion === "apps/v1" && spec && ["Deployment", "ReplicaSet", "StatefulSet"].includes(out.kind))
    spec.replicas ??= 1;
  if (out.apiVersion === "v1" && out.kind === "Secret") {
    out.type ??= "Opaque";
    if (isObj(out.stringData)) {
      const data = isObj(out.data) ? out.data : {};
      for (const [k, v] of Object.entries(out.stringData))
        data[k] = Buffer.from(String(v), "utf8").toString("base64");
      out.data = data;
      delete out.stringData;
    }
  }
  // The namespace strategy labels every Namespace with its own name (PrepareForCreate, before admission).
  if (out.apiVersion === "v1" && out.kind === "Namespace" && out.metadata?.name)
    out.metadata.labels = { ...out.metadata.labels, "kubernetes.io/metadata.name": out.metadata.name };
  if (out.apiVersion === "v1" && out.kind === "Service" && spec) {
    spec.type ??= "ClusterIP";
    spec.sessionAffinity ??= "None";
    if (Array.isArray(spec.ports))
      for (const p of spec.ports)
        if (isObj(p)) {
          p.protocol ??= "TCP";
          if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === "") p.targetPort = p.port;
        }
  }
  return out;
}
