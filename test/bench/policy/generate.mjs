// Deterministic synthetic workloads for the policy benchmark. Every object starts compliant with all the
// compared guardrails and then breaks a random subset of categories; the generator records which, so the
// bench can tell "both engines agree but both are wrong" from a real agreement.
//
// Violations are chosen so that our rules and the gatekeeper-library templates SHOULD agree: the forms
// where the two differ by design (see NOTES in gatekeeper.mjs) are deliberately not generated.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";

/** The registries platform.yaml trusts in the bench (a host, and a host/path prefix). */
export const TRUSTED = ["acrplatform.azurecr.io", "mcr.microsoft.com/oss"];
export const NAMESPACES = ["team-a", "team-b", "team-c", "team-d", "team-e"];

/** The compared categories, in report order. */
export const CATEGORIES = [
  "registry",
  "digest",
  "privileged",
  "privilege-escalation",
  "capabilities",
  "host-namespaces",
  "host-path",
  "host-port",
  "resources",
  "run-as-non-root",
  "read-only-root-fs",
  "seccomp",
];

/** mulberry32: small, fast, and the same sequence on every machine for a given seed. */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (list) => list[int(list.length)];
  const chance = (p) => next() < p;
  const hex = (n) => {
    let s = "";
    for (let i = 0; i < n; i++) s += "0123456789abcdef"[int(16)];
    return s;
  };
  return { next, int, pick, chance, hex };
}

const KINDS = [
  ["Deployment", 0.7],
  ["StatefulSet", 0.08],
  ["DaemonSet", 0.06],
  ["Job", 0.06],
  ["CronJob", 0.05],
  ["Pod", 0.05],
];
const TRUSTED_REPOS = [
  "acrplatform.azurecr.io/orders/api",
  "acrplatform.azurecr.io/payments/worker",
  "acrplatform.azurecr.io/web/storefront",
  "mcr.microsoft.com/oss/nginx/nginx",
  "mcr.microsoft.com/oss/kubernetes/pause",
];
// Untrusted in both engines: other hosts, Docker Hub short names, and look-alikes of trusted entries
// (a longer host name, a sibling path) that a naive prefix match would let through without the '/'.
const UNTRUSTED_REPOS = [
  "docker.io/library/nginx",
  "nginx",
  "ghcr.io/acme/api",
  "quay.io/team/worker",
  "acrplatform.azurecr.io.evil.example/orders/api",
  "mcr.microsoft.com/ossevil/tool",
];

function pickKind(r) {
  let x = r.next();
  for (const [k, p] of KINDS) {
    if (x < p) return k;
    x -= p;
  }
  return "Deployment";
}

/** A digest-pinned image; the digest category strips the digest afterwards. */
function image(r, trusted) {
  const repo = r.pick(trusted ? TRUSTED_REPOS : UNTRUSTED_REPOS);
  const tag = `${1 + r.int(3)}.${r.int(20)}.${r.int(10)}`;
  const digest = `sha256:${r.hex(64)}`;
  return r.chance(0.3) ? `${repo}:${tag}@${digest}` : `${repo}@${digest}`;
}

function compliantContainer(r, name, { nonRootAt, seccompAt }) {
  const sc = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: r.chance(0.2) ? { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } : { drop: ["ALL"] },
  };
  if (r.chance(0.2)) sc.privileged = false;
  if (nonRootAt === "container") {
    if (r.chance(0.5)) sc.runAsUser = 10001;
    else sc.runAsNonRoot = true;
  }
  if (seccompAt === "container")
    sc.seccompProfile = r.chance(0.7)
      ? { type: "RuntimeDefault" }
      : { type: "Localhost", localhostProfile: "profiles/restricted.json" };
  const c = {
    name,
    image: image(r, true),
    securityContext: sc,
    resources: {
      requests: { cpu: `${50 + 50 * r.int(4)}m`, memory: `${64 * (1 + r.int(4))}Mi` },
      limits: { cpu: `${500 + 250 * r.int(4)}m`, memory: `${256 * (1 + r.int(4))}Mi` },
    },
  };
  if (r.chance(0.6)) c.ports = [{ name: "http", containerPort: 8080, protocol: "TCP" }];
  if (r.chance(0.5)) c.volumeMounts = [{ name: "tmp", mountPath: "/tmp" }];
  return c;
}

/**
 * Breaks one category in a pod spec. Container-level categories break one randomly chosen container
 * (init containers included); the object is then "in violation" of that category.
 */
function violate(r, cat, spec) {
  const all = [...(spec.initContainers ?? []), ...spec.containers];
  const c = r.pick(all);
  const sc = c.securityContext;
  switch (cat) {
    case "registry":
      c.image = image(r, false);
      return;
    case "digest": {
      // Keep the repository (it may already be an untrusted one): drop the digest, sometimes the tag too.
      const [named] = c.image.split("@");
      const bare = named.replace(/:[^/:]+$/, "");
      c.image = named !== bare && r.chance(0.8) ? named : bare;
      return;
    }
    case "privileged":
      sc.privileged = true;
      return;
    case "privilege-escalation":
      if (r.chance(0.5)) delete sc.allowPrivilegeEscalation;
      else sc.allowPrivilegeEscalation = true;
      return;
    case "capabilities": {
      const v = r.int(4);
      if (v === 0) delete sc.capabilities;
      else if (v === 1) sc.capabilities = { drop: ["NET_RAW"] };
      else if (v === 2) sc.capabilities = { drop: ["ALL"], add: ["SYS_ADMIN"] };
      else sc.capabilities = { add: ["NET_BIND_SERVICE"] };
      return;
    }
    case "host-namespaces":
      spec[r.pick(["hostNetwork", "hostPID", "hostIPC"])] = true;
      return;
    case "host-path":
      spec.volumes = [
        ...(spec.volumes ?? []),
        { name: "host", hostPath: { path: r.pick(["/var/run/docker.sock", "/etc", "/var/log"]) } },
      ];
      c.volumeMounts = [...(c.volumeMounts ?? []), { name: "host", mountPath: "/host", readOnly: true }];
      return;
    case "host-port":
      // One port per offending container: the library's CEL variant only flags a container whose ports
      // ALL carry an out-of-range hostPort, its Rego variant flags any (see NOTES).
      c.ports = [{ name: "http", containerPort: 8080, hostPort: r.pick([80, 443, 8080, 30080]) }];
      return;
    case "resources": {
      const v = r.int(5);
      if (v === 0) delete c.resources;
      else if (v === 1) delete c.resources.requests.cpu;
      else if (v === 2) delete c.resources.requests.memory;
      else if (v === 3) delete c.resources.limits.cpu;
      else delete c.resources.limits.memory;
      return;
    }
    case "run-as-non-root": {
      const v = r.int(3);
      if (v === 0) {
        sc.runAsUser = 0;
        delete sc.runAsNonRoot;
      } else if (v === 1) {
        // Nothing says non-root anywhere for this container.
        delete sc.runAsUser;
        delete sc.runAsNonRoot;
        if (spec.securityContext) delete spec.securityContext.runAsNonRoot;
      } else {
        delete sc.runAsUser;
        sc.runAsNonRoot = false;
      }
      return;
    }
    case "read-only-root-fs":
      if (r.chance(0.5)) delete sc.readOnlyRootFilesystem;
      else sc.readOnlyRootFilesystem = false;
      return;
    case "seccomp":
      if (r.chance(0.5)) sc.seccompProfile = { type: "Unconfined" };
      else {
        delete sc.seccompProfile;
        if (spec.securityContext) delete spec.securityContext.seccompProfile;
      }
      return;
  }
}

function wrap(kind, name, namespace, labels, podSpec) {
  const meta = { name, namespace, labels };
  const template = { metadata: { labels }, spec: podSpec };
  const selector = { matchLabels: labels };
  switch (kind) {
    case "Pod":
      return { apiVersion: "v1", kind, metadata: meta, spec: podSpec };
    case "Deployment":
      return { apiVersion: "apps/v1", kind, metadata: meta, spec: { replicas: 2, selector, template } };
    case "StatefulSet":
      return {
        apiVersion: "apps/v1",
        kind,
        metadata: meta,
        spec: { serviceName: name, replicas: 1, selector, template },
      };
    case "DaemonSet":
      return { apiVersion: "apps/v1", kind, metadata: meta, spec: { selector, template } };
    case "Job":
      podSpec.restartPolicy = "Never";
      return { apiVersion: "batch/v1", kind, metadata: meta, spec: { backoffLimit: 2, template } };
    case "CronJob":
      podSpec.restartPolicy = "OnFailure";
      return {
        apiVersion: "batch/v1",
        kind,
        metadata: meta,
        spec: { schedule: "*/15 * * * *", jobTemplate: { spec: { template } } },
      };
  }
  throw new Error(`unknown kind ${kind}`);
}

/**
 * Generates `n` workload objects with seed `seed`. Returns the objects and, per object key
 * (kind/namespace/name), the set of categories it was made to violate.
 */
export function generate(n, seed = 20240601) {
  const r = prng(seed ^ n);
  const objects = [];
  const expected = new Map();
  for (let i = 0; i < n; i++) {
    const kind = pickKind(r);
    const namespace = NAMESPACES[i % NAMESPACES.length];
    const name = `${kind.toLowerCase()}-${String(i).padStart(5, "0")}`;
    const labels = { app: name, "app.kubernetes.io/part-of": "bench" };
    const nonRootAt = r.chance(0.6) ? "pod" : "container";
    const seccompAt = r.chance(0.6) ? "pod" : "container";
    const names = ["app", "sidecar", "metrics"].slice(0, 1 + r.int(3));
    const spec = { containers: names.map((cn) => compliantContainer(r, cn, { nonRootAt, seccompAt })) };
    if (r.chance(0.1)) spec.initContainers = [compliantContainer(r, "init", { nonRootAt, seccompAt })];
    const podSc = {};
    if (nonRootAt === "pod") podSc.runAsNonRoot = true;
    if (seccompAt === "pod") podSc.seccompProfile = { type: "RuntimeDefault" };
    if (r.chance(0.3)) podSc.fsGroup = 2000;
    if (Object.keys(podSc).length > 0) spec.securityContext = podSc;
    spec.volumes = [{ name: "tmp", emptyDir: {} }];
    // ~12% of objects are clean; the rest break 1–4 categories each.
    const broken = new Set();
    if (!r.chance(0.12)) {
      const count = 1 + r.int(4);
      while (broken.size < count) broken.add(r.pick(CATEGORIES));
    }
    for (const cat of CATEGORIES) if (broken.has(cat)) violate(r, cat, spec);
    objects.push(wrap(kind, name, namespace, labels, spec));
    expected.set(`${kind}/${namespace}/${name}`, broken);
  }
  return { objects, expected };
}

/**
 * Writes objects as multi-document YAML files of `perFile` objects into `dir`; returns the file count.
 * Shared label objects are written out in full, not as anchors/aliases: real manifests (kubectl, kustomize
 * and helm output) carry no aliases, and resolving them is a cost of its own in YAML loaders.
 */
export function writeManifests(objects, dir, perFile = 100) {
  mkdirSync(dir, { recursive: true });
  let files = 0;
  for (let i = 0; i < objects.length; i += perFile) {
    const docs = objects
      .slice(i, i + perFile)
      .map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false }));
    writeFileSync(
      join(dir, `workloads-${String(files).padStart(4, "0")}.yaml`),
      `---\n${docs.join("---\n")}`,
    );
    files++;
  }
  return files;
}
