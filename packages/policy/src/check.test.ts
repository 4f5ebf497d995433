import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "@platform/core";
import { describe, expect, it } from "vitest";
import { type PolicyCheckInput, policyCheck } from "./check.ts";

async function workspace(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "check-"));
  for (const [p, text] of Object.entries(files)) {
    await mkdir(join(root, p, ".."), { recursive: true });
    await writeFile(join(root, p), text);
  }
  return root;
}

const config = parseConfig("registries:\n  trusted: [acr.io, host]\n", "platform.yaml");

function check(root: string, over: Partial<PolicyCheckInput> = {}) {
  return policyCheck({
    manifests: ["."],
    render: "auto",
    policies: ["builtin"],
    mode: "enforce",
    config,
    root,
    ...over,
  });
}

const pod = (image: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: t\nspec:\n  containers:\n    - name: c\n      image: ${JSON.stringify(image)}\n`;

describe("PLAT002 image-digest", () => {
  const D = "a".repeat(64);
  // Each of these the kubelet's runtime refuses to pull: PLAT002 must not count it as pinned.
  it.each([
    `acr.io/app@sha256:${"a".repeat(32)}`,
    `acr.io/app@sha256:${"A".repeat(64)}`,
    `acr.io/app@md5:${"a".repeat(32)}`,
    ` acr.io/app@sha256:${D}`,
    `host:abc/app@sha256:${D}`,
  ])("fails %j", async (image) => {
    const root = await workspace({ "p.yaml": pod(image) });
    const r = await check(root, { policies: ["PLAT002"] });
    const rows = r.results.filter((x) => x.policy.startsWith("PLAT002"));
    expect(rows.map((x) => x.verdict)).toEqual(["fail"]);
    expect(rows[0]!.message).toContain("not a valid image reference");
  });

  it("passes a digest the runtime accepts", async () => {
    const root = await workspace({ "p.yaml": pod(`acr.io/app@sha256:${D}`) });
    const r = await check(root, { policies: ["PLAT002"] });
    expect(r.results.filter((x) => x.policy.startsWith("PLAT002")).map((x) => x.verdict)).toEqual(["pass"]);
  });
});
