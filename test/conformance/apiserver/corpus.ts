// The object corpus the API server and `policy check` both judge: pod-bearing workloads generated as the
// product of security-context profiles and pod features (every kind sees every pair), other kinds the
// guardrails look at, and hand-written adversarial objects (empty lists, explicit nulls, odd quantities).
// Every object is valid for the API server's own validation, which runs before admission: an object the
// server rejects as invalid never reaches a policy, so it would compare nothing.
import type { KubeObject } from "@platform/policy";
import { authorizationPolicySpecs, PEER_AUTHENTICATION_SPECS } from "../../fixtures/istio.ts";

export interface CorpusObject {
  /** Unique id, also the object's name. */
  id: string;
  obj: KubeObject;
  /** Whether PSA judges it (pods directly, workloads through their template). */
  podBearing: boolean;
  /** Set for a pod whose ephemeral container arrives through pods/ephemeralcontainers (this variant). */
  ephemeral?: string;
}

export const TRUSTED = "registry.example.com";
const DIGEST = `@sha256:${"a".repeat(64)}`;
const GOOD_IMAGE = `${TRUSTED}/shop/api${DIGEST}`;

/** Namespaces of the VAP corpus and their labels (the API server adds kubernetes.io/metadata.name). */
export const VAP_NAMESPACES: Record<string, Record<string, string>> = {
  "vap-team-a": { env: "prod", team: "a" },
  "vap-team-b": { env: "dev", team: "b" },
  "vap-sandbox": {},
};
/** Namespaces the built-ins' teamNamespaces parameter names. */
export const TEAM_NAMESPACES = ["vap-team-a", "vap-team-b"];

type Obj = Record<string, unknown>;
type Container = Obj & { name: string };

interface Profile {
  name: string;
  pod?: Obj;
  container?: Obj;
  /** Containers of the pod other than the first (defaults from the feature). */
  windows?: boolean;
}

const restrictedContainer: Obj = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  readOnlyRootFilesystem: true,
};
const restrictedPod: Obj = { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } };

/** A pod spec every built-in guardrail accepts. */
function compliantSpec(): Obj {
  return {
    securityContext: structuredClone(restrictedPod),
    containers: [
      {
        name: "main",
        image: GOOD_IMAGE,
        securityContext: structuredClone(restrictedContainer),
        resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "128Mi" } },
      },
    ],
  };
}

/** Security-context profiles: each is one way a spec passes or violates a control. */
const PROFILES: Profile[] = [
  { name: "none" },
  { name: "restricted", pod: restrictedPod, container: restrictedContainer },
  { name: "root-user", pod: restrictedPod, container: { ...restrictedContainer, runAsUser: 0 } },
  { name: "privileged", container: { privileged: true } },
  {
    name: "privileged-false",
    pod: restrictedPod,
    container: { ...restrictedContainer, privileged: false },
  },
  {
    name: "cap-sys-admin",
    pod: restrictedPod,
    container: { ...restrictedContainer, capabilities: { drop: ["ALL"], add: ["SYS_ADMIN"] } },
  },
  { name: "cap-bind-no-drop", container: { capabilities: { add: ["NET_BIND_SERVICE"] } } },
  {
    name: "cap-bind-drop-all",
    pod: restrictedPod,
    container: { ...restrictedContainer, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } },
  },
  { name: "cap-net-raw", container: { capabilities: { drop: ["ALL"], add: ["NET_RAW", "CHOWN"] } } },
  { name: "cap-drop-lower-all", container: { capabilities: { drop: ["all"] } } },
  {
    name: "seccomp-container-unconfined",
    pod: restrictedPod,
    container: { ...restrictedContainer, seccompProfile: { type: "Unconfined" } },
  },
  {
    name: "seccomp-localhost",
    pod: { runAsNonRoot: true, seccompProfile: { type: "Localhost", localhostProfile: "profiles/app.json" } },
    container: restrictedContainer,
  },
  { name: "seccomp-pod-unconfined", pod: { seccompProfile: { type: "Unconfined" } } },
  {
    name: "seccomp-container-only",
    pod: { runAsNonRoot: true },
    container: { ...restrictedContainer, seccompProfile: { type: "RuntimeDefault" } },
  },
  {
    name: "user-1000-no-nonroot",
    pod: { seccompProfile: { type: "RuntimeDefault" } },
    container: { ...restrictedContainer, runAsUser: 1000 },
  },
  {
    name: "pod-nonroot-container-false",
    pod: restrictedPod,
    container: { ...restrictedContainer, runAsNonRoot: false },
  },
  {
    name: "pod-root-container-1000",
    pod: { ...restrictedPod, runAsUser: 0 },
    container: { ...restrictedContainer, runAsUser: 1000 },
  },
  {
    name: "pod-nonroot-false-container-true",
    pod: { runAsNonRoot: false, seccompProfile: { type: "RuntimeDefault" } },
    container: { ...restrictedContainer, runAsNonRoot: true },
  },
  {
    name: "escalation-true",
    pod: restrictedPod,
    container: { ...restrictedContainer, allowPrivilegeEscalation: true },
  },
  { name: "proc-mount-unmasked", container: { procMount: "Unmasked" } },
  { name: "sysctl-unsafe", pod: { sysctls: [{ name: "kernel.msgmax", value: "65536" }] } },
  {
    name: "sysctl-safe",
    pod: { ...restrictedPod, sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }] },
    container: restrictedContainer,
  },
  { name: "apparmor-unconfined", container: { appArmorProfile: { type: "Unconfined" } } },
  { name: "selinux-spc", container: { seLinuxOptions: { type: "spc_t" } } },
  {
    name: "selinux-container-t",
    pod: restrictedPod,
    container: { ...restrictedContainer, seLinuxOptions: { type: "container_t" } },
  },
  { name: "windows", windows: true },
];

interface Feature {
  name: string;
  /** Applies the feature to a pod spec whose first container is `main`. */
  apply(spec: Obj & { containers: Container[] }, profile: Profile): void;
  /** Not combinable with Windows pods (validation forbids the field there). */
  linuxOnly?: boolean;
}

const FEATURES: Feature[] = [
  { name: "plain", apply() {} },
  {
    name: "host-network",
    linuxOnly: true,
    // The API server defaults hostPort to containerPort under hostNetwork.
    apply(spec) {
      spec.hostNetwork = true;
      spec.containers[0]!.ports = [{ containerPort: 8080 }];
    },
  },
  {
    name: "host-pid-ipc",
    linuxOnly: true,
    apply(spec) {
      spec.hostPID = true;
      spec.hostIPC = true;
    },
  },
  {
    name: "host-path",
    apply(spec) {
      spec.volumes = [
        { name: "cache", emptyDir: {} },
        { name: "logs", hostPath: { path: "/var/log" } },
      ];
    },
  },
  {
    name: "host-port",
    apply(spec) {
      spec.containers[0]!.ports = [
        { containerPort: 8080, name: "http" },
        { containerPort: 9090, hostPort: 9090 },
      ];
    },
  },
  {
    name: "init-and-sidecar",
    apply(spec, profile) {
      const sc = profile.container ? { securityContext: structuredClone(profile.container) } : {};
      spec.initContainers = [
        { name: "init", image: "busybox:1.36", ...sc },
        { name: "init-bare", image: GOOD_IMAGE },
      ];
      spec.containers.push({ name: "sidecar", image: `${TRUSTED}/mesh/proxy:1.2` });
    },
  },
  {
    name: "resources",
    apply(spec) {
      spec.containers[0]!.resources = {
        requests: { cpu: "0.5", memory: "64Mi" },
        limits: { cpu: "1500m", memory: "1Gi" },
      };
    },
  },
  {
    name: "resources-partial",
    apply(spec) {
      spec.containers[0]!.resources = { requests: { cpu: "100m" }, limits: { memory: "1e9" } };
    },
  },
  {
    name: "volumes-restricted",
    apply(spec) {
      spec.volumes = [
        { name: "cfg", configMap: { name: "cfg" } },
        { name: "data", persistentVolumeClaim: { claimName: "data" } },
        { name: "nfs", nfs: { server: "nfs.example.com", path: "/share" } },
      ];
    },
  },
  {
    name: "untrusted-images",
    apply(spec) {
      spec.containers[0]!.image = "nginx";
      spec.containers.push({ name: "second", image: "ghcr.io/acme/tool:v1" });
    },
  },
];

const KINDS = ["Pod", "Deployment", "StatefulSet", "CronJob", "Job", "DaemonSet", "ReplicaSet"] as const;

/** Wraps a pod spec into the given kind, with the pod labels. */
export function workload(
  kind: string,
  name: string,
  namespace: string,
  spec: Obj,
  labels: Record<string, string> = {},
): KubeObject {
  const podLabels = { app: name, ...labels };
  const template = { metadata: { labels: podLabels }, spec };
  const meta = { name, namespace, labels };
  const batch = { ...spec, restartPolicy: "Never" };
  switch (kind) {
    case "Pod":
      return { apiVersion: "v1", kind, metadata: { ...meta, labels: podLabels }, spec } as KubeObject;
    case "Deployment":
    case "ReplicaSet":
    case "DaemonSet":
      return {
        apiVersion: "apps/v1",
        kind,
        metadata: meta,
        spec: { selector: { matchLabels: { app: name } }, template },
      } as KubeObject;
    case "StatefulSet":
      return {
        apiVersion: "apps/v1",
        kind,
        metadata: meta,
        spec: { serviceName: name, selector: { matchLabels: { app: name } }, template },
      } as KubeObject;
    case "Job":
      return {
        apiVersion: "batch/v1",
        kind,
        metadata: meta,
        spec: { template: { metadata: { labels: podLabels }, spec: batch } },
      } as KubeObject;
    case "CronJob":
      return {
        apiVersion: "batch/v1",
        kind,
        metadata: meta,
        spec: {
          schedule: "*/5 * * * *",
          jobTemplate: { spec: { template: { metadata: { labels: podLabels }, spec: batch } } },
        },
      } as KubeObject;
    default:
      throw new Error(`no workload shape for ${kind}`);
  }
}

function podSpec(profile: Profile, image: string): Obj & { containers: Container[] } {
  const main: Container = { name: "main", image };
  if (profile.container) main.securityContext = structuredClone(profile.container);
  const spec: Obj & { containers: Container[] } = { containers: [main] };
  if (profile.pod) spec.securityContext = structuredClone(profile.pod);
  if (profile.windows) spec.os = { name: "windows" };
  return spec;
}

const NAMESPACES = Object.keys(VAP_NAMESPACES);
const TIERS = ["web", "db", undefined] as const;
const IMAGES = [
  GOOD_IMAGE,
  `${TRUSTED}/shop/api:1.4.2`,
  "docker.io/library/redis:7",
  "localhost:5000/dev/app",
];

/** Every generated pod-bearing object: profiles × features, each pair in three kinds. */
function generatedWorkloads(): CorpusObject[] {
  const out: CorpusObject[] = [];
  let i = 0;
  PROFILES.forEach((profile, pi) => {
    FEATURES.forEach((feature, fi) => {
      if (profile.windows && feature.linuxOnly) return;
      // Validation refuses namespaced sysctls in a pod sharing the host's network or IPC namespace.
      if (profile.pod?.sysctls && feature.linuxOnly) return;
      for (let k = 0; k < 3; k++) {
        const kind = KINDS[(pi + fi * 3 + k) % KINDS.length]!;
        const id = `${kind.toLowerCase()}-${profile.name}-${feature.name}-${k}`
          .slice(0, 52)
          .replace(/-+$/, "");
        const spec = podSpec(profile, IMAGES[(pi + fi + k) % IMAGES.length]!);
        feature.apply(spec, profile);
        const tier = TIERS[i % TIERS.length];
        const labels: Record<string, string> = tier ? { tier } : {};
        if (i % 11 === 5) labels["policy.example.com/skip"] = "true";
        out.push({
          id,
          obj: workload(kind, id, NAMESPACES[i % NAMESPACES.length]!, spec, labels),
          podBearing: true,
        });
        i++;
      }
    });
  });
  return out;
}

/** Services, Secrets, Ingresses, ConfigMaps: the object-scope guardrails and the corpus policies. */
function otherObjects(): CorpusObject[] {
  const out: CorpusObject[] = [];
  const add = (obj: KubeObject) => out.push({ id: obj.metadata.name!, obj, podBearing: false });
  NAMESPACES.forEach((namespace, n) => {
    const svc = (name: string, spec: Obj, annotations?: Record<string, string>): KubeObject =>
      ({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name, namespace, ...(annotations ? { annotations } : {}), labels: { tier: "web" } },
        spec: { ports: [{ port: 80, targetPort: 8080 }], selector: { app: "x" }, ...spec },
      }) as KubeObject;
    add(svc(`svc-lb-${n}`, { type: "LoadBalancer" }));
    add(
      svc(
        `svc-lb-internal-${n}`,
        { type: "LoadBalancer" },
        { "service.beta.kubernetes.io/azure-load-balancer-internal": "true" },
      ),
    );
    add(
      svc(
        `svc-lb-internal-false-${n}`,
        { type: "LoadBalancer" },
        { "service.beta.kubernetes.io/azure-load-balancer-internal": "false" },
      ),
    );
    add(svc(`svc-clusterip-${n}`, {}));
    add(svc(`svc-nodeport-${n}`, { type: "NodePort" }));
    add(svc(`svc-ssh-${n}`, { ports: [{ port: 22, targetPort: 2222 }] }));
    const secret = (name: string, body: Obj): KubeObject =>
      ({ apiVersion: "v1", kind: "Secret", metadata: { name, namespace }, ...body }) as KubeObject;
    add(secret(`secret-password-${n}`, { stringData: { DB_PASSWORD: "x", user: "app" } }));
    add(secret(`secret-token-data-${n}`, { data: { "api-key": "eA==", "client.secret": "eA==" } }));
    add(secret(`secret-plain-${n}`, { stringData: { greeting: "hello", color: "blue" } }));
    add(secret(`secret-tls-${n}`, { type: "kubernetes.io/tls", data: { "tls.crt": "", "tls.key": "" } }));
    add(secret(`secret-empty-${n}`, {}));
    add(
      secret(`secret-dockercfg-${n}`, {
        type: "kubernetes.io/dockerconfigjson",
        data: { ".dockerconfigjson": "e30=" },
      }),
    );
    add(secret(`secret-mixed-case-${n}`, { stringData: { PassWord: "x", Connection_String: "y" } }));
    add({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name: `ingress-${n}`, namespace },
      spec: {
        rules: [
          {
            host: "shop.example.com",
            http: {
              paths: [
                {
                  path: "/",
                  pathType: "Prefix",
                  backend: { service: { name: "svc", port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    } as KubeObject);
    add({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `cm-${n}`, namespace, labels: { tier: "db" } },
      data: { mode: "fast", owner: n === 0 ? "" : "team" },
    } as KubeObject);
    add({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `cm-no-owner-${n}`, namespace, labels: { tier: "db" } },
      data: { mode: "slow" },
    } as KubeObject);
  });
  // The default namespace: PLAT015 denies everything there.
  add({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "cm-in-default", namespace: "default" },
    data: {},
  } as KubeObject);
  add(workload("Deployment", "deploy-in-default", "default", podSpec(PROFILES[1]!, GOOD_IMAGE)));
  add({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "svc-in-default", namespace: "default" },
    spec: { type: "LoadBalancer", ports: [{ port: 443 }] },
  } as KubeObject);
  return out;
}

/** Hand-written edge cases: explicit nulls, empty lists and maps, odd quantities, many containers. */
function adversarial(): CorpusObject[] {
  const cases: Array<[string, string, Obj]> = [
    [
      "null-security-context",
      "Pod",
      { containers: [{ name: "main", image: GOOD_IMAGE, securityContext: null }], securityContext: null },
    ],
    [
      "empty-security-context",
      "Deployment",
      { containers: [{ name: "main", image: GOOD_IMAGE, securityContext: {} }], securityContext: {} },
    ],
    [
      "empty-capabilities",
      "Pod",
      { containers: [{ name: "main", image: GOOD_IMAGE, securityContext: { capabilities: {} } }] },
    ],
    [
      "empty-drop-list",
      "StatefulSet",
      {
        containers: [
          { name: "main", image: GOOD_IMAGE, securityContext: { capabilities: { drop: [], add: [] } } },
        ],
      },
    ],
    [
      "null-capabilities-lists",
      "Pod",
      {
        containers: [
          { name: "main", image: GOOD_IMAGE, securityContext: { capabilities: { drop: null, add: null } } },
        ],
      },
    ],
    ["empty-volumes", "Pod", { containers: [{ name: "main", image: GOOD_IMAGE }], volumes: [] }],
    [
      "empty-init-containers",
      "Job",
      { containers: [{ name: "main", image: GOOD_IMAGE }], initContainers: [], restartPolicy: "Never" },
    ],
    ["empty-ports", "Pod", { containers: [{ name: "main", image: GOOD_IMAGE, ports: [] }] }],
    [
      "host-port-zero",
      "Pod",
      { containers: [{ name: "main", image: GOOD_IMAGE, ports: [{ containerPort: 80, hostPort: 0 }] }] },
    ],
    [
      "host-network-false",
      "Deployment",
      {
        hostNetwork: false,
        hostPID: false,
        hostIPC: false,
        containers: [{ name: "main", image: GOOD_IMAGE }],
      },
    ],
    ["null-resources", "Pod", { containers: [{ name: "main", image: GOOD_IMAGE, resources: null }] }],
    [
      "empty-resources",
      "Pod",
      { containers: [{ name: "main", image: GOOD_IMAGE, resources: { requests: {}, limits: {} } }] },
    ],
    [
      "quantity-exponent",
      "Deployment",
      {
        containers: [
          {
            name: "main",
            image: GOOD_IMAGE,
            resources: { requests: { cpu: "1e-3", memory: "1.5Gi" }, limits: { cpu: "2", memory: "2Gi" } },
          },
        ],
      },
    ],
    [
      "quantity-integers",
      "Pod",
      {
        containers: [
          {
            name: "main",
            image: GOOD_IMAGE,
            resources: { requests: { cpu: 1, memory: 1048576 }, limits: { cpu: 2, memory: "128974848" } },
          },
        ],
      },
    ],
    [
      "quantity-tiny",
      "Pod",
      {
        containers: [
          {
            name: "main",
            image: GOOD_IMAGE,
            resources: { requests: { cpu: "1m", memory: "1Ki" }, limits: { cpu: "0.001", memory: "1024" } },
          },
        ],
      },
    ],
    [
      "quantity-huge",
      "Pod",
      {
        containers: [
          {
            name: "main",
            image: GOOD_IMAGE,
            resources: { requests: { cpu: "64", memory: "1Ti" }, limits: { cpu: "128", memory: "2Ti" } },
          },
        ],
      },
    ],
    [
      "only-ephemeral-storage",
      "Pod",
      {
        containers: [
          { name: "main", image: GOOD_IMAGE, resources: { limits: { "ephemeral-storage": "1Gi" } } },
        ],
      },
    ],
    [
      "many-containers",
      "Deployment",
      {
        containers: ["a", "b", "c", "d"].map((n, i) => ({
          name: n,
          image: i % 2 ? "nginx:latest" : GOOD_IMAGE,
          securityContext:
            i === 2 ? { privileged: true, capabilities: { add: ["NET_ADMIN"] } } : restrictedContainer,
        })),
        securityContext: restrictedPod,
      },
    ],
    [
      "image-uppercase-digest",
      "Pod",
      { containers: [{ name: "main", image: `${TRUSTED}/shop/api@sha256:${"A".repeat(64)}` }] },
    ],
    [
      "image-tag-and-digest",
      "Pod",
      { containers: [{ name: "main", image: `${TRUSTED}/shop/api:1.0${DIGEST}` }] },
    ],
    [
      "image-port-registry",
      "Pod",
      { containers: [{ name: "main", image: "registry.example.com:5000/shop/api:1" }] },
    ],
    [
      "image-trusted-prefix-lookalike",
      "Pod",
      { containers: [{ name: "main", image: `${TRUSTED}.evil.com/shop/api${DIGEST}` }] },
    ],
    [
      "image-docker-hub-implicit",
      "Pod",
      { containers: [{ name: "main", image: `library/nginx@sha256:${"b".repeat(64)}` }] },
    ],
    [
      "seccomp-runtime-default-both",
      "Pod",
      {
        securityContext: { seccompProfile: { type: "RuntimeDefault" } },
        containers: [
          {
            name: "main",
            image: GOOD_IMAGE,
            securityContext: { seccompProfile: { type: "RuntimeDefault" } },
          },
        ],
      },
    ],
    [
      "run-as-user-zero-pod-nonroot",
      "Pod",
      {
        securityContext: { runAsNonRoot: true, runAsUser: 0 },
        containers: [{ name: "main", image: GOOD_IMAGE }],
      },
    ],
    [
      "run-as-group-zero",
      "Pod",
      {
        securityContext: { runAsNonRoot: true, runAsGroup: 0 },
        containers: [{ name: "main", image: GOOD_IMAGE }],
      },
    ],
    [
      "init-privileged-only",
      "Deployment",
      {
        initContainers: [{ name: "setup", image: GOOD_IMAGE, securityContext: { privileged: true } }],
        containers: [{ name: "main", image: GOOD_IMAGE, securityContext: restrictedContainer }],
        securityContext: restrictedPod,
      },
    ],
    [
      "init-host-port",
      "Pod",
      {
        initContainers: [
          { name: "setup", image: GOOD_IMAGE, ports: [{ containerPort: 53, hostPort: 53, protocol: "UDP" }] },
        ],
        containers: [{ name: "main", image: GOOD_IMAGE }],
      },
    ],
    [
      "host-path-and-projected",
      "Pod",
      {
        volumes: [
          { name: "sa", projected: { sources: [{ serviceAccountToken: { path: "token" } }] } },
          { name: "root", hostPath: { path: "/", type: "Directory" } },
        ],
        containers: [{ name: "main", image: GOOD_IMAGE }],
      },
    ],
    [
      "volumes-all-restricted-ok",
      "Pod",
      {
        volumes: [
          { name: "a", emptyDir: {} },
          { name: "b", secret: { secretName: "s" } },
          {
            name: "c",
            downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] },
          },
          { name: "d", csi: { driver: "secrets-store.csi.k8s.io" } },
          {
            name: "e",
            ephemeral: {
              volumeClaimTemplate: {
                spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
              },
            },
          },
        ],
        containers: [{ name: "main", image: GOOD_IMAGE }],
      },
    ],
    [
      "workload-identity-label",
      "Deployment",
      { serviceAccountName: "default", containers: [{ name: "main", image: GOOD_IMAGE }] },
    ],
    [
      "apparmor-localhost",
      "Pod",
      {
        securityContext: { appArmorProfile: { type: "Localhost", localhostProfile: "k8s-apparmor-example" } },
        containers: [{ name: "main", image: GOOD_IMAGE }],
      },
    ],
    [
      "selinux-user-set",
      "Pod",
      {
        containers: [
          {
            name: "main",
            image: GOOD_IMAGE,
            securityContext: { seLinuxOptions: { user: "system_u", level: "s0:c1" } },
          },
        ],
      },
    ],
    [
      "windows-host-process",
      "Pod",
      {
        os: { name: "windows" },
        hostNetwork: true,
        securityContext: { windowsOptions: { hostProcess: true, runAsUserName: "NT AUTHORITY\\SYSTEM" } },
        containers: [{ name: "main", image: GOOD_IMAGE }],
      },
    ],
    [
      "proc-mount-default",
      "Pod",
      { containers: [{ name: "main", image: GOOD_IMAGE, securityContext: { procMount: "Default" } }] },
    ],
    [
      "cap-add-all",
      "Pod",
      {
        containers: [
          {
            name: "main",
            image: GOOD_IMAGE,
            securityContext: { capabilities: { drop: ["ALL"], add: ["ALL"] } },
          },
        ],
      },
    ],
    [
      "cap-lowercase-add",
      "Pod",
      {
        containers: [
          {
            name: "main",
            image: GOOD_IMAGE,
            securityContext: { capabilities: { drop: ["ALL"], add: ["net_bind_service"] } },
          },
        ],
      },
    ],
    ["compliant-cronjob", "CronJob", compliantSpec()],
    [
      "cap-prefixed",
      "Pod",
      {
        containers: [
          {
            name: "main",
            image: GOOD_IMAGE,
            securityContext: { capabilities: { drop: ["ALL"], add: ["CAP_NET_BIND_SERVICE"] } },
          },
        ],
      },
    ],
  ];
  return cases.map(([name, kind, spec], i) => {
    const id = `adv-${name}`;
    const labels: Record<string, string> =
      name === "workload-identity-label" ? { "azure.workload.identity/use": "true" } : {};
    return {
      id,
      obj: workload(
        kind,
        id,
        name === "compliant-cronjob" ? "vap-team-b" : NAMESPACES[(i + 1) % NAMESPACES.length]!,
        spec as Obj,
        labels,
      ),
      podBearing: true,
    };
  });
}

/** The whole corpus, ids unique. */
/**
 * Istio's security.istio.io kinds, so the mesh guardrails (PLAT021-PLAT023) reach the server. Written here, not
 * Istio's CRDs: schema-less (preserved fields), because the differential judges admission, and Istio's own
 * schema (its case-sensitive enums) would refuse some corpus objects before any policy sees them.
 */
export const ISTIO_CRDS: KubeObject[] = [
  ["PeerAuthentication", "peerauthentications"],
  ["AuthorizationPolicy", "authorizationpolicies"],
].map(([kind, plural]) => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `${plural}.security.istio.io` },
  spec: {
    group: "security.istio.io",
    scope: "Namespaced",
    names: { kind: kind!, plural: plural!, singular: kind!.toLowerCase(), listKind: `${kind}List` },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
      },
    ],
  },
}));

/** AuthorizationPolicies and PeerAuthentications, allowed and refused ones, in every corpus namespace. */
function istioObjects(): CorpusObject[] {
  const out: CorpusObject[] = [];
  NAMESPACES.forEach((namespace, n) => {
    const add = (kind: string, name: string, spec: Obj): CorpusObject => ({
      id: name,
      obj: { apiVersion: "security.istio.io/v1", kind, metadata: { name, namespace }, spec } as KubeObject,
      podBearing: false,
    });
    const other = NAMESPACES[(n + 1) % NAMESPACES.length]!;
    out.push(
      ...authorizationPolicySpecs(namespace, other).map((spec, i) =>
        add("AuthorizationPolicy", `authz-${i}-${n}`, spec as Obj),
      ),
      ...PEER_AUTHENTICATION_SPECS.map((spec, i) => add("PeerAuthentication", `peer-${i}-${n}`, spec as Obj)),
    );
  });
  return out;
}

export function corpus(): CorpusObject[] {
  const all = [...generatedWorkloads(), ...otherObjects(), ...adversarial(), ...istioObjects()];
  const seen = new Set<string>();
  for (const c of all) {
    const key = `${c.obj.kind}/${c.obj.metadata.namespace}/${c.id}`;
    if (seen.has(key)) throw new Error(`duplicate corpus object ${key}`);
    seen.add(key);
  }
  return all;
}

/** The Namespace objects of the VAP corpus, labelled as the API server stores them. */
export function namespaceObjects(names: Record<string, Record<string, string>>): KubeObject[] {
  return Object.entries(names).map(
    ([name, labels]) =>
      ({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { ...labels } } }) as KubeObject,
  );
}

/**
 * Ephemeral containers arrive only through the pods/ephemeralcontainers subresource (validation refuses them
 * on create): compliant pods are stored, then each variant's container is added with a dry-run update.
 */
export const EPHEMERAL: Record<string, Obj | undefined> = {
  bare: undefined,
  restricted: restrictedContainer,
  privileged: { privileged: true },
  "cap-sys-admin": { ...restrictedContainer, capabilities: { drop: ["ALL"], add: ["SYS_ADMIN"] } },
  "run-as-root": { ...restrictedContainer, runAsUser: 0 },
  "non-root-false": { ...restrictedContainer, runAsNonRoot: false },
  "seccomp-unconfined": { ...restrictedContainer, seccompProfile: { type: "Unconfined" } },
  escalation: { ...restrictedContainer, allowPrivilegeEscalation: true },
  "untrusted-image": restrictedContainer,
};

/** The stored pod an ephemeral variant is added to: compliant with every built-in. */
export function ephemeralBasePod(variant: string, namespace: string): KubeObject {
  return workload("Pod", `eph-${variant}`, namespace, compliantSpec());
}

/** The ephemeral container of a variant (`kubectl debug --target main`). */
export function ephemeralContainer(variant: string): Obj {
  return {
    name: "debug",
    image: variant === "untrusted-image" ? "busybox:1.36" : GOOD_IMAGE,
    targetContainerName: "main",
    ...(EPHEMERAL[variant] ? { securityContext: structuredClone(EPHEMERAL[variant]) } : {}),
  };
}

/** The ephemeral variants as the manifests `policy check` judges: the pod with its ephemeral container. */
export function ephemeralCorpus(namespace: string): CorpusObject[] {
  return Object.keys(EPHEMERAL).map((variant) => {
    const pod = ephemeralBasePod(variant, namespace) as KubeObject & { spec: Obj };
    const obj = {
      ...pod,
      spec: { ...pod.spec, ephemeralContainers: [ephemeralContainer(variant)] },
    } as KubeObject;
    return { id: `eph-${variant}`, obj, podBearing: true, ephemeral: variant };
  });
}
