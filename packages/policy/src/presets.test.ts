import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultConfig, type PlatformConfig } from "@platform/core";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { gatekeeperLibrary } from "../../../test/peers/index.ts";
import { AZURE_PRESET_FILES } from "../presets/azure/index.ts";
import { classify } from "./admission/documents.ts";
import { templateEngines } from "./admission/engines.ts";
import { compileConstraints } from "./admission/gatekeeper.ts";
import { runGatorSuites } from "./admission/suites.ts";
import { createCelEngine } from "./cel/engine.ts";
import { policyCheck } from "./check.ts";
import { type CompiledPolicy, evaluateAll } from "./evaluate.ts";
import { loadPolicies } from "./policies.ts";
import {
  PRESETS,
  presetDocuments,
  presetFromAssignment,
  selectPresets,
  trustedRegistriesRegex,
} from "./presets.ts";
import type { KubeObject, LoadedObject } from "./types.ts";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const PRESET_DIR = join(REPO, "packages/policy/presets/azure");
// The public Gatekeeper library, read in place (never copied into the project).
const library = gatekeeperLibrary();
const LIBRARY = library.path;

const tmp = mkdtempSync(join(tmpdir(), "presets-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const loaded = (obj: KubeObject): LoadedObject => ({
  obj,
  source: { file: "m.yaml", line: 1 },
  locate: () => undefined,
});
const pod = (name: string, ns: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: ns },
  spec,
});
/** Compiles preset documents as loadPolicies does. */
async function compile(docs: LoadedObject[]): Promise<CompiledPolicy[]> {
  const d = classify(docs);
  const gk = compileConstraints(
    d.constraints,
    await templateEngines(d.templates, createCelEngine(), undefined),
  );
  expect(gk.notes).toEqual([]);
  return gk.policies;
}
const config = (trusted: string[] = []): PlatformConfig => {
  const c = defaultConfig();
  c.registries.trusted = trusted;
  return c;
};

describe("preset files", () => {
  it("presets/azure/index.ts carries exactly the YAML files beside it (rerun presets/generate.mjs)", () => {
    const onDisk = readdirSync(PRESET_DIR)
      .filter((n) => n.endsWith(".yaml"))
      .sort();
    expect(Object.keys(AZURE_PRESET_FILES).sort()).toEqual(onDisk);
    for (const n of onDisk) expect(AZURE_PRESET_FILES[n], n).toBe(readFileSync(join(PRESET_DIR, n), "utf8"));
  });

  it("lists the three presets with descriptions", () => {
    expect(PRESETS.map((p) => p.name)).toEqual([
      "azure-pod-security-baseline",
      "azure-pod-security-restricted",
      "azure-allowed-images",
    ]);
    for (const p of PRESETS) expect(p.description.length).toBeGreaterThan(40);
  });

  it("installs the initiatives' controls with Azure's defaults", () => {
    const kinds = (docs: LoadedObject[]) =>
      docs.filter((d) => d.obj.apiVersion.startsWith("constraints.")).map((d) => d.obj.kind);
    expect(kinds(presetDocuments("azure-pod-security-baseline"))).toEqual([
      "K8sAzureV2NoPrivilege",
      "K8sAzureV3HostNetworkingPorts",
      "K8sAzureV2BlockHostNamespace",
      "K8sAzureV3AllowedCapabilities",
      "K8sAzureV4HostFilesystem",
    ]);
    const restricted = presetDocuments("azure-pod-security-restricted");
    expect(kinds(restricted)).toEqual([
      "K8sAzureV2NoPrivilege",
      "K8sAzureV3NoPrivilegeEscalation",
      "K8sAzureV3HostNetworkingPorts",
      "K8sAzureV2BlockHostNamespace",
      "K8sAzureV3AllowedCapabilities",
      "K8sAzureV2VolumeTypes",
      "K8sAzureV3AllowedUsersGroups",
      "K8sAzureV3AllowedSeccomp",
    ]);
    const users = restricted.find((d) => d.obj.kind === "K8sAzureV3AllowedUsersGroups")!.obj;
    expect(users.metadata.name).toBe("azure-pod-security-restricted-allowed-users-groups");
    expect(users.spec).toMatchObject({
      enforcementAction: "dryrun",
      match: {
        excludedNamespaces: [
          "kube-system",
          "gatekeeper-system",
          "azure-arc",
          "azure-extensions-usage-system",
        ],
      },
      parameters: {
        runAsUser: { rule: "MustRunAsNonRoot", ranges: [] },
        fsGroup: { rule: "MustRunAs", ranges: [{ min: 1n, max: 65535n }] },
      },
    });
    const caps = restricted.find((d) => d.obj.kind === "K8sAzureV3AllowedCapabilities")!.obj;
    expect(
      (caps.spec as { parameters: { allowedCapabilities: string[] } }).parameters.allowedCapabilities,
    ).toHaveLength(14);
  });

  it("rejects unknown parameters and effects with the valid names", () => {
    expect(() =>
      presetDocuments("azure-pod-security-baseline", { parameters: { allowedCapabilities: [] } }),
    ).toThrow(/no parameter "allowedCapabilities"/);
    expect(() => presetDocuments("azure-pod-security-baseline", { parameters: { effect: "Block" } })).toThrow(
      /not Audit, Deny or Disabled/,
    );
    expect(() => presetDocuments("azure-nothing")).toThrow(/unknown preset/);
  });
});

// (a) Each control's template on the gatekeeper-library samples of the equivalent library template, with the
// constraint's parameters translated to the Azure template's names. Expectations come from the library's
// suite.yaml, except where Azure's own template (samples/KubernetesService/*/template.yaml in
// Azure/azure-policy) judges differently — each such case names the reason.
const exempt = (p: Record<string, unknown> = {}): Record<string, unknown> => {
  const { exemptImages, ...rest } = p;
  return exemptImages ? { ...rest, excludedImages: exemptImages } : rest;
};
const seccompParams = (p: Record<string, unknown> = {}): Record<string, unknown> => {
  const { allowedLocalhostFiles, ...rest } = exempt(p);
  return {
    ...rest,
    allowedProfiles: [
      ...((rest.allowedProfiles as string[]) ?? []),
      ...((allowedLocalhostFiles as string[]) ?? []).map((f) => `localhost/${f}`),
    ],
  };
};
const CONTROLS: Array<{ template: string; suite: string; params: (p?: Record<string, unknown>) => unknown }> =
  [
    { template: "no-privilege", suite: "pod-security-policy/privileged-containers", params: exempt },
    { template: "block-host-namespace", suite: "pod-security-policy/host-namespaces", params: exempt },
    {
      template: "host-network-ports",
      suite: "pod-security-policy/host-network-ports",
      params: (p) => {
        const { hostNetwork, min, max, ...rest } = exempt(p);
        return {
          ...rest,
          ...(hostNetwork === undefined ? {} : { allowHostNetwork: hostNetwork }),
          ...(min === undefined ? {} : { minPort: min }),
          ...(max === undefined ? {} : { maxPort: max }),
        };
      },
    },
    { template: "allowed-capabilities", suite: "pod-security-policy/capabilities", params: exempt },
    { template: "host-filesystem", suite: "pod-security-policy/host-filesystem", params: exempt },
    {
      template: "no-privilege-escalation",
      suite: "pod-security-policy/allow-privilege-escalation",
      params: exempt,
    },
    { template: "volume-types", suite: "pod-security-policy/volumes", params: exempt },
    { template: "allowed-users-groups", suite: "pod-security-policy/users", params: exempt },
    { template: "allowed-seccomp", suite: "pod-security-policy/seccomp", params: seccompParams },
    { template: "allowed-seccomp", suite: "pod-security-policy/seccompv2", params: seccompParams },
    {
      // The library's allowedrepos is a prefix match; as an anchored regex it asks the same question.
      template: "allowed-images",
      suite: "general/allowedrepos",
      params: (p) => ({
        imageRegex: `^(${((p?.repos as string[]) ?? []).map((r) => r.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})`,
      }),
    },
  ];
const UPDATE_JUDGED =
  "Azure's templates have no UPDATE exemption (the library's skip UPDATE because the fields are immutable): the updated object is judged like a new one";
/** `<suite dir>|<test>|<case>` → the assertions Azure's semantics give, and why. */
const AZURE_DIFFERS: Record<string, { assertions: unknown[]; why: string }> = {
  "pod-security-policy/privileged-containers|privileged-containers-disallowed|update": {
    assertions: [{ violations: "yes" }],
    why: UPDATE_JUDGED,
  },
  "pod-security-policy/host-namespaces|host-namespace|update": {
    assertions: [{ violations: "yes" }],
    why: UPDATE_JUDGED,
  },
  "pod-security-policy/host-network-ports|port-range-with-host-network-allowed|update": {
    assertions: [{ violations: "yes" }],
    why: UPDATE_JUDGED,
  },
  "pod-security-policy/host-network-ports|port-range-with-host-network-forbidden|update": {
    assertions: [{ violations: "yes" }],
    why: UPDATE_JUDGED,
  },
  "pod-security-policy/host-network-ports|port-range-with-host-network-forbidden|exempted-image-still-violates-on-hostnetwork":
    {
      assertions: [{ violations: "no" }],
      why: "Azure reports hostNetwork per container that is not excluded: a Pod whose only container is excluded by image is not flagged",
    },
  "pod-security-policy/capabilities|capabilities-baseline|update": {
    assertions: [{ violations: "yes" }],
    why: UPDATE_JUDGED,
  },
  "pod-security-policy/capabilities|capabilities-restricted|update": {
    assertions: [{ violations: 2 }],
    why: UPDATE_JUDGED,
  },
  "pod-security-policy/host-filesystem|host-filesystem|disallowed-ephemeral": {
    assertions: [{ violations: "no" }],
    why: "Azure's host-path check looks only at volumes mounted by regular and init containers; this hostPath is mounted by an ephemeral container",
  },
  "pod-security-policy/host-filesystem|host-filesystem|update": {
    assertions: [{ violations: "yes" }],
    why: UPDATE_JUDGED,
  },
  "pod-security-policy/allow-privilege-escalation|allow-privilege-escalation|update": {
    assertions: [{ violations: "yes" }],
    why: UPDATE_JUDGED,
  },
  "pod-security-policy/volumes|host-path-disallowed|update": {
    assertions: [{ violations: "yes" }],
    why: UPDATE_JUDGED,
  },
  "pod-security-policy/users|users-and-groups-together|update": {
    assertions: [{ violations: "yes" }],
    why: UPDATE_JUDGED,
  },
  "pod-security-policy/seccomp|default-seccomp-required|example-disallowed-container-localhost-profile": {
    assertions: [
      { violations: 1, message: "Seccomp profile 'Localhost' with file 'profile.log' is not allowed" },
    ],
    why: "Azure names a securityContext profile by its type (Localhost) and file, not as the annotation localhost/<file>",
  },
  "general/allowedrepos|allowed-repos|initcontainer-disallowed": {
    assertions: [{ violations: 1, message: "container nginxinit has not been allowed" }],
    why: "Azure's message does not say which kind of container; the image is still rejected",
  },
  "general/allowedrepos|allowed-repos|both-disallowed": {
    assertions: [{ violations: 1, message: "nginx for container nginx .*nginx for container nginxinit" }],
    why: "one CEL validation yields one violation listing every rejected container (Azure's Rego reports one per container)",
  },
  "general/allowedrepos|allowed-repos|all-disallowed": {
    assertions: [{ violations: 1, message: "(for container nginx .*){3}" }],
    why: "one CEL validation yields one violation listing every rejected container (Azure's Rego reports one per container)",
  },
};

describe.skipIf(!library.ok)("(a) Azure templates on the gatekeeper-library samples", () => {
  it("agrees with the library's expectations wherever Azure's semantics are the same", async () => {
    const suites: string[] = [];
    const used = new Set<string>();
    for (const [i, c] of CONTROLS.entries()) {
      const suiteFile = join(LIBRARY, c.suite, "suite.yaml");
      const suite = parse(readFileSync(suiteFile, "utf8")) as {
        tests: Array<{ name: string; constraint: string; cases: Array<Record<string, unknown>> }>;
      };
      const ourTemplate = join(PRESET_DIR, `${c.template}.yaml`);
      const kind = parse(readFileSync(ourTemplate, "utf8")).spec.crd.spec.names.kind;
      const tests = suite.tests.map((t, j) => {
        const constraints = readFileSync(resolve(dirname(suiteFile), t.constraint), "utf8")
          .split(/^---$/m)
          .map((d) => parse(d))
          .filter(Boolean)
          .map((d) => ({ ...d, kind, spec: { ...d.spec, parameters: c.params(d.spec?.parameters) } }));
        const constraintFile = join(tmp, `c-${i}-${j}.yaml`);
        writeFileSync(constraintFile, constraints.map((d) => stringify(d)).join("---\n"));
        return {
          ...t,
          template: ourTemplate,
          constraint: constraintFile,
          cases: t.cases.map((k) => {
            const key = `${c.suite}|${t.name}|${k.name}`;
            const differs = AZURE_DIFFERS[key];
            if (differs) used.add(key);
            return {
              ...k,
              object: resolve(dirname(suiteFile), k.object as string),
              ...(differs ? { assertions: differs.assertions } : {}),
            };
          }),
        };
      });
      const file = join(tmp, `${c.suite.replace(/\//g, "_")}.suite.yaml`);
      writeFileSync(file, stringify({ kind: "Suite", apiVersion: "test.gatekeeper.sh/v1alpha1", tests }));
      suites.push(file);
    }
    const results = await runGatorSuites(suites, { root: tmp, engine: createCelEngine() });
    const failures = results
      .filter((r) => !r.ok)
      .map((r) => `${r.suite} ${r.test}/${r.case}: expected ${r.expected}, got ${r.actual} ${r.error ?? ""}`);
    expect(failures).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(70);
    expect([...used].sort()).toEqual(Object.keys(AZURE_DIFFERS).sort());
    console.log(
      `Azure presets on gatekeeper-library samples: ${results.length} cases, ${results.length - used.size} as the library expects, ${used.size} where Azure's semantics differ:\n${Object.entries(
        AZURE_DIFFERS,
      )
        .map(([k, v]) => `  ${k}: ${v.why}`)
        .join("\n")}`,
    );
  });
});

describe("(b) effects: Audit → dryrun → warn, Deny → deny → fail, Disabled → no constraint", () => {
  const dir = join(tmp, "effects");
  const manifest = join(dir, "pods.yaml");
  const write = () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      manifest,
      `apiVersion: v1
kind: Pod
metadata: { name: bad, namespace: shop }
spec:
  hostNetwork: true
  containers:
    - name: app
      image: nginx
      securityContext: { privileged: true }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  template:
    spec:
      volumes: [{ name: logs, hostPath: { path: /var/log } }]
      containers: [{ name: web, image: nginx, volumeMounts: [{ name: logs, mountPath: /logs }] }]
---
apiVersion: v1
kind: Pod
metadata: { name: good, namespace: shop }
spec:
  containers: [{ name: app, image: nginx }]
`,
    );
  };
  const check = (policies: string[]) =>
    policyCheck({
      manifests: ["pods.yaml"],
      render: "none",
      policies,
      mode: "enforce",
      config: defaultConfig(),
      root: dir,
    });

  it("Audit (the initiative default) reports warnings and passes the gate", async () => {
    write();
    const r = await check(["azure-pod-security-baseline"]);
    const rows = r.results.filter((x) => x.verdict !== "pass");
    expect(rows.map((x) => `${x.name} ${x.policy} ${x.verdict}`).sort()).toEqual([
      "bad K8sAzureV2NoPrivilege/azure-pod-security-baseline-no-privileged-containers warn",
      "bad K8sAzureV3HostNetworkingPorts/azure-pod-security-baseline-block-using-host-network warn",
      "web K8sAzureV4HostFilesystem/azure-pod-security-baseline-no-host-path-volume warn",
    ]);
    expect(r.passed).toBe(true);
    expect(r.policies.map((p) => p.title)).toContain(
      "K8sAzureV2NoPrivilege azure-pod-security-baseline-no-privileged-containers (dryrun)",
    );
  });

  it("Deny fails the gate, on Pods and on the Pods a Deployment will create", async () => {
    write();
    const r = await check(["azure-pod-security-baseline:deny"]);
    const rows = r.results.filter((x) => x.verdict !== "pass");
    expect(rows).toHaveLength(3);
    expect(rows.every((x) => x.verdict === "fail" && x.severity === "error")).toBe(true);
    expect(rows.find((x) => x.name === "web")?.message).toMatch(
      /HostPath volume logs \(\/var\/log\) is not allowed/,
    );
    expect(r.passed).toBe(false);
    expect(r.results.filter((x) => x.name === "good").every((x) => x.verdict === "pass")).toBe(true);
  });

  it("Disabled installs nothing; per-control effects override the initiative's", () => {
    expect(presetDocuments("azure-pod-security-baseline", { effect: "disabled" })).toEqual([]);
    const docs = presetDocuments("azure-pod-security-baseline", {
      parameters: { effect: "Deny" },
      controlEffects: { NoHostPathVolume: "disabled", BlockUsingHostNetwork: "audit" },
    });
    const actions = Object.fromEntries(
      docs
        .filter((d) => d.obj.apiVersion.startsWith("constraints."))
        .map((d) => [d.obj.kind, (d.obj.spec as { enforcementAction: string }).enforcementAction]),
    );
    expect(actions).toEqual({
      K8sAzureV2NoPrivilege: "deny",
      K8sAzureV3HostNetworkingPorts: "dryrun",
      K8sAzureV2BlockHostNamespace: "deny",
      K8sAzureV3AllowedCapabilities: "deny",
    });
  });

  it("reads an exported assignment: parameters, policyEffect overrides and DoNotEnforce", async () => {
    const assignment = {
      properties: {
        policyDefinitionId:
          "/providers/Microsoft.Authorization/policySetDefinitions/42b8ef37-b724-4e24-bbc8-7a7708edfe00",
        parameters: { effect: { value: "Deny" }, excludedNamespaces: { value: ["kube-system", "legacy"] } },
        overrides: [
          {
            kind: "policyEffect",
            value: "Audit",
            selectors: [{ kind: "policyDefinitionReferenceId", in: ["AllowedSeccompProfiles"] }],
          },
        ],
      },
    };
    const docs = presetFromAssignment(assignment, "assignment.json")!;
    const constraints = docs.filter((d) => d.obj.apiVersion.startsWith("constraints."));
    expect(constraints).toHaveLength(8);
    const seccomp = constraints.find((d) => d.obj.kind === "K8sAzureV3AllowedSeccomp")!;
    expect(seccomp.obj.spec).toMatchObject({
      enforcementAction: "dryrun",
      match: { excludedNamespaces: ["kube-system", "legacy"] },
    });
    expect(seccomp.source.file).toBe("assignment.json");
    expect(
      constraints.filter((d) => (d.obj.spec as { enforcementAction: string }).enforcementAction === "deny"),
    ).toHaveLength(7);
    const relaxed = presetFromAssignment(
      { ...assignment.properties, enforcementMode: "DoNotEnforce" },
      "a.json",
    )!;
    expect(
      relaxed.every((d) => (d.obj.spec as { enforcementAction?: string }).enforcementAction !== "deny"),
    ).toBe(true);
    expect(presetFromAssignment({ kind: "Pod" }, "x.json")).toBeUndefined();
    expect(() =>
      presetFromAssignment({ policyDefinitionId: "/providers/x/policyDefinitions/0000" }, "other.json"),
    ).toThrow(/not one of the Azure presets/);

    writeFileSync(join(tmp, "assignment.json"), JSON.stringify(assignment));
    const sel = await selectPresets(["builtin", "assignment.json", "azure-pod-security-baseline:audit"], {
      config: defaultConfig(),
      root: tmp,
    });
    expect(sel.rest).toEqual(["builtin"]);
    // Templates both presets use are installed once.
    const templates = sel.objects
      .filter((o) => o.obj.kind === "ConstraintTemplate")
      .map((o) => o.obj.metadata.name);
    expect(new Set(templates).size).toBe(templates.length);
    expect(templates).toHaveLength(9);
  });
});

describe("(c) namespaces", () => {
  const spec = { containers: [{ name: "a", image: "nginx", securityContext: { privileged: true } }] };
  const objects = [
    "kube-system",
    "gatekeeper-system",
    "azure-arc",
    "azure-extensions-usage-system",
    "shop",
    "legacy",
  ].map((ns) => loaded(pod(`p-${ns}`, ns, spec)));
  const flagged = async (policies: CompiledPolicy[]) =>
    [
      ...new Set(
        evaluateAll(objects, policies)
          .filter((r) => r.verdict !== "pass")
          .map((r) => r.namespace),
      ),
    ].sort();
  const preset = async (name: string) =>
    (await loadPolicies([name], { config: defaultConfig(), root: tmp })).policies;

  it("honours the default excluded namespaces", async () => {
    expect(await flagged(await preset("azure-pod-security-baseline"))).toEqual(["legacy", "shop"]);
    expect(await flagged(await preset("azure-pod-security-restricted"))).toEqual(["legacy", "shop"]);
    expect(await flagged(await preset("azure-pod-security-restricted:deny"))).toEqual(["legacy", "shop"]);
  });

  it("takes excludedNamespaces and namespaces from the parameters", async () => {
    const withParams = async (parameters: Record<string, unknown>) =>
      flagged(await compile(presetDocuments("azure-pod-security-baseline", { parameters })));
    expect(await withParams({ excludedNamespaces: ["legacy"] })).toEqual([
      "azure-arc",
      "azure-extensions-usage-system",
      "gatekeeper-system",
      "kube-system",
      "shop",
    ]);
    // As in Gatekeeper, an included namespace that is also excluded stays excluded.
    expect(await withParams({ namespaces: ["legacy", "kube-system"] })).toEqual(["legacy"]);
  });
});

describe("azure-allowed-images", () => {
  it("builds allowedContainerImagesRegex from registries.trusted when none is given", async () => {
    expect(trustedRegistriesRegex(["northwind.azurecr.io", "mcr.microsoft.com/oss/"])).toBe(
      "^(northwind\\.azurecr\\.io|mcr\\.microsoft\\.com/oss)/.+$",
    );
    const sel = await loadPolicies(["azure-allowed-images"], {
      config: config(["northwind.azurecr.io", "mcr.microsoft.com/oss/"]),
      root: tmp,
    });
    const p = pod("p", "shop", {
      initContainers: [{ name: "init", image: "mcr.microsoft.com/oss/busybox:1" }],
      containers: [
        { name: "app", image: "northwind.azurecr.io/shop/api@sha256:0123" },
        { name: "sidecar", image: "mcr.microsoft.com/ossevil/x" },
        { name: "hub", image: "nginx:1.27" },
      ],
      ephemeralContainers: [{ name: "debug", image: "evil.io/northwind.azurecr.io/x" }],
    });
    const rows = evaluateAll([loaded(p)], sel.policies);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      policy: "K8sAzureV2ContainerAllowedImages/azure-allowed-images-container-allowed-images",
      verdict: "fail",
    });
    expect(rows[0]!.message.match(/for container (\w+)/g)).toEqual([
      "for container sidecar",
      "for container hub",
      "for container debug",
    ]);
  });

  it("uses the given regex unanchored, as Azure does, and honours excludedContainers", async () => {
    const docs = presetDocuments("azure-allowed-images", {
      parameters: { allowedContainerImagesRegex: "azurecr\\.io/", excludedContainers: ["hub"] },
    });
    const policies = await compile(docs);
    const p = pod("p", "shop", {
      containers: [
        { name: "a", image: "x.azurecr.io/a" },
        { name: "b", image: "evil.io/x.azurecr.io/a" },
        { name: "hub", image: "nginx" },
        { name: "c", image: "docker.io/library/nginx" },
      ],
    });
    const rows = evaluateAll([loaded(p)], policies);
    expect(rows[0]!.message).toMatch(
      /^Container image docker.io\/library\/nginx for container c has not been allowed/,
    );
    expect(rows[0]!.message).not.toMatch(/container (a|b|hub)\b/);
  });

  it("needs a regex, and a valid RE2 one", () => {
    expect(() => presetDocuments("azure-allowed-images")).toThrow(/needs allowedContainerImagesRegex/);
    expect(() =>
      presetDocuments("azure-allowed-images", { parameters: { allowedContainerImagesRegex: "^(?!evil)" } }),
    ).toThrow(/not valid RE2/);
  });
});

describe("(d) the bundled CLI", () => {
  it("runs the presets from the esbuild bundle (policy check --policies azure-pod-security-baseline --json)", () => {
    const bundle = join(tmp, "platform.js");
    const built = spawnSync(
      process.execPath,
      [join(REPO, "scripts/bundle.mjs"), join(REPO, "packages/cli/src/bin.ts"), bundle, "--executable"],
      { cwd: REPO, encoding: "utf8" },
    );
    expect(built.status, built.stderr).toBe(0);
    const dir = join(tmp, "cli");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "pod.yaml"),
      "apiVersion: v1\nkind: Pod\nmetadata: { name: priv, namespace: shop }\nspec:\n  containers: [{ name: a, image: nginx, securityContext: { privileged: true } }]\n",
    );
    const run = (policies: string) =>
      spawnSync(process.execPath, [bundle, "policy", "check", "pod.yaml", "--policies", policies, "--json"], {
        cwd: dir,
        encoding: "utf8",
      });
    const audit = run("azure-pod-security-baseline");
    expect(audit.status, audit.stderr).toBe(0);
    const rows = JSON.parse(audit.stdout).results as Array<{ policy: string; verdict: string }>;
    expect(rows).toContainEqual(
      expect.objectContaining({
        policy: "K8sAzureV2NoPrivilege/azure-pod-security-baseline-no-privileged-containers",
        verdict: "warn",
      }),
    );
    const deny = run("azure-pod-security-baseline:deny");
    expect(deny.status).toBe(1);
    expect(JSON.parse(deny.stdout).results).toContainEqual(
      expect.objectContaining({
        policy: "K8sAzureV2NoPrivilege/azure-pod-security-baseline-no-privileged-containers",
        verdict: "fail",
      }),
    );
  }, 120_000);
});

describe("10,000 objects against the baseline preset", () => {
  it("evaluates quickly (timing printed for the bench)", async () => {
    const t0 = performance.now();
    const sel = await loadPolicies(["azure-pod-security-baseline"], { config: defaultConfig(), root: tmp });
    const t1 = performance.now();
    const objects: LoadedObject[] = [];
    for (let i = 0; i < 10_000; i++) {
      const spec = {
        containers: [
          {
            name: "app",
            image: `northwind.azurecr.io/app${i % 50}:1.${i % 7}`,
            ports: [{ containerPort: 8080n }],
            securityContext: i % 10 === 0 ? { privileged: true } : { capabilities: { drop: ["ALL"] } },
          },
        ],
        volumes: [{ name: "cfg", configMap: { name: "cfg" } }],
      };
      objects.push(
        loaded(
          i % 2 === 0
            ? pod(`p${i}`, `team${i % 20}`, spec)
            : {
                apiVersion: "apps/v1",
                kind: "Deployment",
                metadata: { name: `d${i}`, namespace: `team${i % 20}` },
                spec: { template: { spec } },
              },
        ),
      );
    }
    const t2 = performance.now();
    const rows = evaluateAll(objects, sel.policies);
    const t3 = performance.now();
    expect(rows.filter((r) => r.verdict === "warn")).toHaveLength(1000);
    console.log(
      `azure-pod-security-baseline: load+compile ${(t1 - t0).toFixed(0)} ms; 10,000 objects × ${sel.policies.length} constraints evaluated in ${(t3 - t2).toFixed(0)} ms (${rows.length} rows)`,
    );
  }, 60_000);
});
