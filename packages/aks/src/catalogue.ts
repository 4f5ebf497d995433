/**
 * Removed and deprecated Kubernetes API versions, written from the Kubernetes "Deprecated API
 * Migration Guide" (kubernetes.io/docs/reference/using-api/deprecation-guide). Each entry is one
 * group/version/kind that stops being served in `removedIn`, with the API to move to.
 */
export interface ApiRemoval {
  /** apiVersion as written in manifests, e.g. "extensions/v1beta1". */
  apiVersion: string;
  kind: string;
  deprecatedIn: string;
  removedIn: string;
  /** apiVersion to use instead; undefined when the API is gone without a replacement. */
  replacement?: string;
  note?: string;
}

const r = (
  apiVersion: string,
  kinds: string[],
  deprecatedIn: string,
  removedIn: string,
  replacement?: string,
  note?: string,
): ApiRemoval[] => kinds.map((kind) => ({ apiVersion, kind, deprecatedIn, removedIn, replacement, note }));

export const API_REMOVALS: readonly ApiRemoval[] = [
  // v1.16
  ...r("extensions/v1beta1", ["Deployment", "DaemonSet", "ReplicaSet"], "1.9", "1.16", "apps/v1"),
  ...r("apps/v1beta1", ["Deployment", "StatefulSet"], "1.9", "1.16", "apps/v1"),
  ...r("apps/v1beta2", ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"], "1.9", "1.16", "apps/v1"),
  ...r("extensions/v1beta1", ["NetworkPolicy"], "1.9", "1.16", "networking.k8s.io/v1"),
  // policy/v1beta1 took it over in 1.16 but is itself gone since 1.25 (checked against a real 1.32 API server):
  // recommending it would send a manifest from one unserved API to another.
  ...r(
    "extensions/v1beta1",
    ["PodSecurityPolicy"],
    "1.10",
    "1.16",
    undefined,
    "PodSecurityPolicy is removed entirely since 1.25; use Pod Security Admission (namespace labels) or a policy engine",
  ),
  // v1.22
  ...r(
    "admissionregistration.k8s.io/v1beta1",
    ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"],
    "1.16",
    "1.22",
    "admissionregistration.k8s.io/v1",
    "webhooks[*].sideEffects and admissionReviewVersions become required",
  ),
  ...r(
    "apiextensions.k8s.io/v1beta1",
    ["CustomResourceDefinition"],
    "1.16",
    "1.22",
    "apiextensions.k8s.io/v1",
    "spec.versions[*].schema is required",
  ),
  ...r("apiregistration.k8s.io/v1beta1", ["APIService"], "1.19", "1.22", "apiregistration.k8s.io/v1"),
  ...r("authentication.k8s.io/v1beta1", ["TokenReview"], "1.19", "1.22", "authentication.k8s.io/v1"),
  ...r(
    "authorization.k8s.io/v1beta1",
    ["SubjectAccessReview", "LocalSubjectAccessReview", "SelfSubjectAccessReview"],
    "1.19",
    "1.22",
    "authorization.k8s.io/v1",
  ),
  ...r(
    "certificates.k8s.io/v1beta1",
    ["CertificateSigningRequest"],
    "1.19",
    "1.22",
    "certificates.k8s.io/v1",
  ),
  ...r("coordination.k8s.io/v1beta1", ["Lease"], "1.19", "1.22", "coordination.k8s.io/v1"),
  ...r(
    "extensions/v1beta1",
    ["Ingress"],
    "1.14",
    "1.22",
    "networking.k8s.io/v1",
    "spec.backend becomes spec.defaultBackend; pathType is required",
  ),
  ...r(
    "networking.k8s.io/v1beta1",
    ["Ingress"],
    "1.19",
    "1.22",
    "networking.k8s.io/v1",
    "spec.backend becomes spec.defaultBackend; pathType is required",
  ),
  ...r("networking.k8s.io/v1beta1", ["IngressClass"], "1.19", "1.22", "networking.k8s.io/v1"),
  ...r(
    "rbac.authorization.k8s.io/v1beta1",
    ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
    "1.17",
    "1.22",
    "rbac.authorization.k8s.io/v1",
  ),
  ...r("scheduling.k8s.io/v1beta1", ["PriorityClass"], "1.14", "1.22", "scheduling.k8s.io/v1"),
  ...r(
    "storage.k8s.io/v1beta1",
    ["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"],
    "1.19",
    "1.22",
    "storage.k8s.io/v1",
  ),
  // v1.25
  ...r("batch/v1beta1", ["CronJob"], "1.21", "1.25", "batch/v1"),
  ...r("discovery.k8s.io/v1beta1", ["EndpointSlice"], "1.21", "1.25", "discovery.k8s.io/v1"),
  ...r("events.k8s.io/v1beta1", ["Event"], "1.19", "1.25", "events.k8s.io/v1"),
  ...r("autoscaling/v2beta1", ["HorizontalPodAutoscaler"], "1.22", "1.25", "autoscaling/v2"),
  ...r(
    "policy/v1beta1",
    ["PodDisruptionBudget"],
    "1.21",
    "1.25",
    "policy/v1",
    "an empty selector now selects every pod in the namespace",
  ),
  ...r(
    "policy/v1beta1",
    ["PodSecurityPolicy"],
    "1.21",
    "1.25",
    undefined,
    "use Pod Security Admission (namespace labels) or a policy engine",
  ),
  ...r("node.k8s.io/v1beta1", ["RuntimeClass"], "1.20", "1.25", "node.k8s.io/v1"),
  // v1.26
  ...r(
    "flowcontrol.apiserver.k8s.io/v1beta1",
    ["FlowSchema", "PriorityLevelConfiguration"],
    "1.23",
    "1.26",
    "flowcontrol.apiserver.k8s.io/v1",
  ),
  ...r("autoscaling/v2beta2", ["HorizontalPodAutoscaler"], "1.23", "1.26", "autoscaling/v2"),
  // v1.27
  ...r("storage.k8s.io/v1beta1", ["CSIStorageCapacity"], "1.24", "1.27", "storage.k8s.io/v1"),
  // v1.29
  ...r(
    "flowcontrol.apiserver.k8s.io/v1beta2",
    ["FlowSchema", "PriorityLevelConfiguration"],
    "1.26",
    "1.29",
    "flowcontrol.apiserver.k8s.io/v1",
  ),
  // v1.32
  ...r(
    "flowcontrol.apiserver.k8s.io/v1beta3",
    ["FlowSchema", "PriorityLevelConfiguration"],
    "1.29",
    "1.32",
    "flowcontrol.apiserver.k8s.io/v1",
  ),
];

/** The catalogue entry for an apiVersion/kind, if it is deprecated or removed at some version. */
export function lookupApi(apiVersion: string, kind: string): ApiRemoval | undefined {
  return API_REMOVALS.find((e) => e.apiVersion === apiVersion && e.kind === kind);
}
