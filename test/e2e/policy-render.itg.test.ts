// The policy check's renders with the real kustomize and helm: what a kustomization may read, where findings
// on rendered objects point, and what a directory walk judges or skips (issue 15 §4, §5).
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseConfig } from "@platform/core";
import { loadManifests, policyCheck } from "@platform/policy";
import { afterAll, describe, expect, it } from "vitest";
import { writeWorkspace } from "../harness/workspace.ts";
import { requirePeers } from "../peers/index.ts";

const peers = requirePeers("kustomize", "helm");
const tools = { kustomize: peers.paths.kustomize, helm: peers.paths.helm };
const D = `sha256:${"a".repeat(64)}`;
const made: string[] = [];

async function workspace(files: Record<string, string>): Promise<string> {
  const root = await writeWorkspace(files, "render-");
  made.push(root);
  return root;
}

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: t\n`;
const deploy = (name: string, image: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n  namespace: t\nspec:\n  selector:\n    matchLabels: {app: ${name}}\n  template:\n    metadata:\n      labels: {app: ${name}}\n    spec:\n      containers:\n        - name: app\n          image: ${image}\n`;
const config = parseConfig("registries:\n  trusted: [acr.io]\n", "platform.yaml");

function check(root: string, manifests: string[], policies = ["PLAT002"]) {
  return policyCheck(
    { manifests, render: "auto", policies, mode: "enforce", config, root },
    { tools: { kustomize: tools.kustomize, helm: tools.helm } },
  );
}

afterAll(async () => {
  for (const d of made) await rm(d, { recursive: true, force: true });
});

describe.skipIf(!peers.ok)("kustomize renders stay inside the workspace", () => {
  it("refuses a base outside the workspace, at the kustomization line, and renders nothing of it", async () => {
    const outside = await workspace({
      "outside/kustomization.yaml": "resources: [cm.yaml]\n",
      "outside/cm.yaml": cm("secret"),
    });
    const root = await workspace({
      "apps/app/kustomization.yaml": `resources:\n  - cm.yaml\n  - ${join(outside, "outside")}\n`,
      "apps/app/cm.yaml": cm("mine"),
    });
    // The same through a relative path that climbs out.
    await mkdir(join(root, "apps", "up"), { recursive: true });
    await writeFile(
      join(root, "apps", "up", "kustomization.yaml"),
      `resources:\n  - ../../../${join(outside, "outside").split("/").slice(-2).join("/")}\n`,
    );
    const r = await loadManifests({ inputs: ["apps/app", "apps/up"], render: "auto", root, tools });
    expect(r.objects.map((o) => o.obj.metadata.name)).toEqual([]);
    expect(r.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          file: "apps/app/kustomization.yaml",
          line: 3,
          verdict: "error",
          message: expect.stringContaining("resolves outside the workspace"),
        }),
        expect.objectContaining({
          file: "apps/up/kustomization.yaml",
          line: 2,
          message: expect.stringContaining("resolves outside the workspace"),
        }),
      ]),
    );
  });

  it("refuses remote bases and charts that are not vendored unless allowed", async () => {
    const root = await workspace({
      "k/kustomization.yaml":
        "resources:\n  - https://example.com/deploy.yaml\n  - github.com/org/repo//base?ref=v1\n  - cm.yaml\nhelmCharts:\n  - name: redis\n    repo: https://charts.example.com\n    version: 1.0.0\n",
      "k/cm.yaml": cm("c"),
    });
    const r = await loadManifests({ inputs: ["k"], render: "auto", root, tools });
    expect(r.objects).toEqual([]);
    expect(r.problems.map((p) => `${p.line}: ${p.message.split(":")[0]}`)).toEqual([
      "2: k is not rendered",
      "3: k is not rendered",
      "6: k is not rendered",
    ]);
    expect(r.problems.every((p) => p.message.includes("remote base"))).toBe(true);
  });
});

describe.skipIf(!peers.ok)("findings on kustomize output", () => {
  it("attribute each object to its exact base document, never by substring (namePrefix over api and orders-api)", async () => {
    const root = await workspace({
      "base/kustomization.yaml": "resources: [d.yaml]\n",
      "base/d.yaml": `${deploy("api", `acr.io/api@${D}`)}---\n${deploy("orders-api", "acr.io/orders:1")}`,
      "prod/kustomization.yaml": "resources: [../base]\nnamePrefix: prod-\n",
    });
    const r = await check(root, ["prod"]);
    const fail = r.results.filter((x) => x.verdict === "fail");
    expect(fail.map((x) => [x.name, x.file, x.line])).toEqual([["prod-orders-api", "base/d.yaml", 31]]);
    // kustomize's own annotations are not left on the objects the policies see.
    const loaded = await loadManifests({ inputs: ["prod"], render: "auto", root, tools });
    expect(loaded.objects.map((o) => o.obj.metadata.annotations)).toEqual([undefined, undefined]);
    expect(loaded.objects.map((o) => o.source.line)).toEqual([1, 17]);
  });

  it("point an image set by kustomize `images:` at the kustomization entry that set it", async () => {
    const root = await workspace({
      "base/kustomization.yaml": "resources: [d.yaml]\n",
      "base/d.yaml": deploy("api", `acr.io/api@${D}`),
      "prod/kustomization.yaml":
        "resources: [../base]\nimages:\n  - name: other\n    newTag: x\n  - name: acr.io/api\n    newTag: '2.0'\n",
    });
    const r = await check(root, ["prod"]);
    expect(r.results.filter((x) => x.verdict === "fail").map((x) => [x.file, x.line])).toEqual([
      ["prod/kustomization.yaml", 5],
    ]);
  });

  it("name the overlay on rows for one base rendered by several overlays", async () => {
    const root = await workspace({
      "base/kustomization.yaml": "resources: [d.yaml]\n",
      "base/d.yaml": deploy("api", "acr.io/api:1"),
      "overlays/dev/kustomization.yaml": "resources: [../../base]\n",
      "overlays/prod/kustomization.yaml": "resources: [../../base]\n",
    });
    const r = await check(root, ["."]);
    const fail = r.results.filter((x) => x.verdict === "fail");
    expect(fail.map((x) => [x.file, x.line, x.via])).toEqual([
      ["base/d.yaml", 15, "overlays/dev"],
      ["base/d.yaml", 15, "overlays/prod"],
    ]);
  });
});

describe.skipIf(!peers.ok)("a directory walk judges manifests and lists what it skips", () => {
  it("checks *config.yaml and .json manifests, and skips patches, unused Components and documents without apiVersion/kind", async () => {
    const root = await workspace({
      "app/base/kustomization.yaml": "resources: [d.yaml]\n",
      "app/base/d.yaml": deploy("api", `acr.io/api@${D}`),
      "app/prod/kustomization.yaml":
        "resources: [../base]\npatches:\n  - path: patches/replicas.yaml\ncomponents: [../components/used]\n",
      "app/prod/patches/replicas.yaml":
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: t\nspec:\n  replicas: 3\n",
      "app/components/used/kustomization.yaml":
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nlabels:\n  - pairs: {used: 'yes'}\n",
      "app/components/unused/kustomization.yaml":
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [extra.yaml]\n",
      "app/components/unused/extra.yaml": cm("extra"),
      "app/logging-config.yaml": deploy("logger", "acr.io/logger:1"),
      "app/svc.json": JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "j", namespace: "t" },
        spec: { containers: [{ name: "c", image: "acr.io/j:1" }] },
      }),
      "app/values-prod.yaml": "replicas: 3\n",
    });
    const r = await check(root, ["app"]);
    expect(
      r.results
        .filter((x) => x.verdict === "fail")
        .map((x) => `${x.kind}/${x.name}`)
        .sort(),
    ).toEqual(["Deployment/logger", "Pod/j"]);
    expect(r.results.filter((x) => x.verdict === "error")).toEqual([]);
    expect(r.skipped).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: "app/prod/patches/replicas.yaml",
          reason: expect.stringContaining("patch"),
        }),
        expect.objectContaining({
          path: "app/components/unused",
          reason: expect.stringContaining("Component"),
        }),
        expect.objectContaining({
          path: "app/values-prod.yaml",
          reason: expect.stringContaining("no apiVersion or kind"),
        }),
      ]),
    );
    expect(r.skipped.map((s) => s.path)).not.toContain("app/logging-config.yaml");
  });
});

describe.skipIf(!peers.ok)("helm through kustomize and on its own", () => {
  const chart = {
    "Chart.yaml": 'apiVersion: v2\nname: c\nversion: 0.1.0\nkubeVersion: ">=1.32.0-0"\n',
    "values.yaml": "replicas: 1\n",
    "templates/d.yaml": deploy("chart", "acr.io/chart:1").replace("name: chart", "name: {{ .Release.Name }}"),
  };
  const withPrefix = (p: string, files: Record<string, string>) =>
    Object.fromEntries(Object.entries(files).map(([k, v]) => [`${p}/${k}`, v]));

  it("renders a kustomization's vendored chart with --enable-helm and the kube version, and not on its own", async () => {
    const root = await workspace({
      "k/kustomization.yaml": "helmCharts:\n  - name: c\n    releaseName: rel\n",
      ...withPrefix("k/charts/c", chart),
    });
    const r = await check(root, ["."]);
    expect(r.results.filter((x) => x.verdict === "error")).toEqual([]);
    expect(r.results.filter((x) => x.verdict === "fail").map((x) => [x.name, x.via])).toEqual([["rel", "k"]]);
    expect(r.skipped).toEqual([
      expect.objectContaining({
        path: "k/charts/c",
        reason: expect.stringContaining("helmGlobals.chartHome"),
      }),
    ]);
  });

  it("renders a chart needing a recent Kubernetes with --kube-version, and keeps the cause of a render error", async () => {
    const root = await workspace(withPrefix("c", chart));
    const ok = await loadManifests({ inputs: ["c"], render: "auto", root, tools });
    expect(ok.problems).toEqual([]);
    expect(ok.objects).toHaveLength(1);
    const old = await loadManifests({ inputs: ["c"], render: "auto", root, tools, kubeVersion: "1.30" });
    expect(old.problems).toEqual([
      expect.objectContaining({ message: expect.stringContaining("chart requires kubeVersion: >=1.32.0-0") }),
    ]);
    const k = await workspace({
      "k/kustomization.yaml": "helmCharts:\n  - name: c\n    releaseName: rel\n",
      ...withPrefix("k/charts/c", chart),
    });
    const viaKustomize = await loadManifests({
      inputs: ["k"],
      render: "auto",
      root: k,
      tools,
      kubeVersion: "1.30",
    });
    expect(viaKustomize.problems).toEqual([
      expect.objectContaining({ message: expect.stringContaining("chart requires kubeVersion: >=1.32.0-0") }),
    ]);
  });
});
