// scripts/bundle.mjs leaves out modules that only unused code reaches (ABSENT there): opa-wasm's own built-ins,
// iconv-lite under minipass-fetch, cacache under make-fetch-happen. The paths beside them still run, bundled:
// a Rego template evaluated by opa-wasm's LoadedPolicy with the host built-ins (here), and keyless signing
// through @sigstore/sign's Fulcio, Rekor and TSA clients (test/e2e/verify-keyless.itg.test.ts).
import { readdirSync, readFileSync } from "node:fs";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBundledAction } from "../harness/run-action.ts";
import { REPO_ROOT, requirePeers } from "../peers/index.ts";

const peers = requirePeers("opa");

describe("modules bundle.mjs leaves out", () => {
  it.each([
    ["policy-dry-run", "opa-wasm's built-ins are not bundled"],
    ["sign", "iconv-lite is not bundled"],
    ["sign", "cacache is not bundled"],
  ])("%s carries the stand-in: %s", (action, marker) => {
    const dist = join(REPO_ROOT, "actions", action, "dist");
    const code = ["index.js", ...readdirSync(join(dist, "chunks")).map((c) => join("chunks", c))]
      .map((f) => readFileSync(join(dist, f), "utf8"))
      .join("\n");
    expect(code).toContain(marker);
  });

  describe.skipIf(!peers.ok)("policy-dry-run with a Rego template, bundled", () => {
    let ws: string;
    beforeAll(async () => {
      ws = await mkdtemp(join(tmpdir(), "absent-rego-"));
      await cp(join(import.meta.dirname, "fixtures", "rego"), join(ws, "repo"), { recursive: true });
    });
    afterAll(() => rm(ws, { recursive: true, force: true }));

    it("evaluates it through opa-wasm with the host built-ins", async () => {
      const run = await runBundledAction(
        "policy-dry-run",
        { manifests: "repo/deployment.yaml", policies: "repo/required-labels.yaml" },
        { workspace: ws, env: { PLATFORM_OPA: peers.paths.opa } },
      );
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stderr).not.toMatch(/not bundled/);
      expect(run.annotations).toContainEqual(
        expect.objectContaining({
          level: "error",
          title: "K8sRequiredLabels/must-have-owner",
          file: "repo/deployment.yaml",
          message: 'Deployment shop/web: you must provide labels: ["owner"]',
        }),
      );
      expect(Number(run.outputs.violations)).toBe(1);
    });
  });
});
