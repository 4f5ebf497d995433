import { execFileSync, spawnSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type GitHubFake, startGitHubFake } from "../fakes/github.ts";
import { runBundledAction } from "../harness/run-action.ts";
import { REPO_ROOT, requirePeers } from "../peers/index.ts";

const DIGEST_A = `sha256:${"a".repeat(64)}`;
const DIGEST_B = `sha256:${"b".repeat(64)}`;
const DIGEST_C = `sha256:${"c".repeat(64)}`;
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

/** A GitHub-mode run with only the required inputs and the fake's token, in a fresh workspace. */
async function bumpWithRequiredInputs(gh: GitHubFake, digest: string) {
  return runBundledAction(
    "digest-bump",
    { "image-ref": `${IMAGE}@${digest}`, "config-repo": "northwind/gitops", token: gh.token },
    { workspace: await workspace(), env: { GITHUB_API_URL: gh.url } },
  );
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
    expect(run.outputs["pull-request-url"]).toMatch(/\/northwind\/gitops\/pull\/1$/);
    expect(run.outputs["pull-request-operation"]).toBe("created");
    expect(JSON.parse(run.outputs["changed-files"]!)).toEqual([
      "apps/orders/overlays/dev/kustomization.yaml",
    ]);
    // An App token (the fake's PRs are authored by platform-bot[bot]): no GITHUB_TOKEN warning.
    expect(run.annotations.filter((a) => /GITHUB_TOKEN/.test(a.title ?? ""))).toEqual([]);
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
    expect(again.outputs["pull-request-number"]).toBe("1");
    expect(again.outputs["pull-request-operation"]).toBe("none");

    // A newer digest updates the same pull request with a new commit.
    const newer = await runBundledAction(
      "digest-bump",
      { ...inputs, "image-ref": `${IMAGE}:1.4.3@${DIGEST_C}` },
      { workspace: ws, env },
    );
    expect(newer.code, newer.stdout + newer.stderr).toBe(0);
    expect(newer.outputs["pull-request-number"]).toBe("1");
    expect(newer.outputs["pull-request-operation"]).toBe("updated");
    expect(fake.log("platform/bump/dev/orders-api")).toHaveLength(commits + 1);
  });

  it("with the default token (GITHUB_TOKEN) it still bumps, and warns that the pull request triggers no workflows", async () => {
    fake = await startGitHubFake({
      owner: "northwind",
      repo: "gitops",
      files: FILES,
      githubActionsToken: true,
      actionsCanCreatePullRequests: true,
    });
    // As the runner passes action.yml's default `${{ github.token }}`: an input, with no GITHUB_TOKEN variable.
    const run = await bumpWithRequiredInputs(fake, DIGEST_B);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs["pull-request-operation"]).toBe("created");
    const warning = run.annotations.find((a) => a.title === "bump pull request opened with GITHUB_TOKEN");
    expect(warning?.level).toBe("warning");
    expect(warning?.message).toContain("actions/create-github-app-token");
  });

  it("a bump with nothing to propose (the base already pins the digest) reports operation none", async () => {
    fake = await startGitHubFake({ owner: "northwind", repo: "gitops", files: FILES });
    const run = await bumpWithRequiredInputs(fake, DIGEST_A);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs["pull-request-number"]).toBe("");
    expect(run.outputs["pull-request-operation"]).toBe("none");
    expect(fake.openPulls()).toHaveLength(0);
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

  it("drops the stale tag beside the new digest by default, sets it with tag-policy update", async () => {
    const files = {
      "apps/orders/overlays/dev/kustomization.yaml": `images:\n  - name: ${IMAGE}\n    newTag: 5.0.3\n    digest: ${DIGEST_A}\n`,
      "apps/orders/overlays/dev/job.yaml": `apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n        - image: ${IMAGE}:5.0.3@${DIGEST_C}\n`,
    };
    fake = await startGitHubFake({ owner: "northwind", repo: "gitops", files });
    const ws = await workspace();
    const env = { GITHUB_API_URL: fake.url };
    const base = { "config-repo": "northwind/gitops", token: fake.token, environments: "dev" };
    const run = await runBundledAction(
      "digest-bump",
      { ...base, "image-ref": `${IMAGE}@${DIGEST_B}` },
      {
        workspace: ws,
        env,
      },
    );
    expect(run.code, run.stdout).toBe(0);
    const branch = "platform/bump/dev/orders-api";
    expect(fake.readFile(branch, "apps/orders/overlays/dev/kustomization.yaml")).toBe(
      `images:\n  - name: ${IMAGE}\n    digest: ${DIGEST_B}\n`,
    );
    expect(fake.readFile(branch, "apps/orders/overlays/dev/job.yaml")).toContain(
      `image: ${IMAGE}@${DIGEST_B}\n`,
    );
    // Two different old digests now pin one: a warning, in the summary and as an annotation.
    expect(run.annotations).toContainEqual(
      expect.objectContaining({ level: "warning", title: "digests-collapsed" }),
    );
    expect(run.summary).toContain("2 different digests now pin one");
    expect(run.summary).toContain("5.0.3 (dropped)");
    const result = JSON.parse(run.outputs.result!);
    expect(result.environments[0].warnings).toEqual([expect.objectContaining({ code: "digests-collapsed" })]);

    // update sets every tag written beside the digest to the new one (a fresh config repo: the first run dropped them).
    await fake.close();
    fake = await startGitHubFake({ owner: "northwind", repo: "gitops", files });
    const env2 = { GITHUB_API_URL: fake.url };
    const base2 = { ...base, token: fake.token };
    const updated = await runBundledAction(
      "digest-bump",
      { ...base2, "image-ref": `${IMAGE}@${DIGEST_B}`, "tag-policy": "update", tag: "5.1.0" },
      { workspace: ws, env: env2 },
    );
    expect(updated.code, updated.stdout).toBe(0);
    expect(fake.readFile(branch, "apps/orders/overlays/dev/job.yaml")).toContain(
      `image: ${IMAGE}:5.1.0@${DIGEST_B}\n`,
    );
    expect(fake.readFile(branch, "apps/orders/overlays/dev/kustomization.yaml")).toContain(
      "    newTag: 5.1.0\n",
    );
    const missing = await runBundledAction(
      "digest-bump",
      { ...base2, "image-ref": `${IMAGE}@${DIGEST_A}`, "tag-policy": "update" },
      { workspace: ws, env: env2 },
    );
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/::error title=GITOPS_NO_TAG::.*\(input: tag-policy\)/);
  });

  it("a reference found but not edited fails the run and writes nothing, unless allow-skipped", async () => {
    const files = {
      ...FILES,
      // Argo CD helm.values that is not a literal block: found, cannot be edited byte-exactly.
      "apps/orders/overlays/dev/app.yaml": `apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: orders\nspec:\n  source:\n    chart: orders\n    repoURL: https://charts.example\n    helm:\n      values: "image:\\n  repository: ${IMAGE}\\n  digest: ${DIGEST_A}\\n"\n`,
    };
    fake = await startGitHubFake({ owner: "northwind", repo: "gitops", files });
    const ws = await workspace();
    const env = { GITHUB_API_URL: fake.url };
    const inputs = {
      "image-ref": `${IMAGE}@${DIGEST_B}`,
      "config-repo": "northwind/gitops",
      token: fake.token,
      environments: "dev",
    };
    const run = await runBundledAction("digest-bump", inputs, { workspace: ws, env });
    expect(run.code, run.stdout).toBe(1);
    expect(fake.openPulls()).toHaveLength(0);
    expect(run.stdout).toMatch(
      /::error title=BUMP_REFERENCES_SKIPPED::not bumped: dev \(1 reference found but not edited\)/,
    );
    expect(run.annotations).toContainEqual(
      expect.objectContaining({
        level: "warning",
        title: "not edited (not-editable)",
        file: "apps/orders/overlays/dev/app.yaml",
        line: 10,
      }),
    );
    expect(run.summary).toContain("Found but not edited");
    const result = JSON.parse(run.outputs.result!);
    expect(result.environments[0]).toMatchObject({
      status: "incomplete",
      skipped: [{ file: "apps/orders/overlays/dev/app.yaml", kind: "not-editable" }],
    });

    const allowed = await runBundledAction(
      "digest-bump",
      { ...inputs, "allow-skipped": "true" },
      { workspace: ws, env },
    );
    expect(allowed.code, allowed.stdout).toBe(0);
    expect(fake.openPulls()).toHaveLength(1);
    expect(allowed.annotations).toContainEqual(
      expect.objectContaining({ level: "warning", title: "not edited (not-editable)" }),
    );
    expect(JSON.parse(allowed.outputs.result!).environments[0]).toMatchObject({
      status: "pull-request",
      files: ["apps/orders/overlays/dev/kustomization.yaml"],
      skipped: [{ kind: "not-editable" }],
    });
  });

  const helm = requirePeers("helm");
  describe.skipIf(!helm.ok)("Helm values, checked with the real helm template", () => {
    const CHART = "apiVersion: v2\nname: orders\nversion: 0.1.0\n";
    const template = (image: string) =>
      `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: orders\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: "${image}"\n`;
    const VALUES = `image:\n  repository: ${IMAGE}\n  tag: "1.4.2"\n`;

    /** A config repo checked out in the workspace as a real git repository. */
    async function checkout(templateImage: string): Promise<{ ws: string; values: string }> {
      const ws = await mkdtemp(join(tmpdir(), "bump-ws-"));
      await writeFile(join(ws, "platform.yaml"), "environments:\n  - name: dev\n    path: charts/orders\n");
      const repo = join(ws, "config");
      await mkdir(join(repo, "charts/orders/templates"), { recursive: true });
      await writeFile(join(repo, "charts/orders/Chart.yaml"), CHART);
      await writeFile(join(repo, "charts/orders/templates/deployment.yaml"), template(templateImage));
      await writeFile(join(repo, "charts/orders/values.yaml"), VALUES);
      const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { stdio: "pipe" });
      git("init", "-q");
      git("add", ".");
      git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init");
      return { ws, values: join(repo, "charts/orders/values.yaml") };
    }
    const inputs = { "image-ref": `${IMAGE}@${DIGEST_B}`, "config-repo": "config" };

    it("an added digest the chart never reads is not bumpable: exit 1, the fix named, the file untouched", async () => {
      const { ws, values } = await checkout("{{ .Values.image.repository }}:{{ .Values.image.tag }}");
      const run = await runBundledAction("digest-bump", inputs, {
        workspace: ws,
        env: { PLATFORM_HELM: helm.paths.helm },
      });
      expect(run.code, run.stdout).toBe(1);
      expect(await readFile(values, "utf8")).toBe(VALUES);
      const skipped = JSON.parse(run.outputs.result!).environments[0].skipped;
      expect(skipped).toEqual([
        expect.objectContaining({
          kind: "not-bumpable",
          file: "charts/orders/values.yaml",
          reason: expect.stringContaining(`renders ${IMAGE}:1.4.2 before and after it`),
          hint: expect.stringContaining(`Set \`image.tag\` to \`1.4.2@${DIGEST_B}\``),
        }),
      ]);
      expect(run.summary).toContain("not-bumpable");
      // allow-skipped does not turn it into a bump: nothing is edited, and the warning stays.
      const allowed = await runBundledAction(
        "digest-bump",
        { ...inputs, "allow-skipped": "true" },
        {
          workspace: ws,
          env: { PLATFORM_HELM: helm.paths.helm },
        },
      );
      expect(allowed.code).toBe(0);
      expect(await readFile(values, "utf8")).toBe(VALUES);
      expect(allowed.annotations).toContainEqual(
        expect.objectContaining({ title: "not edited (not-bumpable)" }),
      );
      // verify-render: false is the explicit opt-out: the edit is made, with a warning that it was not checked.
      const unchecked = await runBundledAction(
        "digest-bump",
        { ...inputs, "verify-render": "false" },
        {
          workspace: ws,
          env: { PLATFORM_HELM: helm.paths.helm },
        },
      );
      expect(unchecked.code, unchecked.stdout).toBe(0);
      expect(await readFile(values, "utf8")).toBe(
        `${VALUES}digest: ${DIGEST_B}\n`.replace(`"1.4.2"\ndigest`, `"1.4.2"\n  digest`),
      );
      expect(unchecked.annotations).toContainEqual(
        expect.objectContaining({
          level: "warning",
          message: expect.stringContaining("verify-render is false"),
        }),
      );
      await rm(ws, { recursive: true, force: true });
    });

    it("a chart that reads image.digest is bumped; without helm the run is an environment error (exit 3)", async () => {
      const { ws, values } = await checkout(
        "{{ .Values.image.repository }}{{ with .Values.image.digest }}@{{ . }}{{ else }}:{{ .Values.image.tag }}{{ end }}",
      );
      const missing = await runBundledAction("digest-bump", inputs, {
        workspace: ws,
        env: { PLATFORM_HELM: join(ws, "no-helm-here") },
      });
      expect(missing.code, missing.stdout).toBe(1);
      expect(missing.stdout).toMatch(/::error title=GITOPS_HELM_MISSING::helm is not installed/);
      expect(await readFile(values, "utf8")).toBe(VALUES);
      // The CLI door maps the same environment error to exit 3.
      const cli = (helmPath: string) =>
        spawnSync(
          process.execPath,
          [
            join(REPO_ROOT, "packages/cli/dist/platform.js"),
            "bump",
            "--image-ref",
            inputs["image-ref"],
            "--config-repo",
            "config",
            "--root",
            ws,
          ],
          { encoding: "utf8", env: { PATH: process.env.PATH, PLATFORM_HELM: helmPath, NO_COLOR: "1" } },
        );
      const noHelm = cli(join(ws, "no-helm-here"));
      expect(noHelm.status, noHelm.stderr).toBe(3);
      expect(noHelm.stderr).toContain("helm is not installed");
      expect(await readFile(values, "utf8")).toBe(VALUES);
      const run = await runBundledAction("digest-bump", inputs, {
        workspace: ws,
        env: { PLATFORM_HELM: helm.paths.helm },
      });
      expect(run.code, run.stdout).toBe(0);
      expect(await readFile(values, "utf8")).toBe(
        VALUES.replace(`"1.4.2"\n`, `"1.4.2"\n  digest: ${DIGEST_B}\n`),
      );
      expect(JSON.parse(run.outputs["changed-files"]!)).toEqual(["charts/orders/values.yaml"]);
      await rm(ws, { recursive: true, force: true });
    });
  });
});
