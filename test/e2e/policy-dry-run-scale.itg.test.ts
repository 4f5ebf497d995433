// The bundled policy-dry-run action as config-repo-checks.yml runs it (issue 18): shards that write results,
// a merge step that gives one verdict, summary and SARIF equal to the unsharded run's; and changed-only in a
// shallow checkout, where the change comes from the GitHub API (the OpenAPI-checked fake).
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGitHubFake } from "../fakes/github.ts";
import { generateConfigRepo } from "../fixtures/gen-config-repo.ts";
import { runBundledAction } from "../harness/run-action.ts";
import { requirePeers } from "../peers/index.ts";

const peers = requirePeers("kustomize", "helm");
const env = { PLATFORM_KUSTOMIZE: peers.paths.kustomize, PLATFORM_HELM: peers.paths.helm };
const common = { manifests: ".", waivers: "waivers.yaml", mode: "enforce" };
let ws: string;

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], {
    cwd,
    stdio: "pipe",
  });

const sarifResults = async (file: string) =>
  (JSON.parse(await readFile(file, "utf8")).runs[0].results as unknown[])
    .map((r) => JSON.stringify(r))
    .sort();

beforeAll(async () => {
  execFileSync("npm", ["run", "build"], {
    cwd: join(import.meta.dirname, "../../actions/policy-dry-run"),
    stdio: "pipe",
  });
  ws = await mkdtemp(join(tmpdir(), "dryrun-scale-"));
  await generateConfigRepo(ws, { services: 5, envs: ["dev", "prod"], chartEvery: 5, jobs: 2, teams: 2 });
  git(ws, "init", "-q", "-b", "main");
  git(ws, "add", "-A");
  git(ws, "commit", "-qm", "generated");
}, 300_000);
afterAll(() => rm(ws, { recursive: true, force: true }));

describe.skipIf(!peers.ok)("policy-dry-run: shards, merge, changed-only from the GitHub API", () => {
  it("two shards merged give the unsharded verdict, counts and SARIF; a missing shard fails the merge", async () => {
    const full = await runBundledAction(
      "policy-dry-run",
      { ...common, sarif: "full.sarif" },
      { workspace: ws, env },
    );
    expect(full.code, full.stderr).toBe(1);
    for (const i of [1, 2]) {
      const shard = await runBundledAction(
        "policy-dry-run",
        { ...common, shard: `${i}/2`, result: `.shards/shard-${i}.json`, cache: ".cache/units.json" },
        { workspace: ws, env },
      );
      expect(JSON.parse(shard.outputs.result!).scope.shard).toMatchObject({ index: i, count: 2 });
    }
    const merged = await runBundledAction(
      "policy-dry-run",
      { merge: ".shards/shard-*.json", sarif: "merged.sarif", cache: ".cache/merged.json" },
      { workspace: ws, env },
    );
    expect(merged.code, merged.stdout + merged.stderr).toBe(1);
    expect(merged.outputs.violations, merged.stdout + merged.stderr).toBe(full.outputs.violations);
    const [a, b] = [JSON.parse(full.outputs.result!), JSON.parse(merged.outputs.result!)];
    expect(b.counts).toEqual(a.counts);
    expect(b.objects).toBe(a.objects);
    expect(await sarifResults(join(ws, "merged.sarif"))).toEqual(await sarifResults(join(ws, "full.sarif")));
    expect(merged.summary).toMatch(/Selection:\*\* \d+ of \d+ renders judged across 2 shards/);
    expect(JSON.parse(await readFile(join(ws, ".cache/merged.json"), "utf8")).version).toBe(1);

    await rm(join(ws, ".shards/shard-2.json"));
    const partial = await runBundledAction(
      "policy-dry-run",
      { merge: ".shards/shard-*.json" },
      { workspace: ws, env },
    );
    expect(partial.code).toBe(1);
    expect(partial.stderr + partial.stdout).toMatch(/shard\(s\) 2\/2 missing/);
  }, 600_000);

  it("changed-only in a shallow checkout lists the change with the GitHub compare API", async () => {
    const files: Record<string, string> = {};
    for (const p of execFileSync("git", ["ls-files"], { cwd: ws, encoding: "utf8" })
      .split("\n")
      .filter(Boolean))
      files[p] = await readFile(join(ws, p), "utf8");
    const fake = await startGitHubFake({
      owner: "northwind",
      repo: "config",
      files,
      permissions: { contents: "read" },
    });
    try {
      const cm =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: t0-dev\ndata:\n  a: b\n";
      const head = fake.push("main", { "plain/settings.yaml": cm }, "add a ConfigMap");
      const base = fake.log("main")[1]!.sha;
      // The runner's shallow checkout: the head's files, one commit, no merge base with the base sha.
      const shallow = await mkdtemp(join(tmpdir(), "dryrun-shallow-"));
      for (const [p, t] of Object.entries({ ...files, "plain/settings.yaml": cm })) {
        execFileSync("mkdir", ["-p", join(shallow, p, "..")]);
        await writeFile(join(shallow, p), t);
      }
      git(shallow, "init", "-q", "-b", "main");
      git(shallow, "add", "-A");
      git(shallow, "commit", "-qm", "head");
      const run = await runBundledAction(
        "policy-dry-run",
        { ...common, "changed-since": base, token: fake.token },
        {
          workspace: shallow,
          env: { ...env, GITHUB_API_URL: fake.url, GITHUB_REPOSITORY: "northwind/config", GITHUB_SHA: head },
        },
      );
      const result = JSON.parse(run.outputs.result!);
      expect(result.scope).toMatchObject({ source: "github", base, changedFiles: 1 });
      expect(result.scope.judged, JSON.stringify(result.scope).slice(0, 1500)).toEqual([
        { path: "plain/settings.yaml", why: "plain/settings.yaml added" },
      ]);
      expect(run.summary).toMatch(
        /changed-only since [0-9a-f]{40} \(merge base [0-9a-f]{12}\), 1 changed file\(s\): 1 of \d+ renders affected/,
      );
      expect(fake.requests.map((r) => r.operation)).toEqual(
        expect.arrayContaining(["repos/compare-commits", "git/get-commit", "git/get-tree"]),
      );
      await rm(shallow, { recursive: true, force: true });
    } finally {
      await fake.close();
    }
  }, 600_000);
});
