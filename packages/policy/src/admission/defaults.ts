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

/** SetDefaults_Probe and SetDefaults_HTTPGetAction. */
function defaultProbe(p: unknown): void {
  if (!isObj(p)) return;
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (isObj(p.httpGet)) p.httpGet.scheme ??= "HTTP";
}

/** SetDefaults_ObjectFieldSelector: a fieldRef names its API version. */
function defaultFieldRef(ref: unknown): void {
  if (isObj(ref)) ref.apiVersion ??= "v1";
}

/** The volume sources' defaults (SetDefaults_{Secret,ConfigMap,DownwardAPI,Projected}VolumeSource, HostPath). */
function defaultVolume(v: Obj): void {
  for (const src of ["secret", "configMap", "downwardAPI", "projected"] as const)
    if (isObj(v[src])) (v[src] as Obj).defaultMode ??= 0o644;
  if (isObj(v.hostPath)) v.hostPath.type ??= "";
  if (isObj(v.downwardAPI) && Array.isArray(v.downwardAPI.items))
    for (const it of v.downwardAPI.items) if (isObj(it)) defaultFieldRef(it.fieldRef);
  if (isObj(v.projected) && Array.isArray(v.projected.sources))
    for (const src of v.projected.sources) {
      if (!isObj(src)) continue;
      if (isObj(src.serviceAccountToken)) src.serviceAccountToken.expirationSeconds ??= 3600;
      if (isObj(src.downwardAPI) && Array.isArray(src.downwardAPI.items))
        for (const it of src.downwardAPI.items) if (isObj(it)) defaultFieldRef(it.fieldRef);
    }
  const claim =
    isObj(v.ephemeral) && isObj(v.ephemeral.volumeClaimTemplate)
      ? v.ephemeral.volumeClaimTemplate
      : undefined;
  if (claim && isObj(claim.spec)) claim.spec.volumeMode ??= "Filesystem";
}

function defaultContainer(c: Obj): void {
  if (typeof c.image === "string" && c.imagePullPolicy === undefined)
    c.imagePullPolicy = imageTag(c.image) === "latest" ? "Always" : "IfNotPresent";
  // ResourceRequirements is a struct, not a pointer: the server always writes `resources: {}`.
  c.resources ??= {};
  c.terminationMessagePath ??= "/dev/termination-log";
  c.terminationMessagePolicy ??= "File";
  if (Array.isArray(c.ports)) for (const p of c.ports) if (isObj(p)) p.protocol ??= "TCP";
  for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) defaultProbe(c[probe]);
  if (Array.isArray(c.env))
    for (const e of c.env) if (isObj(e) && isObj(e.valueFrom)) defaultFieldRef(e.valueFrom.fieldRef);
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
  if (Array.isArray(spec.volumes)) for (const v of spec.volumes) if (isObj(v)) defaultVolume(v);
  // v1 conversion: the deprecated serviceAccount field mirrors serviceAccountName.
  if (typeof spec.serviceAccountName === "string" && spec.serviceAccountName)
    spec.serviceAccount ??= spec.serviceAccountName;
  omitZeroValues(spec);
}

/**
 * What the typed round trip drops: PodSpec and Container fields are `omitempty`, so an empty list or map,
 * a false host namespace switch and a zero hostPort vanish (a policy's has() then says false, as on the
 * server). With the ProcMountType feature off (1.32's default) any procMount is written back as Default.
 */
function omitZeroValues(spec: Obj): void {
  for (const k of ["hostNetwork", "hostPID", "hostIPC"]) if (spec[k] === false) delete spec[k];
  dropEmptyLists(spec);
  for (const list of CONTAINER_LISTS)
    for (const c of Array.isArray(spec[list]) ? (spec[list] as unknown[]) : []) {
      if (!isObj(c)) continue;
      dropEmptyLists(c);
      if (Array.isArray(c.ports))
        for (const p of c.ports) if (isObj(p) && p.hostPort === 0) delete p.hostPort;
      if (isObj(c.resources))
        for (const k of ["requests", "limits"])
          if (isObj(c.resources[k]) && Object.keys(c.resources[k] as Obj).length === 0) delete c.resources[k];
      const sc = isObj(c.securityContext) ? c.securityContext : undefined;
      if (sc && sc.procMount !== undefined) sc.procMount = "Default";
      if (sc && isObj(sc.capabilities)) dropEmptyLists(sc.capabilities);
    }
}

function dropEmptyLists(o: Obj): void {
  for (const [k, v] of Object.entries(o)) if (Array.isArray(v) && v.length === 0) delete o[k];
}

/** Empty label and annotation maps vanish (ObjectMeta's maps are `omitempty`). */
function omitEmptyMeta(meta: unknown): void {
  if (!isObj(meta)) return;
  for (const k of ["labels", "annotations"])
    if (isObj(meta[k]) && Object.keys(meta[k] as Obj).length === 0) delete meta[k];
}

const at = (o: Obj, key: string): Obj => {
  if (!isObj(o[key])) o[key] = {};
  return o[key] as Obj;
};

/**
 * apps/v1 and batch/v1 defaults (pkg/apis/{apps,batch}/v1/defaults.go) and what their create strategies add
 * before admission. A Job's generated selector and controller-uid labels carry its uid and are left out.
 */
function defaultController(out: KubeObject & Obj, spec: Obj): void {
  const kind = `${out.apiVersion}/${out.kind}`;
  if (kind === "apps/v1/Deployment" || kind === "apps/v1/StatefulSet" || kind === "apps/v1/ReplicaSet")
    spec.replicas ??= 1;
  if (kind === "apps/v1/Deployment") {
    const strategy = at(spec, "strategy");
    strategy.type ??= "RollingUpdate";
    if (strategy.type === "RollingUpdate") {
      const ru = at(strategy, "rollingUpdate");
      ru.maxUnavailable ??= "25%";
      ru.maxSurge ??= "25%";
    }
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
  }
  if (kind === "apps/v1/StatefulSet") {
    spec.podManagementPolicy ??= "OrderedReady";
    const strategy = at(spec, "updateStrategy");
    if (strategy.type === undefined) {
      strategy.type = "RollingUpdate";
      at(strategy, "rollingUpdate");
    }
    if (strategy.type === "RollingUpdate" && isObj(strategy.rollingUpdate))
      strategy.rollingUpdate.partition ??= 0;
    spec.revisionHistoryLimit ??= 10;
    const retention = at(spec, "persistentVolumeClaimRetentionPolicy");
    retention.whenDeleted ??= "Retain";
    retention.whenScaled ??= "Retain";
    if (Array.isArray(spec.volumeClaimTemplates))
      for (const t of spec.volumeClaimTemplates) {
        if (!isObj(t)) continue;
        t.apiVersion ??= "v1";
        t.kind ??= "PersistentVolumeClaim";
        nullTimestamp(at(t, "metadata"));
        at(t, "spec").volumeMode ??= "Filesystem";
        at(t, "status").phase ??= "Pending";
      }
  }
  if (kind === "apps/v1/DaemonSet") {
    const strategy = at(spec, "updateStrategy");
    strategy.type ??= "RollingUpdate";
    if (strategy.type === "RollingUpdate") {
      const ru = at(strategy, "rollingUpdate");
      ru.maxUnavailable ??= 1;
      ru.maxSurge ??= 0;
    }
    spec.revisionHistoryLimit ??= 10;
    // The DaemonSet strategy's PrepareForCreate.
    out.metadata.annotations = {
      "deprecated.daemonset.template.generation": "1",
      ...out.metadata.annotations,
    };
  }
  if (kind === "batch/v1/Job") defaultJob(out, spec);
  if (kind === "batch/v1/CronJob") {
    spec.concurrencyPolicy ??= "Allow";
    spec.suspend ??= false;
    spec.successfulJobsHistoryLimit ??= 3;
    spec.failedJobsHistoryLimit ??= 1;
  }
}

/** SetDefaults_Job, and the Job strategy's generated name labels on the pod template. */
function defaultJob(out: KubeObject & Obj, spec: Obj): void {
  // Labels default to the template's before the strategy adds its own (defaulting runs at decode).
  const template = at(spec, "template");
  const meta = at(template, "metadata");
  const labels = isObj(meta.labels) ? (meta.labels as Record<string, string>) : undefined;
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= "NonIndexed";
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= isObj(spec.podFailurePolicy) ? "Failed" : "TerminatingOrFailed";
  spec.manualSelector ??= false;
  if (spec.manualSelector !== true && out.metadata.name) {
    const name = out.metadata.name;
    meta.labels = { ...labels, "batch.kubernetes.io/job-name": name, "job-name": name };
  }
  // A Job without labels takes its template's, as the strategy leaves them.
  const final = isObj(meta.labels) ? (meta.labels as Record<string, string>) : undefined;
  if (!out.metadata.labels || Object.keys(out.metadata.labels).length === 0)
    if (final && Object.keys(final).length) out.metadata.labels = { ...final };
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

const TOKEN_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";
/** The API server's token volume name has a random suffix; this stands in for it. */
export const TOKEN_VOLUME = "kube-api-access-00000";
const PRIORITY_CLASSES: Record<string, number> = {
  "system-node-critical": 2000001000,
  "system-cluster-critical": 2000000000,
};

/**
 * The mutating admission plugins a Pod passes before validation (kube-apiserver 1.32's defaults):
 * ServiceAccount (the default account and its projected token volume), DefaultTolerationSeconds, Priority, and
 * the pod strategy's AppArmor annotations. The token volume assumes the ServiceAccount does not opt out.
 */
function podAdmission(pod: KubeObject & Obj, spec: Obj): void {
  spec.serviceAccountName ||= "default";
  spec.serviceAccount ||= spec.serviceAccountName;
  const volumes = Array.isArray(spec.volumes) ? (spec.volumes as Obj[]) : [];
  const mounted = (c: Obj) =>
    Array.isArray(c.volumeMounts) && c.volumeMounts.some((m) => isObj(m) && m.mountPath === TOKEN_MOUNT);
  if (spec.automountServiceAccountToken !== false) {
    spec.volumes = [
      ...volumes,
      {
        name: TOKEN_VOLUME,
        projected: {
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
            { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
            {
              downwardAPI: {
                items: [
                  { path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } },
                ],
              },
            },
          ],
          defaultMode: 0o644,
        },
      },
    ];
    for (const list of ["containers", "initContainers"])
      for (const c of Array.isArray(spec[list]) ? (spec[list] as unknown[]) : [])
        if (isObj(c) && !mounted(c))
          c.volumeMounts = [
            ...(Array.isArray(c.volumeMounts) ? c.volumeMounts : []),
            { name: TOKEN_VOLUME, readOnly: true, mountPath: TOKEN_MOUNT },
          ];
  }
  const tolerations = Array.isArray(spec.tolerations) ? (spec.tolerations as Obj[]) : [];
  const tolerates = (key: string) =>
    tolerations.some(
      (t) =>
        isObj(t) &&
        (t.effect === "NoExecute" || !t.effect) &&
        (t.key === key || (!t.key && t.operator === "Exists")),
    );
  const extra = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]
    .filter((key) => !tolerates(key))
    .map((key) => ({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }));
  if (extra.length) spec.tolerations = [...tolerations, ...extra];
  const cls = typeof spec.priorityClassName === "string" ? spec.priorityClassName : "";
  if (!cls) spec.priority ??= 0;
  else if (cls in PRIORITY_CLASSES) spec.priority ??= PRIORITY_CLASSES[cls];
  if (!cls || cls in PRIORITY_CLASSES) spec.preemptionPolicy ??= "PreemptLowerPriority";
  appArmorAnnotations(pod, spec);
}

/** The pod strategy writes each container's AppArmor profile (field) into the beta annotation too. */
function appArmorAnnotations(pod: KubeObject & Obj, spec: Obj): void {
  const annotation = (p: unknown): string | undefined => {
    if (!isObj(p)) return undefined;
    if (p.type === "Unconfined") return "unconfined";
    if (p.type === "RuntimeDefault") return "runtime/default";
    if (p.type === "Localhost" && typeof p.localhostProfile === "string")
      return `localhost/${p.localhostProfile}`;
    return undefined;
  };
  const podProfile = isObj(spec.securityContext) ? spec.securityContext.appArmorProfile : undefined;
  const add: Record<string, string> = {};
  for (const list of CONTAINER_LISTS)
    for (const c of Array.isArray(spec[list]) ? (spec[list] as unknown[]) : []) {
      if (!isObj(c) || typeof c.name !== "string") continue;
      const own = isObj(c.securityContext) ? c.securityContext.appArmorProfile : undefined;
      const value = annotation(own ?? podProfile);
      if (value) add[`container.apparmor.security.beta.kubernetes.io/${c.name}`] = value;
    }
  if (Object.keys(add).length) pod.metadata.annotations = { ...add, ...pod.metadata.annotations };
}

/** Templates' ObjectMeta is a struct whose unset creationTimestamp the server writes as null. */
function nullTimestamp(meta: unknown): void {
  if (isObj(meta) && !("creationTimestamp" in meta)) meta.creationTimestamp = null;
}

/** The object as the API server hands it to admission after decoding and defaulting (a copy). */
export function admittedObject(obj: KubeObject): KubeObject {
  const out = withoutNulls(obj) as KubeObject & Obj;
  const pod = podTarget(out);
  const isPod = out.kind === "Pod" && out.apiVersion === "v1";
  if (pod) {
    defaultPodSpec(pod.spec);
    if (isPod) {
      defaultPod(pod.spec);
      podAdmission(out, pod.spec);
    } else if (out.apiVersion === "apps/v1" || out.apiVersion === "batch/v1" || out.apiVersion === "v1") {
      // A built-in template's ObjectMeta is a struct: present (with a null timestamp) even when unwritten.
      const template = pod.specPath.slice(0, -1).reduce<Obj>((n, k) => n[k] as Obj, out);
      const meta = at(template, "metadata");
      omitEmptyMeta(meta);
      nullTimestamp(meta);
    }
  }
  omitEmptyMeta(out.metadata);
  const spec = isObj(out.spec) ? out.spec : undefined;
  if (spec) defaultController(out, spec);
  if (out.apiVersion === "batch/v1" && out.kind === "CronJob" && spec && isObj(spec.jobTemplate))
    nullTimestamp(at(spec.jobTemplate as Obj, "metadata"));
  for (const v of pod && Array.isArray(pod.spec.volumes) ? (pod.spec.volumes as unknown[]) : [])
    if (isObj(v) && isObj(v.ephemeral) && isObj(v.ephemeral.volumeClaimTemplate))
      nullTimestamp(at(v.ephemeral.volumeClaimTemplate as Obj, "metadata"));
  // StorageObjectInUseProtection admission.
  if (out.apiVersion === "v1" && out.kind === "PersistentVolumeClaim")
    out.metadata.finalizers = [
      ...new Set([
        ...((out.metadata.finalizers as string[] | undefined) ?? []),
        "kubernetes.io/pvc-protection",
      ]),
    ];
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
  if (out.apiVersion === "v1" && out.kind === "PersistentVolumeClaim" && spec)
    spec.volumeMode ??= "Filesystem";
  if (out.apiVersion === "networking.k8s.io/v1" && out.kind === "NetworkPolicy" && spec) {
    for (const dir of ["ingress", "egress"])
      if (Array.isArray(spec[dir]))
        for (const rule of spec[dir] as unknown[])
          if (isObj(rule) && Array.isArray(rule.ports))
            for (const p of rule.ports) if (isObj(p)) p.protocol ??= "TCP";
    spec.policyTypes ??= ["Ingress", ...(Array.isArray(spec.egress) && spec.egress.length ? ["Egress"] : [])];
  }
  if (out.apiVersion === "autoscaling/v2" && out.kind === "HorizontalPodAutoscaler" && spec) {
    spec.minReplicas ??= 1;
    spec.metrics ??= [
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } },
      },
    ];
  }
  if (out.apiVersion === "v1" && out.kind === "Service" && spec) {
    spec.type ??= "ClusterIP";
    spec.sessionAffinity ??= "None";
    if (spec.type !== "ExternalName") spec.internalTrafficPolicy ??= "Cluster";
    if (spec.type === "NodePort" || spec.type === "LoadBalancer") spec.externalTrafficPolicy ??= "Cluster";
    if (spec.type === "LoadBalancer") spec.allocateLoadBalancerNodePorts ??= true;
    if (Array.isArray(spec.ports))
      for (const p of spec.ports)
        if (isObj(p)) {
          p.protocol ??= "TCP";
          if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === "") p.targetPort = p.port;
        }
  }
  return out;
}
