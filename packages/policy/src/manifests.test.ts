import { symlink } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeWorkspace } from "../../../test/harness/workspace.ts";
import { loadManifests, renderError } from "./manifests.ts";

const workspace = (files: Record<string, string>) => writeWorkspace(files, "manifests-");

const cm = (name: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: t\ndata:\n  k: v\n`;

describe("loadManifests", () => {
  it("reads multi-document files, dirs and globs, with line numbers and field positions", async () => {
    const root = await workspace({
      "a/one.yaml": `${cm("x")}---\n${cm("yy")}`,
      "b/two.yml": cm("z"),
      "b/notes.txt": "x",
    });
    const r = await loadManifests({ inputs: ["a", "b/*.yml"], render: "none", root });
    expect(r.problems).toEqual([]);
    expect(r.objects.map((o) => `${o.source.file}:${o.source.line}:${o.obj.metadata.name}`)).toEqual([
      "a/one.yaml:1:x",
      "a/one.yaml:9:yy",
      "b/two.yml:1:z",
    ]);
    expect(r.objects[1]!.locate(["data", "k"])).toMatchObject({ line: 15, exact: true });
  });

  it("expands List kinds into their items", async () => {
    const root = await workspace({
      "l.yaml":
        "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: { name: a }\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: { name: b }\n",
    });
    const r = await loadManifests({ inputs: ["l.yaml"], render: "none", root });
    expect(r.objects.map((o) => [o.obj.metadata.name, o.source.line])).toEqual([
      ["a", 4],
      ["b", 7],
    ]);
  });

  it("reports malformed YAML and non-objects as problems and keeps the rest", async () => {
    const root = await workspace({ "m.yaml": `${cm("ok")}---\nkind: [\n`, "n.yaml": "just: data\n" });
    const r = await loadManifests({ inputs: ["m.yaml", "n.yaml"], render: "none", root });
    expect(r.objects.map((o) => o.obj.metadata.name)).toEqual(["ok"]);
    expect(r.problems.map((p) => `${p.file}:${p.verdict}`).sort()).toEqual(["m.yaml:error", "n.yaml:error"]);
  });

  it("in a walked directory, checks every YAML and JSON manifest and lists documents that are not objects", async () => {
    const root = await workspace({
      "d/values.yaml": "image: x\n",
      "d/config.yaml": "a: 1\n",
      "d/app-config.yaml": cm("from-config"),
      "d/cm.json": JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "json" } }),
      "d/cm.yaml": cm("c"),
    });
    const r = await loadManifests({ inputs: ["d"], render: "auto", root });
    expect(r.problems).toEqual([]);
    expect(r.objects.map((o) => o.obj.metadata.name)).toEqual(["from-config", "json", "c"]);
    expect(r.skipped).toEqual([
      {
        path: "d/config.yaml",
        line: 1,
        reason: "document 1 has no apiVersion or kind: not a Kubernetes object",
      },
      {
        path: "d/values.yaml",
        line: 1,
        reason: "document 1 has no apiVersion or kind: not a Kubernetes object",
      },
    ]);
  });

  it("refuses paths and symlinks that leave the workspace", async () => {
    const root = await workspace({ "in.yaml": cm("in") });
    const outside = await workspace({ "secret.yaml": cm("outside") });
    await symlink(join(outside, "secret.yaml"), join(root, "link.yaml"));
    const r = await loadManifests({ inputs: [".", "../"], render: "none", root });
    expect(r.objects.map((o) => o.obj.metadata.name)).toEqual(["in"]);
    expect(r.problems.some((p) => p.message.includes("outside the workspace"))).toBe(true);
  });

  it("names a missing input and a glob that matches nothing", async () => {
    const root = await workspace({});
    const r = await loadManifests({ inputs: ["nope.yaml", "x/**/*.yaml"], render: "none", root });
    expect(r.problems.map((p) => p.message)).toEqual([
      expect.stringContaining('"nope.yaml" does not exist'),
      expect.stringContaining("no files match"),
    ]);
  });

  it("reports a missing renderer as a problem at the kustomization", async () => {
    const root = await workspace({ "k/kustomization.yaml": "resources: [cm.yaml]\n", "k/cm.yaml": cm("k") });
    const r = await loadManifests({
      inputs: ["k"],
      render: "auto",
      root,
      tools: { kustomize: "/nonexistent/kustomize" },
    });
    expect(r.problems).toEqual([
      expect.objectContaining({
        policy: "input/render",
        file: "k/kustomization.yaml",
        message: expect.stringContaining("kustomize is not installed"),
      }),
    ]);
  });

  it("keeps the cause of a multi-line render error, wherever it sits", () => {
    // kustomize's helm inflator dumps its config before helm's own error.
    const text = [
      "Error: trouble configuring builtin HelmChartInflationGenerator with config: `",
      "chartHome: charts",
      "name: c",
      "releaseName: rel",
      "valuesInline: {}",
      "version: 0.1.0",
      "`: unable to run helm: exit status 1",
      "chart requires kubeVersion: >=1.32.0-0 which is incompatible with Kubernetes v1.30",
      "",
      "Use --debug flag to render out invalid YAML",
    ].join("\n");
    const msg = renderError(text);
    expect(msg).toContain("trouble configuring builtin HelmChartInflationGenerator");
    expect(msg).toContain(
      "chart requires kubeVersion: >=1.32.0-0 which is incompatible with Kubernetes v1.30",
    );
    expect(msg).not.toContain("Use --debug");
    expect(renderError(Array.from({ length: 500 }, (_, i) => `error ${i}`).join("\n")).length).toBeLessThan(
      2100,
    );
  });
});
