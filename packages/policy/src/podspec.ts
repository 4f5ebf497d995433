import type { KubeObject } from "./types.ts";

/** Where a workload kind keeps its pod template. */
const POD_TEMPLATE_PATHS: Record<string, string[]> = {
  Pod: [],
  PodTemplate: ["template"],
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  ReplicationController: ["spec", "template"],
  Job: ["spec", "template"],
  Rollout: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
};

export interface PodTarget {
  spec: Record<string, unknown>;
  meta: Record<string, unknown>;
  /** Path of the pod spec inside the object (for file:line of findings). */
  specPath: Array<string | number>;
}

/** The pod spec of any workload kind (Argo Rollouts with a workloadRef have none of their own). */
export function podTarget(obj: KubeObject): PodTarget | undefined {
  const base = POD_TEMPLATE_PATHS[obj.kind];
  if (!base) return undefined;
  if (obj.kind === "Rollout" && !obj.apiVersion.startsWith("argoproj.io/")) return undefined;
  let node: unknown = obj;
  for (const k of base) node = (node as Record<string, unknown> | undefined)?.[k];
  const template = node as Record<string, unknown> | undefined;
  const spec = template?.spec as Record<string, unknown> | undefined;
  if (!spec || typeof spec !== "object") return undefined;
  const meta = (base.length === 0 ? obj.metadata : template?.metadata) as Record<string, unknown> | undefined;
  return { spec, meta: meta ?? {}, specPath: [...base, "spec"] };
}

/** Kinds that are not namespaced (core and common platform CRDs). */
export const CLUSTER_SCOPED = new Set([
  "Namespace",
  "Node",
  "PersistentVolume",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "StorageClass",
  "PriorityClass",
  "IngressClass",
  "RuntimeClass",
  "CSIDriver",
  "VolumeSnapshotClass",
  "APIService",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "MutatingAdmissionPolicy",
  "MutatingAdmissionPolicyBinding",
  "GatewayClass",
  "ClusterIssuer",
  "ConstraintTemplate",
  "ClusterPolicy",
  "ValidatingPolicy",
  "ClusterSecretStore",
  "FlowSchema",
  "PriorityLevelConfiguration",
]);

export function isClusterScoped(obj: KubeObject): boolean {
  return CLUSTER_SCOPED.has(obj.kind) || obj.apiVersion.startsWith("constraints.gatekeeper.sh/");
}
