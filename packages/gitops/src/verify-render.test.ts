// Render verification with the real helm (v3, from .peers): an edit to Helm values counts only when the chart
// renders the new digest.
import { describe, expect, it } from "vitest";
import { requirePeers } from "../../../test/peers/index.ts";
import { digest, fixtureFiles, memoryReader } from "./__fixtures__/repo.ts";
import { planBump } from "./plan.ts";
import { helmTemplate, renderedImages } from "./render.ts";

const peers = requirePeers("helm");
const helm = helmTemplate(peers.paths.helm!);
const NEW = digest("new-build");
const OLD = digest("old-build");
const IMAGE = "myacr.azurecr.io/team/app";

const CHART = "apiVersion: v2\nname: app\nversion: 0.1.0\n";
/** A deployment template; `image` is the Go template of the container's image. */
const deployment = (image: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: "${image}"\n`;
const TAG_ONLY = deployment("{{ .Values.image.repository }}:{{ .Values.image.tag }}");
const READS_DIGEST = deployment(
  "{{ .Values.image.repository }}{{ if .Values.image.digest }}@{{ .Values.image.digest }}{{ else }}:{{ .Values.image.tag }}{{ end }}",
);
const values = (extra = "") => `image:\n  repository: ${IMAGE}\n  tag: "1.2.0"\n${extra}`;

describe.skipIf(!peers.ok)("render verification (real helm template)", () => {
  it("reports a digest the chart never reads as not bumpable, with the fix, and edits nothing", async () => {
    const reader = memoryReader({
      "charts/app/Chart.yaml": CHART,
      "charts/app/templates/deployment.yaml": TAG_ONLY,
      "charts/app/values.yaml": values(),
    });
    const plan = await planBump(reader, { image: IMAGE, digest: NEW, paths: [] }, { helm });
    expect(plan.changes).toEqual([]);
    expect(plan.skipped).toEqual([
      expect.objectContaining({
        file: "charts/app/values.yaml",
        path: "image",
        kind: "not-bumpable",
        reason: expect.stringContaining(`renders ${IMAGE}:1.2.0 before and after it`),
        hint: expect.stringContaining(`Set \`image.tag\` to \`1.2.0@${NEW}\``),
      }),
    ]);
    // Without the check (no helm given), the same plan would have claimed an edit.
    expect((await planBump(reader, { image: IMAGE, digest: NEW, paths: [] })).changes).toHaveLength(1);
  });

  it("keeps an edit the chart renders: an inserted digest, a replaced one, a tag@digest", async () => {
    const files = {
      "charts/app/Chart.yaml": CHART,
      "charts/app/templates/deployment.yaml": READS_DIGEST,
      "charts/app/values.yaml": values(),
      "charts/app/values-prod.yaml": values(`  digest: ${OLD}\n`),
    };
    const plan = await planBump(memoryReader(files), { image: IMAGE, digest: NEW, paths: [] }, { helm });
    expect(plan.skipped).toEqual([]);
    expect(plan.changes.map((c) => c.file)).toEqual([
      "charts/app/values-prod.yaml",
      "charts/app/values.yaml",
    ]);
    expect(plan.changes[0]!.after).toBe(files["charts/app/values-prod.yaml"].replace(OLD, NEW));
    // `tag: 1.2.0@sha256:…` with a chart writing repository:tag pins the digest too.
    const inTag = await planBump(
      memoryReader({
        "charts/app/Chart.yaml": CHART,
        "charts/app/templates/deployment.yaml": TAG_ONLY,
        "charts/app/values.yaml": `image:\n  repository: ${IMAGE}\n  tag: "1.2.0@${OLD}"\n`,
      }),
      { image: IMAGE, digest: NEW, paths: [], tagPolicy: "keep" },
      { helm },
    );
    expect(inTag.skipped).toEqual([]);
    expect(inTag.changes).toHaveLength(1);
  });

  it("an Argo CD Application's image.digest parameter for a chart that ignores it is not a bump", async () => {
    const files = fixtureFiles("argocd");
    const image = "gcr.io/heptio-images/ks-guestbook-demo";
    const plan = await planBump(memoryReader(files), { image, digest: NEW, paths: ["apps"] }, { helm });
    expect(plan.skipped.find((s) => s.file === "apps/guestbook-dev.yaml")).toMatchObject({
      kind: "not-bumpable",
      path: "spec.source.helm.parameters[0]",
      reason: expect.stringContaining("renders gcr.io/heptio-images/ks-guestbook-demo:0.2 before and after"),
      hint: expect.stringContaining(`Set the tag parameter to \`0.2@${NEW}\``),
    });
    // valuesObject (with valueFiles) and a literal helm.values block: rendered the way Argo CD renders them.
    for (const file of ["apps/guestbook-prod.yaml", "apps/guestbook-staging.yaml"]) {
      expect(plan.skipped.find((s) => s.file === file)).toMatchObject({
        kind: "not-bumpable",
        hint: expect.stringContaining("The chart does not read `image.digest`"),
      });
    }
    // The kustomize Application's images list is the rendered image by construction: edited, not rendered.
    const kustomize = plan.changes.find((c) => c.file === "apps/guestbook-prod.yaml");
    expect(kustomize?.edits.map((e) => e.path)).toContain("spec.source.kustomize.images[0]");
    expect(plan.skipped.every((s) => s.source !== "kustomize-images")).toBe(true);
  });

  it("a values file without its chart in the repo is not verified (never reported as edited)", async () => {
    const plan = await planBump(
      memoryReader({ "envs/dev/values.yaml": values(`  digest: ${OLD}\n`) }),
      { image: IMAGE, digest: NEW, paths: [] },
      { helm },
    );
    expect(plan.changes).toEqual([]);
    expect(plan.skipped).toEqual([
      expect.objectContaining({
        kind: "not-verified",
        reason: expect.stringContaining("no Chart.yaml in the config repo"),
        hint: expect.stringContaining("verify-render: false"),
      }),
    ]);
  });

  it("a chart that fails to render is not verified, with helm's message", async () => {
    const plan = await planBump(
      memoryReader({
        "charts/app/Chart.yaml": CHART,
        "charts/app/templates/deployment.yaml": `${TAG_ONLY}{{ fail "needs cluster.name" }}\n`,
        "charts/app/values.yaml": values(),
      }),
      { image: IMAGE, digest: NEW, paths: [] },
      { helm },
    );
    expect(plan.skipped[0]).toMatchObject({
      kind: "not-verified",
      reason: expect.stringMatching(/helm template failed on charts\/app: .*needs cluster.name/),
    });
  });

  it("a Flux HelmRelease whose chart is a path in the repo is rendered with its values", async () => {
    const release = (extra: string) =>
      `apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: app\nspec:\n  chart:\n    spec:\n      chart: ./charts/app\n      sourceRef:\n        kind: GitRepository\n        name: flux-system\n  values:\n    image:\n      repository: ${IMAGE}\n      tag: "1.2.0"\n${extra}`;
    const files = (template: string) => ({
      "charts/app/Chart.yaml": CHART,
      "charts/app/templates/deployment.yaml": template,
      "charts/app/values.yaml": "image: {}\n",
      "clusters/dev/release.yaml": release(`      digest: ${OLD}\n`),
    });
    const req = { image: IMAGE, digest: NEW, paths: ["clusters"] };
    const good = await planBump(memoryReader(files(READS_DIGEST)), req, { helm });
    expect(good.skipped).toEqual([]);
    expect(good.changes).toHaveLength(1);
    const inert = await planBump(memoryReader(files(TAG_ONLY)), req, { helm });
    expect(inert.changes).toEqual([]);
    expect(inert.skipped[0]).toMatchObject({ kind: "not-bumpable", file: "clusters/dev/release.yaml" });
  });

  it("helm missing is an environment error (exit 3), not an unverified bump", async () => {
    const reader = memoryReader({
      "charts/app/Chart.yaml": CHART,
      "charts/app/templates/deployment.yaml": TAG_ONLY,
      "charts/app/values.yaml": values(),
    });
    await expect(
      planBump(reader, { image: IMAGE, digest: NEW, paths: [] }, { helm: helmTemplate("/nonexistent/helm") }),
    ).rejects.toMatchObject({ code: "GITOPS_HELM_MISSING", category: "environment" });
  });

  it("reads the images of every container list of the rendered objects", () => {
    const yaml = `kind: Pod\nspec:\n  initContainers: [{image: b}]\n  containers: [{image: a}, {name: x}]\n---\nkind: CronJob\nspec: {jobTemplate: {spec: {template: {spec: {containers: [{image: c}]}}}}}\n`;
    expect(renderedImages(yaml)).toEqual(["a", "b", "c"]);
  });
});
