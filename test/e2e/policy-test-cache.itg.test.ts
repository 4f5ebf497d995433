// `platform policy test` as users run it (the bundled CLI) keeps compiled Rego and parsed suite files between
// runs (docs/policy-speed.md). Unit tests run from source, where nothing is cached; this proves the bundled
// path: a warm run gives the same verdicts as the cold one, and an edited file is read again, not served stale.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runPlatform } from "../harness/platform-cli.ts";
import { gatekeeperLibrary, requirePeers } from "../peers/index.ts";

const library = gatekeeperLibrary();
const peers = requirePeers("opa", "kustomize", "helm");
const run = library.ok && peers.ok ? describe : describe.skip;
const work = mkdtempSync(join(tmpdir(), "policy-test-cache-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Result = { name: string; verdict: string; message: string };

run("platform policy test with its caches (bundled CLI)", () => {
  it("gives the same verdicts served from the caches, and reads an edited sample again", () => {
    // allowedrepos is Rego-only: the run goes through both the Rego and the parsed-YAML cache.
    const suite = join(work, "allowedrepos");
    cpSync(join(library.path, "general", "allowedrepos"), suite, { recursive: true });
    const cache = join(work, "cache");
    const test = () => {
      const r = runPlatform(["policy", "test", suite, "--json"], {
        cwd: work,
        env: { XDG_CACHE_HOME: cache, PLATFORM_OPA: peers.paths.opa as string },
        tools: peers.paths,
      });
      const results = (JSON.parse(r.stdout || "{}") as { results?: Result[] }).results ?? [];
      return { code: r.code, stderr: r.stderr, results };
    };

    const cold = test();
    expect(cold.code, cold.stderr).toBe(0);
    expect(cold.results.length).toBeGreaterThanOrEqual(4);
    expect(cold.results.every((r) => r.verdict === "pass")).toBe(true);
    expect(readdirSync(join(cache, "platform", "yaml")).length).toBeGreaterThan(0);
    expect(readdirSync(join(cache, "platform", "rego")).some((n) => n.endsWith(".wasm"))).toBe(true);

    const warm = test();
    expect(warm.code, warm.stderr).toBe(0);
    expect(warm.results).toEqual(cold.results);

    // The allowed sample now pulls from a registry the constraint does not allow: the case must fail.
    const sample = join(suite, "samples", "repo-must-be-openpolicyagent", "example_allowed.yaml");
    const text = readFileSync(sample, "utf8");
    expect(text).toContain("image: openpolicyagent/opa:0.9.2");
    writeFileSync(sample, text.replace("image: openpolicyagent/opa:0.9.2", "image: docker.io/nginx:1.27"));
    const edited = test();
    expect(edited.code).toBe(1);
    const allowed = edited.results.find((r) => r.name.endsWith("example-allowed"));
    expect(allowed?.verdict).toBe("fail");
    expect(allowed?.message).toMatch(/docker\.io\/nginx/);
    expect(edited.results.filter((r) => r.verdict !== "pass")).toHaveLength(1);
  });
});
