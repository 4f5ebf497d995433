import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type GitHubFake, startGitHubFake } from "../fakes/github.ts";
import { runBundledAction } from "../harness/run-action.ts";
import { REPO_ROOT } from "../peers/index.ts";

const DIGEST_A = `sha256:${"a".repeat(64)}`;
const DIGEST_B = `sha256:${"b".repeat(64)}`;
const IMAGE = "northwindacr.azurecr.io/orders/api";
const PLATFORM = `environments:\n  - name: dev\n    path: apps/orders/overlays/dev\n  - name: prod\n    path: apps/orders/overlays/prod\n    promoteFrom: dev\n`;
const overlay = (digest: string) =>
  `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: orders\nresources:\n  - ../../base\nimages:\n  # pinned by the pipeline\n  - name: ${IMAGE}\n    digest: ${digest}\n`;
const FILES = {
  "apps/orders/overlays/dev/kustomization.yaml": overlay(DIGEST_A),
  "apps/orders/overlays/prod/kustomization.yaml": overlay(DIGEST_A),
};

let fake: GitHubFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function workspace(): Promise<string> {
  const ws = await mkdtemp(join(tmpdir(), "bump-ws-"));
  await writeFile(join(ws, "platform.yaml"), PLATFORM);
  return ws;
}

describe("digest-bump bundled action, as GitHub runs it", () => {
  it("opens one pull request that changes only the digest bytes; re-running is a no-op", async () => {
    fake = await startGitHubFake({ owner: "northwind", repo: "gitops", files: FILES });
    const ws = await workspace();
    const env = { GITHUB_API_URL: fake.url };
    const inputs = {
      "image-ref": `${IMAGE}:1.4.2@${DIGEST_B}`,
      "config-repo": "northwind/gitops",
      token: fake.token,
      environments: "dev",
      labels: "deploy\nteam: orders",
    };
    const run = await runBundledAction("digest-bump", inputs, { workspace: ws, env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs["pull-request-number"]).toBe("1");
    expect(JSON.parse(run.outputs["changed-files"]!)).toEqual([
      "apps/orders/overlays/dev/kustomization.yaml",
    ]);
    const pulls = fake.openPulls();
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({
      head: "platform/bump/dev/orders-api",
      labels: ["deploy", "team: orders"],
    });
    expect(pulls[0]!.body).toContain(`\`${DIGEST_A}\` → \`${DIGEST_B}\``);
    const after = fake.readFile(
      "platform/bump/dev/orders-api",
      "apps/orders/overlays/dev/kustomization.yaml",
    )!;
    expect(after).toBe(overlay(DIGEST_A).replace(DIGEST_A, DIGEST_B));
    expect(run.summary).toContain("Digest bump: northwindacr.azurecr.io/orders/api");
    // The token never reaches the logs or the summary.
    const logged = (run.stdout + run.stderr)
      .split("\n")
      .filter((l) => !l.startsWith("::add-mask::"))
      .join("\n");
    expect(logged + run.summary).not.toContain(fake.token);
    expect(run.masked).toContain(fake.token);

    const commits = fake.log("platform/bump/dev/orders-api").length;
    const again = await runBundledAction("digest-bump", inputs, { workspace: ws, env });
    expect(again.code).toBe(0);
    expect(fake.openPulls()).toHaveLength(1);
    expect(fake.log("platform/bump/dev/orders-api")).toHaveLength(commits);
  });

  it("refuses prod before the digest reached dev, naming the rule (exit 1)", async () => {
    fake = await startGitHubFake({ owner: "northwind", repo: "gitops", files: FILES });
    const ws = await workspace();
    const run = await runBundledAction(
      "digest-bump",
      {
        "image-ref": `${IMAGE}@${DIGEST_B}`,
        "config-repo": "northwind/gitops",
        token: fake.token,
        environments: "prod",
      },
      { workspace: ws, env: { GITHUB_API_URL: fake.url } },
    );
    expect(run.code).toBe(1);
    expect(run.annotations).toContainEqual(
      expect.objectContaining({ level: "error", title: "promotion blocked" }),
    );
    expect(fake.openPulls()).toHaveLength(0);
  });

  it("names the input when the image has no digest", async () => {
    const ws = await workspace();
    const run = await runBundledAction(
      "digest-bump",
      { "image-ref": `${IMAGE}:1.4.2`, "config-repo": "northwind/gitops", token: "x" },
      { workspace: ws },
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error title=BUMP_NO_DIGEST::.*has no digest \(input: image-ref\)/);
  });

  it("local mode edits a checkout byte-exactly", async () => {
    const ws = await workspace();
    await cp(join(REPO_ROOT, "examples", "northwind", "config-repo"), join(ws, "config"), {
      recursive: true,
    });
    const file = join(ws, "config", "apps/orders/overlays/dev/kustomization.yaml");
    const before = await readFile(file, "utf8");
    const run = await runBundledAction(
      "digest-bump",
      { "image-ref": `${IMAGE}@${DIGEST_B}`, "config-repo": "config", environments: "dev" },
      { workspace: ws },
    );
    expect(run.code, run.stdout).toBe(0);
    const after = await readFile(file, "utf8");
    const old = /digest: (sha256:[0-9a-f]{64})/.exec(before)![1]!;
    expect(after).toBe(before.replace(old, DIGEST_B));
    await rm(ws, { recursive: true, force: true });
  });
});
