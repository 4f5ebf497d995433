import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeWorkspace } from "../../../../test/harness/workspace.ts";
import { loadManifests } from "../manifests.ts";
import type { KubeObject } from "../types.ts";
import { decodeResults, listItems, readObjects } from "./documents.ts";

const load = async (files: Record<string, string | Buffer>) => {
  const root = await writeWorkspace({});
  for (const [p, text] of Object.entries(files)) await writeFile(join(root, p), text);
  try {
    return await loadManifests({ inputs: Object.keys(files), render: "none", root });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
};

describe("listItems", () => {
  it("walks a List inside a List, with each item's path", () => {
    const inner = { apiVersion: "v1", kind: "List", items: [{ kind: "Pod" }, { kind: "Service" }] };
    const outer = { apiVersion: "v1", kind: "List", items: [{ kind: "ConfigMap" }, inner] };
    expect(listItems(outer).map((i) => i.path.join("."))).toEqual([
      "items.0",
      "items.1.items.0",
      "items.1.items.1",
    ]);
    expect(listItems({ kind: "Pod" })).toEqual([{ item: { kind: "Pod" }, path: [] }]);
  });
});

describe("decodeResults", () => {
  const at = { file: "m.yaml", line: 1 };
  it("is an error row per refused field, at its line, and nothing for a clean object", () => {
    const obj = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c" },
      dta: {},
    } as unknown as KubeObject;
    const rows = decodeResults(obj, at, () => ({ line: 7, column: 3 }));
    expect(rows).toMatchObject([
      { policy: "input/unknown-field", verdict: "error", line: 7, column: 3, field: "dta" },
    ]);
    expect(rows[0]!.message).toContain('strict decoding error: unknown field "dta"');
    const ok = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c" },
      data: { a: "b" },
    } as KubeObject;
    expect(decodeResults(ok, at, () => undefined)).toEqual([]);
  });

  it("says a custom resource's fields were not checked, never silently", () => {
    const cr = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } } as KubeObject;
    expect(decodeResults(cr, at, () => undefined)).toMatchObject([
      { policy: "input/schema", verdict: "skip" },
    ]);
  });
});

describe("manifests read as the API server reads them", () => {
  it("sees `privileged: yes` as true and a merged securityContext, as the server does", async () => {
    const r = await load({
      "p.yaml":
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: a\n      image: x\n      securityContext: &sc {privileged: yes}\n    - name: b\n      image: x\n      securityContext:\n        <<: *sc\n        runAsNonRoot: true\n",
    });
    expect(r.problems).toEqual([]);
    const containers = (
      r.objects[0]!.obj as unknown as { spec: { containers: Array<{ securityContext: unknown }> } }
    ).spec.containers;
    expect(containers.map((c) => c.securityContext)).toEqual([
      { privileged: true },
      { privileged: true, runAsNonRoot: true },
    ]);
  });

  it("reports unknown fields, wrong types, duplicate keys and non-UTF-8 bytes at file:line", async () => {
    const r = await load({
      "a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: x\n  a: y\n",
      "b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndta: {}\n",
      "c.yaml": Buffer.concat([
        Buffer.from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf"),
        Buffer.from([0xe9, 0x0a]),
      ]),
      "d.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {port: 8080}\n",
    });
    // Files load concurrently: order the rows.
    const rows = r.problems.map((p) => `${p.file}:${p.line} ${p.policy}`).sort();
    expect(rows).toEqual([
      "a.yaml:6 input/parse",
      "b.yaml:4 input/unknown-field",
      "c.yaml:3 input/parse",
      "d.yaml:4 input/decode",
    ]);
    expect(r.problems.find((p) => p.file === "c.yaml")!.message).toContain("UTF-8");
  });

  it("reads policy and suite files by the same rules", async () => {
    const root = await writeWorkspace({
      "v.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: x, a: y}\n",
    });
    try {
      await expect(readObjects(join(root, "v.yaml"), "v.yaml")).rejects.toMatchObject({
        code: "POLICY_FILE_INVALID",
        line: 4,
      });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
