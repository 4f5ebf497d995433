import { groupVersion, resourceOf } from "../k8s/match.ts";
import { isClusterScoped } from "../podspec.ts";
import type { KubeObject } from "../types.ts";

/** The admission request attributes CEL policies see as `request` (admission.k8s.io/v1 AdmissionRequest). */
export interface AdmissionRequest {
  uid: string;
  operation: "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
  kind: { group: string; version: string; kind: string };
  resource: { group: string; version: string; resource: string };
  requestKind: { group: string; version: string; kind: string };
  requestResource: { group: string; version: string; resource: string };
  name: string;
  namespace: string;
  userInfo: { username: string; groups: string[] };
  dryRun: boolean;
  object: KubeObject | null;
  oldObject: KubeObject | null;
  options?: unknown;
  subResource?: string;
}

/** The request a GitOps controller's server-side apply of a new object produces (CREATE by the controller). */
export function createRequest(obj: KubeObject): AdmissionRequest {
  const { group, version } = groupVersion(obj);
  const kind = { group, version, kind: obj.kind };
  const resource = { group, version, resource: resourceOf(obj.kind) };
  return {
    uid: "00000000-0000-0000-0000-000000000000",
    operation: "CREATE",
    kind,
    resource,
    requestKind: kind,
    requestResource: resource,
    name: obj.metadata?.name ?? "",
    // The apiserver sends no namespace for cluster-scoped kinds, whatever the manifest says.
    namespace: isClusterScoped(obj) ? "" : (obj.metadata?.namespace ?? ""),
    userInfo: {
      username: "system:serviceaccount:flux-system:kustomize-controller",
      groups: ["system:serviceaccounts", "system:authenticated"],
    },
    dryRun: true,
    object: obj,
    oldObject: null,
  };
}

/** Where a namespaced object whose manifest names no namespace is created (kubectl's, gator's and kyverno test's fill). */
export const DEFAULT_NAMESPACE = "default";

/**
 * The request for a namespaced object whose manifest names no namespace, as the server receives it from a
 * client that fills the default: the namespace is on the request and on the object (the create handler
 * copies it before admission), so `namespaceObject` and namespaceSelectors see it.
 */
export function inDefaultNamespace(r: AdmissionRequest, clusterScoped: boolean): AdmissionRequest {
  if (clusterScoped || r.namespace) return r;
  const fill = (o: KubeObject | null) =>
    o && !o.metadata?.namespace ? { ...o, metadata: { ...o.metadata, namespace: DEFAULT_NAMESPACE } } : o;
  return { ...r, namespace: DEFAULT_NAMESPACE, object: fill(r.object), oldObject: fill(r.oldObject) };
}

/** Whether a document is an AdmissionReview (test suites use them for UPDATE/DELETE cases). */
export function isAdmissionReview(v: unknown): v is { request: Partial<AdmissionRequest> } {
  const o = v as { kind?: unknown; request?: unknown } | null;
  return !!o && o.kind === "AdmissionReview" && !!o.request && typeof o.request === "object";
}

/** Completes an AdmissionReview's request with the attributes a real apiserver would fill in. */
export function requestFromReview(review: { request: Partial<AdmissionRequest> }): AdmissionRequest {
  const r = review.request;
  const obj = (r.object ?? r.oldObject ?? null) as KubeObject | null;
  const base = obj ? createRequest(obj) : undefined;
  return {
    ...(base ?? ({} as AdmissionRequest)),
    ...r,
    operation: (r.operation ?? "CREATE") as AdmissionRequest["operation"],
    object: (r.object ?? null) as KubeObject | null,
    oldObject: (r.oldObject ?? null) as KubeObject | null,
    name: r.name ?? obj?.metadata?.name ?? "",
    namespace: r.namespace ?? obj?.metadata?.namespace ?? "",
  } as AdmissionRequest;
}
