import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PlatformConfig } from "@platform/core";
import { policyCheck } from "@platform/policy";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { randomConfig } from "../../../test/fixtures/teams.ts";
import { BICEP_PARAMETERS, imageInEffect, renderTeams } from "./render.ts";
import { parseTeamsConfig, validateTeams } from "./validate.ts";
import { checkRender, readRender, writeRender } from "./write.ts";

const EXAMPLE = join(import.meta.dirname, "../../../examples/northwind");
const CONFIG_FILE = join(EXAMPLE, "platform.yaml");
const northwind = async () => parseTeamsConfig(await readFile(CONFIG_FILE, "utf8"), CONFIG_FILE);
// Rendered objects are walked by known paths; a recursive index type keeps that readable without `any`.
// biome-ignore lint/suspicious/noExplicitAny: the tests walk rendered YAML by paths they know
type Deep = any;
const temps: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), "tenancy-"));
  temps.push(d);
  return d;
};
afterAll(() => Promise.all(temps.map((d) => rm(d, { recursive: true, force: true }))));

type K = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: Deep;
};
const objectsOf = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as K);
const allObjects = (files: Map<string, string>) =>
  [...files].filter(([p]) => p.endsWith(".yaml")).flatMap(([, t]) => objectsOf(t));

/** Runs every built-in guardrail over a render written to disk; returns the failing rows. */
async function guardrailFailures(config: PlatformConfig, files: Map<string, string>) {
  const dir = await tempDir();
  await writeRender(dir, { files, notes: [] });
  const teamDirs = [
    ...new Set([...files.keys()].filter((p) => p.endsWith(".yaml")).map((p) => p.split("/")[0]!)),
  ];
  const r = await policyCheck({
    manifests: teamDirs,
    render: "none",
    policies: ["builtin"],
    mode: "enforce",
    config,
    root: dir,
  });
  // Warnings count too: the dry-run knows the declared callers (platform.yaml calledBy), so a render that allows
  // only those draws no finding at all.
  const bad = r.results.filter((x) => x.verdict === "fail" || x.verdict === "error" || x.verdict === "warn");
  return { result: r, bad };
}

/** The fast emitter writes exactly what the `yaml` package writes for the same objects (and they parse back). */
function expectYamlLibraryBytes(files: Map<string, string>) {
  for (const [path, text] of files) {
    if (!path.endsWith(".yaml")) continue;
    const docs = parseAllDocuments(text, { uniqueKeys: true });
    for (const d of docs) expect(d.errors).toEqual([]);
    const again =
      text.slice(0, text.indexOf("\n") + 1) +
      docs
        .map((d) => stringify(d.toJS(), { sortMapEntries: true, lineWidth: 0, aliasDuplicateObjects: false }))
        .join("---\n");
    expect(text, path).toBe(again);
  }
}

describe("renderTeams on Northwind (golden)", () => {
  it("writes YAML byte-identical to the yaml package's own output", async () => {
    expectYamlLibraryBytes(renderTeams(await northwind()).files);
  });

  it("matches the committed render byte for byte (examples/northwind/teams)", async () => {
    const drift = await checkRender(join(EXAMPLE, "teams"), renderTeams(await northwind()));
    expect(drift.diff).toBe("");
    expect(drift.drifted).toEqual([]);
  });

  it("renders the same bytes twice and in any team or service order", async () => {
    const config = await northwind();
    const a = renderTeams(config);
    const shuffled: PlatformConfig = {
      ...config,
      teams: [...config.teams].reverse().map((t) => ({ ...t, services: [...t.services].reverse() })),
    };
    expect([...renderTeams(shuffled).files]).toEqual([...a.files]);
    expect([...renderTeams(config).files]).toEqual([...a.files]);
  });

  it("gives each team a restricted, ambient, quota'd, default-deny namespace bound to its owners' groups", async () => {
    const config = await northwind();
    const objs = allObjects(renderTeams(config).files);
    for (const team of config.teams) {
      const ns = team.namespace;
      const inNs = objs.filter(
        (o) => o.metadata.namespace === ns || (o.kind === "Namespace" && o.metadata.name === ns),
      );
      const namespace = inNs.find((o) => o.kind === "Namespace")!;
      expect(namespace.metadata.labels).toMatchObject({
        "pod-security.kubernetes.io/enforce": "restricted",
        "istio.io/dataplane-mode": "ambient",
      });
      expect(inNs.find((o) => o.kind === "ResourceQuota")?.spec.hard.pods).toBe(String(team.quotas.pods));
      expect(inNs.find((o) => o.kind === "PeerAuthentication")?.spec).toEqual({ mtls: { mode: "STRICT" } });
      expect(
        inNs.find((o) => o.kind === "AuthorizationPolicy" && o.metadata.name === "default-deny")?.spec,
      ).toEqual({});
      const rb = inNs.find((o) => o.kind === "RoleBinding") as unknown as {
        subjects: Array<{ kind: string; name: string }>;
      };
      expect(rb.subjects.map((s) => s.name).sort()).toEqual([...team.owners].sort());
      expect(rb.subjects.every((s) => s.kind === "Group")).toBe(true);
    }
  });

  it("allows exactly the declared callers, by SPIFFE principal, and the Gateway for exposed services", async () => {
    const objs = allObjects(renderTeams(await northwind()).files);
    const allow = (ns: string, name: string) =>
      objs.find(
        (o) =>
          o.kind === "AuthorizationPolicy" &&
          o.metadata.namespace === ns &&
          o.metadata.name === `${name}-allow-callers`,
      )?.spec.rules[0].from[0].source.principals;
    expect(allow("orders", "api")).toEqual([
      "cluster.local/ns/orders/sa/worker",
      "cluster.local/ns/storefront/sa/web",
    ]);
    // a cycle (api ↔ worker) renders both allows
    expect(allow("orders", "worker")).toEqual(["cluster.local/ns/orders/sa/api"]);
    expect(allow("payments", "gateway")).toEqual(["cluster.local/ns/orders/sa/api"]);
    expect(allow("storefront", "web")).toEqual(["cluster.local/ns/gateway-system/sa/platform-gateway-istio"]);
    // Services nobody declared as a caller get no ALLOW: default-deny answers every request.
    expect(allow("inventory", "warehouse-sync")).toBeUndefined();
    const routes = objs.filter((o) => o.kind === "HTTPRoute");
    expect(routes.flatMap((r) => r.spec.hostnames).sort()).toEqual([
      "shop.northwind.example",
      "support.northwind.example",
      "track.northwind.example",
    ]);
  });

  it("wires workload identity: client id from platform.yaml, else a Flux substitution of the Bicep output (said so)", async () => {
    const r = renderTeams(await northwind());
    const objs = allObjects(r.files);
    const sa = (ns: string, n: string) =>
      objs.find(
        (o) => o.kind === "ServiceAccount" && o.metadata.namespace === ns && o.metadata.name === n,
      ) as unknown as {
        metadata: { annotations: Record<string, string> };
      };
    expect(sa("storefront", "web").metadata.annotations["azure.workload.identity/client-id"]).toBe(
      "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e",
    );
    expect(sa("orders", "api").metadata.annotations["azure.workload.identity/client-id"]).toBe(
      "$" + "{CLIENT_ID_ORDERS_API}",
    );
    expect(r.notes.some((n) => n.startsWith("orders/api: client id from the layer-3 Bicep output"))).toBe(
      true,
    );
    expect(r.notes.some((n) => n.startsWith("storefront/web"))).toBe(false);
    const flux = objectsOf(r.files.get("flux/orders.yaml")!)[0]!;
    expect(flux.spec.postBuild.substituteFrom).toEqual([
      { kind: "ConfigMap", name: "tenancy-identities", optional: false },
    ]);
    expect(flux.spec.path).toBe("./teams/orders");
    const params = JSON.parse(r.files.get(BICEP_PARAMETERS)!);
    const ids = params.parameters.workloadIdentities.value as Array<Record<string, Deep>>;
    const config = await northwind();
    expect(ids.map((i) => i.name).sort()).toEqual(
      config.teams.flatMap((t) => t.services.map((s) => `id-${t.namespace}-${s.name}`)).sort(),
    );
    expect(ids).toHaveLength(28);
    expect(new Set(ids.map((i) => i.team)).size).toBe(6);
    const api = ids.find((i) => i.name === "id-orders-api")!;
    expect(api.federatedCredential).toEqual({
      name: "fc-orders-api",
      subject: "system:serviceaccount:orders:api",
      audiences: ["api://AzureADTokenExchange"],
    });
    expect(api.roleAssignments).toContainEqual({
      role: "Key Vault Secrets User",
      keyVaultName: "kv-northwind-orders",
    });
    expect(ids.find((i) => i.name === "id-storefront-web")!.roleAssignments).toEqual([]);
  });

  it("schedules each pool class onto its nodes", async () => {
    const objs = allObjects(renderTeams(await northwind()).files);
    const pod = (ns: string, n: string) =>
      objs.find((o) => o.kind === "Deployment" && o.metadata.namespace === ns && o.metadata.name === n)!.spec
        .template.spec;
    expect(pod("orders", "worker").tolerations).toEqual([
      {
        key: "kubernetes.azure.com/scalesetpriority",
        operator: "Equal",
        value: "spot",
        effect: "NoSchedule",
      },
    ]);
    expect(pod("storefront", "recommendations").containers[0].resources.limits["nvidia.com/gpu"]).toBe("1");
    expect(pod("orders", "api").tolerations).toBeUndefined();
    expect(pod("orders", "api").nodeSelector).toEqual({ "platform.io/pool-class": "general" });
  });

  it("passes every built-in guardrail", async () => {
    const config = await northwind();
    const { result, bad } = await guardrailFailures(config, renderTeams(config).files);
    expect(bad).toEqual([]);
    expect(result.objects).toBeGreaterThan(40);
    expect(result.passed).toBe(true);
  });

  it("renders the Cilium equivalent and the add-on revision label when configured", async () => {
    const config = await northwind();
    const cilium = allObjects(
      renderTeams({ ...config, tenancy: { ...config.tenancy!, mesh: "cilium" } }).files,
    );
    expect(cilium.some((o) => o.apiVersion.startsWith("security.istio.io"))).toBe(false);
    const cnp = cilium.find(
      (o) => o.kind === "CiliumNetworkPolicy" && o.metadata.name === "api-allow-callers",
    )!;
    expect(cnp.spec.ingress[0].fromEndpoints).toContainEqual({
      matchLabels: {
        "k8s:io.kubernetes.pod.namespace": "storefront",
        "k8s:io.cilium.k8s.policy.serviceaccount": "web",
      },
    });
    expect(
      cilium.find((o) => o.kind === "CiliumNetworkPolicy" && o.metadata.name === "default-deny")?.spec,
    ).toEqual({
      endpointSelector: {},
      ingress: [{}],
    });
    const rev = allObjects(
      renderTeams({ ...config, tenancy: { ...config.tenancy!, istioRevision: "asm-1-25" } }).files,
    );
    const ns = rev.find((o) => o.kind === "Namespace")!;
    expect(ns.metadata.labels?.["istio.io/rev"]).toBe("asm-1-25");
    expect(ns.metadata.labels?.["istio.io/dataplane-mode"]).toBeUndefined();
  });
});

describe("writeRender and checkRender", () => {
  it("re-running changes nothing; a removed service's files are removed and reported; drift is a diff", async () => {
    const out = await tempDir();
    const config = await northwind();
    const first = await writeRender(out, renderTeams(config));
    // Per team a namespace file and a Flux Kustomization, per service one file, and the Bicep parameters.
    expect(first.written.length).toBe(6 * 2 + 28 + 1);
    const again = await writeRender(out, renderTeams(config));
    expect(again).toEqual({ written: [], unchanged: first.written, removed: [] });

    const fewer: PlatformConfig = {
      ...config,
      // customers/support goes: its own file, and the ALLOWs naming it as a caller.
      teams: config.teams.map((t) => ({
        ...t,
        services: t.services
          .filter((s) => !(t.name === "customers" && s.name === "support"))
          .map((s) => ({
            ...s,
            calledBy: s.calledBy.filter(
              (c) => c !== "customers/support" && !(t.name === "customers" && c === "support"),
            ),
          })),
      })),
    };
    validateTeams(fewer);
    const drift = await checkRender(out, renderTeams(fewer));
    expect(drift.drifted).toEqual([
      "bicep/layer3.parameters.json",
      "customers/accounts.yaml",
      "customers/support.yaml",
      "orders/returns.yaml",
    ]);
    expect(drift.diff).toContain("--- a/customers/support.yaml\n+++ /dev/null");
    expect(drift.diff).toContain("-              - cluster.local/ns/customers/sa/support");
    const removed = await writeRender(out, renderTeams(fewer));
    expect(removed.removed).toEqual(["customers/support.yaml"]);
    expect((await checkRender(out, renderTeams(fewer))).drifted).toEqual([]);
  });

  it("leaves files it does not own alone", async () => {
    const out = await tempDir();
    await writeFile(join(out, "README.yaml"), "kind: ConfigMap\n");
    const r = await writeRender(out, renderTeams(await northwind()));
    expect(r.removed).toEqual([]);
    expect(await readFile(join(out, "README.yaml"), "utf8")).toBe("kind: ConfigMap\n");
  });

  it("a hand edit is drift", async () => {
    const out = await tempDir();
    const config = await northwind();
    await writeRender(out, renderTeams(config));
    const p = join(out, "orders/namespace.yaml");
    await writeFile(p, (await readFile(p, "utf8")).replace("mode: STRICT", "mode: PERMISSIVE"));
    const drift = await checkRender(out, renderTeams(config));
    expect(drift.drifted).toEqual(["orders/namespace.yaml"]);
    expect(drift.diff).toContain("-    mode: PERMISSIVE\n+    mode: STRICT");
  });
});

describe("image ownership: platform.yaml seeds the image, digest-bump owns it after", () => {
  const API = "northwindacr.azurecr.io/orders/api";
  const BUMPED = `sha256:${"e".repeat(64)}`;
  /** The render as `platform team render|check` sees it: the committed files are an input. */
  const rerender = async (out: string, config: PlatformConfig) =>
    renderTeams(config, { committed: await readRender(out) });
  /** Writes the Northwind render and edits orders/api.yaml as `edit` says; returns the out dir and the original text. */
  async function committed(edit: (text: string, declared: string) => string) {
    const out = await tempDir();
    const config = await northwind();
    await writeRender(out, renderTeams(config));
    const file = join(out, "orders/api.yaml");
    const text = await readFile(file, "utf8");
    const declared = config.teams.find((t) => t.name === "orders")!.services.find((s) => s.name === "api")!
      .image!;
    expect(text).toContain(`image: ${declared}\n`);
    await writeFile(file, edit(text, declared));
    return { out, config, file, text, declared };
  }

  it("a digest bump (only the digest bytes changed) is not drift, and re-render keeps it", async () => {
    const { out, config, file, declared } = await committed((t, d) => t.replace(d, `${API}@${BUMPED}`));
    const bumped = await readFile(file, "utf8");
    expect(await checkRender(out, await rerender(out, config))).toEqual({ drifted: [], diff: "" });
    const r = await rerender(out, config);
    expect(r.notes).toContainEqual(expect.stringContaining(`orders/api: image ${API}@${BUMPED} kept`));
    expect((await writeRender(out, r)).written).toEqual([]);
    expect(await readFile(file, "utf8")).toBe(bumped);
    // Without the committed render (a fresh checkout's first render) platform.yaml's image is the value.
    expect(renderTeams(config).files.get("orders/api.yaml")).toContain(`image: ${declared}\n`);
  });

  it("a hand edit of another field beside a bump is drift, and the diff shows only that field", async () => {
    const { out, config } = await committed((t, d) =>
      t.replace(d, `${API}@${BUMPED}`).replace("minAvailable: 1", "minAvailable: 0"),
    );
    const drift = await checkRender(out, await rerender(out, config));
    expect(drift.drifted).toEqual(["orders/api.yaml"]);
    expect(drift.diff).toContain("-  minAvailable: 0\n+  minAvailable: 1");
    expect(drift.diff).not.toContain(BUMPED);
  });

  it("another repository, a tag where the digest was, or a malformed digest is drift, reverted by render", async () => {
    for (const replacement of [
      `northwindacr.azurecr.io/orders/api-fork@${BUMPED}`,
      `docker.io/library/nginx@${BUMPED}`,
      `${API}:latest`,
      `${API}@sha256:${"e".repeat(63)}`,
    ]) {
      const { out, config, text } = await committed((t, d) => t.replace(d, replacement));
      const drift = await checkRender(out, await rerender(out, config));
      expect(drift.drifted, replacement).toEqual(["orders/api.yaml"]);
      expect(drift.diff).toContain(`-        - image: ${replacement}`);
      await writeRender(out, await rerender(out, config));
      expect(await readFile(join(out, "orders/api.yaml"), "utf8")).toBe(text);
    }
  });

  it("imageInEffect: the committed image wins only when pinned by digest in the declared repository", () => {
    const declared = { image: `${API}@sha256:${"a".repeat(64)}` };
    expect(imageInEffect(declared, undefined)).toBe(declared.image);
    expect(imageInEffect(declared, `${API}@${BUMPED}`)).toBe(`${API}@${BUMPED}`);
    // A tag beside the digest still pins it (digest-bump's tag-policy may write one).
    expect(imageInEffect(declared, `${API}:1.4.2@${BUMPED}`)).toBe(`${API}:1.4.2@${BUMPED}`);
    expect(imageInEffect(declared, `${API}:1.4.2`)).toBe(declared.image);
    expect(imageInEffect(declared, `NorthwindACR.azurecr.io/orders/api@${BUMPED}`)).toBe(declared.image);
    expect(imageInEffect(declared, `${API}@sha512:${"e".repeat(128)}`)).toBe(declared.image);
    expect(imageInEffect(declared, "")).toBe(declared.image);
    expect(imageInEffect({ image: undefined }, `${API}@${BUMPED}`)).toBe("");
  });
});

describe("property: any valid platform.yaml renders manifests that pass every built-in guardrail", () => {
  const seeds = Array.from({ length: 30 }, (_, i) => 1000 + i);
  it.each(seeds)("seed %i", async (seed) => {
    const config = randomConfig(seed);
    const { files } = renderTeams(config);
    expect([...renderTeams(config).files]).toEqual([...files]);
    expectYamlLibraryBytes(files);
    const { result, bad } = await guardrailFailures(config, files);
    expect(bad).toEqual([]);
    expect(result.objects).toBeGreaterThanOrEqual(config.teams.length * 4);
  });
});
