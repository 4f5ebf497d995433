// The peer side of the policy benchmark: gatekeeper-library ConstraintTemplates (read in place from the
// conformance checkout, never copied), constraints written here with parameters equivalent to our
// built-in rules, and `gator test` run on the same manifests.
//
// Why expansion: the library's pod-security templates judge `input.review.object.spec.containers`, i.e.
// Pods. Matching them against Deployments directly would find no containers and silently pass every
// workload, which would make gator look both fast and lenient. Gatekeeper's own answer is an
// ExpansionTemplate: it builds a mock Pod from each workload's pod template and reports the Pod's
// violations on the parent ("[Implied by <template>] ..."), exactly what an admission webhook with
// generator expansion enabled does. `gator test` applies ExpansionTemplates passed with -f, so both
// engines judge the same pod specs and report them against the same workload objects. The constraints
// match kind Pod only: expanded mock Pods and the bare Pods in the set.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { timedToFile } from "./spawn.mjs";

/** Where the conformance copy of the gatekeeper-library lives (overridable for other checkouts). */
export const LIBRARY =
  process.env.GATEKEEPER_LIBRARY ??
  [
    join(import.meta.dirname, "../../../../shared/conformance/gatekeeper-library/library"),
    "/work/shared/conformance/gatekeeper-library/library",
  ].find((p) => existsSync(p)) ??
  join(import.meta.dirname, "../../../../shared/conformance/gatekeeper-library/library");

const PSP = "pod-security-policy";
/** Library templates, keyed by the category they stand in for. */
export const TEMPLATES = {
  registry: "general/allowedrepos",
  digest: "general/imagedigests",
  privileged: `${PSP}/privileged-containers`,
  "privilege-escalation": `${PSP}/allow-privilege-escalation`,
  capabilities: `${PSP}/capabilities`,
  "host-namespaces": `${PSP}/host-namespaces`,
  "host-network-ports": `${PSP}/host-network-ports`,
  "host-path": `${PSP}/host-filesystem`,
  resources: "general/containerresources",
  "run-as-non-root": `${PSP}/users`,
  "read-only-root-fs": `${PSP}/read-only-root-filesystem`,
  seccomp: `${PSP}/seccompv2`,
};

/**
 * Constraints, one per category, named after it so a violation maps back to its category by
 * `constraint.metadata.name`. host-network-ports is instantiated twice: once for hostNetwork alone
 * (which our PLAT009 covers together with hostPID/hostIPC) and once for host ports (our PLAT011).
 */
export function constraints(trusted) {
  const match = { kinds: [{ apiGroups: [""], kinds: ["Pod"] }] };
  const c = (kind, name, parameters) => ({
    apiVersion: "constraints.gatekeeper.sh/v1beta1",
    kind,
    metadata: { name },
    spec: { match, ...(parameters ? { parameters } : {}) },
  });
  return [
    // allowedrepos is a plain string prefix: a trailing '/' makes "host" and "host/path" entries match
    // whole path components, as ours does (without it "acr.io" would also allow "acr.io.evil.com/x").
    c("K8sAllowedRepos", "registry", { repos: trusted.map((t) => `${t.replace(/\/+$/, "")}/`) }),
    c("K8sImageDigests", "digest"),
    c("K8sPSPPrivilegedContainer", "privileged"),
    c("K8sPSPAllowPrivilegeEscalationContainer", "privilege-escalation"),
    c("K8sPSPCapabilities", "capabilities", {
      allowedCapabilities: ["NET_BIND_SERVICE"],
      requiredDropCapabilities: ["ALL"],
    }),
    c("K8sPSPHostNamespace", "host-namespaces"),
    c("K8sPSPHostNetworkingPorts", "host-network", { hostNetwork: false }),
    c("K8sPSPHostNetworkingPorts", "host-port", { hostNetwork: true, min: 0, max: 0 }),
    c("K8sPSPHostFilesystem", "host-path"), // no allowedHostPaths: every hostPath is refused
    c("K8sRequiredResources", "resources", { limits: ["cpu", "memory"], requests: ["cpu", "memory"] }),
    c("K8sPSPAllowedUsers", "run-as-non-root", { runAsUser: { rule: "MustRunAsNonRoot" } }),
    c("K8sPSPReadOnlyRootFilesystem", "read-only-root-fs"),
    c("K8sPSPSeccompV2", "seccomp", {
      allowedProfiles: ["RuntimeDefault", "Localhost"],
      allowedLocalhostFiles: ["*"],
    }),
  ];
}

/** Constraint name → our category (host-network folds into host-namespaces, like PLAT009). */
export const CONSTRAINT_CATEGORY = {
  "host-network": "host-namespaces",
};

const EXPANSIONS = [
  {
    apiVersion: "expansion.gatekeeper.sh/v1beta1",
    kind: "ExpansionTemplate",
    metadata: { name: "expand-workloads" },
    spec: {
      applyTo: [
        {
          groups: ["apps"],
          kinds: ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"],
          versions: ["v1"],
        },
        { groups: ["batch"], kinds: ["Job"], versions: ["v1"] },
      ],
      templateSource: "spec.template",
      generatedGVK: { group: "", version: "v1", kind: "Pod" },
    },
  },
  {
    apiVersion: "expansion.gatekeeper.sh/v1beta1",
    kind: "ExpansionTemplate",
    metadata: { name: "expand-cronjobs" },
    spec: {
      applyTo: [{ groups: ["batch"], kinds: ["CronJob"], versions: ["v1"] }],
      templateSource: "spec.jobTemplate.spec.template",
      generatedGVK: { group: "", version: "v1", kind: "Pod" },
    },
  },
];

/** Writes constraints and expansion templates into `dir`; returns the -f arguments for gator. */
export function preparePolicies(dir, trusted) {
  const missing = Object.values(TEMPLATES).filter((t) => !existsSync(join(LIBRARY, t, "template.yaml")));
  if (missing.length > 0)
    throw new Error(`gatekeeper-library templates missing under ${LIBRARY}: ${missing.join(", ")}`);
  const file = join(dir, "constraints.yaml");
  writeFileSync(file, [...EXPANSIONS, ...constraints(trusted)].map((d) => stringify(d)).join("---\n"));
  return [...Object.values(TEMPLATES).map((t) => join(LIBRARY, t, "template.yaml")), file];
}

/**
 * Runs `gator test -o json` on the manifests with the policy files; stdout goes straight to a file so
 * the measured time is gator's, not a pipe's. Returns wall ms and the parsed violations.
 */
export async function runGator(gator, policyFiles, manifestsDir, outFile) {
  const args = ["test", ...[...policyFiles, manifestsDir].flatMap((f) => ["-f", f]), "-o", "json"];
  const ms = await timedToFile(gator, args, outFile);
  const text = readFileSync(outFile, "utf8").trim();
  const violations = text === "" || text === "null" ? [] : JSON.parse(text);
  return { ms, violations, args };
}

/** Violations → Map(kind/namespace/name → Set(category)); also collects evaluation errors. */
export function gatorVerdicts(violations) {
  const flagged = new Map();
  const errors = [];
  for (const v of violations) {
    const o = v.violatingObject ?? {};
    const key = `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
    const name = v.constraint?.metadata?.name ?? "?";
    const cat = CONSTRAINT_CATEGORY[name] ?? name;
    if (/error|failed to evaluate|no such key|no matching overload/i.test(v.msg ?? ""))
      errors.push({ key, cat, msg: v.msg });
    if (!flagged.has(key)) flagged.set(key, new Set());
    flagged.get(key).add(cat);
  }
  return { flagged, errors };
}

/**
 * How the comparison is set up, printed with the report. Differences by design are demonstrated by the
 * probes (probes.mjs), not just described.
 */
export const NOTES = [
  "workloads: the library's pod templates read input.review.object.spec.containers, i.e. Pods; gator judges the " +
    "Deployments/StatefulSets/DaemonSets/Jobs/CronJobs through ExpansionTemplates (mock Pods from the pod template, " +
    "violations reported on the parent), the way Gatekeeper's webhook does with expansion enabled. Without expansion " +
    "every workload would silently pass. K8sPSPAllowedUsers also reads the pod-level securityContext only for kind Pod.",
  "registry: K8sAllowedRepos is a raw string prefix, so every trusted entry gets a trailing '/' (otherwise " +
    "'acrplatform.azurecr.io' would also allow 'acrplatform.azurecr.io.evil.example/...'); PLAT001 parses the reference.",
  "host-namespaces: PLAT009 covers hostNetwork, hostPID and hostIPC; the library splits hostNetwork into " +
    "K8sPSPHostNetworkingPorts (constraint 'host-network', counted in the same category; host ports are a second " +
    "instance, 'host-port', with min/max 0).",
  "seccomp: allowedLocalhostFiles ['*'] because PLAT012 accepts any Localhost profile file.",
  "engines: gator runs the K8sNativeValidation (CEL) code of templates that have it (privileged, privilege escalation, " +
    "capabilities, host namespaces/network/filesystem, read-only root, seccompv2) and Rego for the rest; ours runs 18 " +
    "built-in CEL rules (12 compared here; PLAT013-018 judge ServiceAccounts, Secrets, Services, Ingresses, namespaces).",
];
