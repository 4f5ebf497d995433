import { describe, expect, it } from "vitest";
import { digest, fixtureFiles } from "./__fixtures__/repo.ts";
import { locateImage, MAX_FILE_BYTES, scanFiles } from "./locate.ts";

const asList = (files: Record<string, string>) =>
  Object.entries(files).map(([path, text]) => ({ path, text }));
const brief = (refs: ReturnType<typeof locateImage>) =>
  refs.map((r) => `${r.file}:${r.line} ${r.source} ${r.path}${r.notEditable ? " (not editable)" : ""}`);

const D = digest("x");

describe("locateImage over the fixture repos", () => {
  it("flux (kustomize + Helm): HelmRelease values, patches per environment, postRenderers, Flux Kustomization images", () => {
    const refs = locateImage(asList(fixtureFiles("flux")), "northwindacr.azurecr.io/orders/api");
    expect(brief(refs)).toEqual([
      "apps/base/orders/release.yaml:22 flux-helmrelease spec.values.api.image",
      "apps/base/orders/release.yaml:37 flux-helmrelease spec.postRenderers[0].kustomize.images[0]",
      "apps/production/orders-values.yaml:10 flux-helmrelease spec.values.api.image",
      "apps/staging/orders-values.yaml:10 flux-helmrelease spec.values.api.image",
      "clusters/production/apps.yaml:14 kustomize-images spec.images[0]",
    ]);
    // registry + repository are read together; the chart's other images are not this one.
    expect(refs[0]!.current).toEqual({
      repository: "northwindacr.azurecr.io/orders/api",
      tag: "2.4.0",
      digest: digest("orders-2.4.0"),
    });
  });

  it("argocd: helm parameters, values (block and quoted), valuesObject, kustomize images, chart values, manifests", () => {
    const refs = locateImage(asList(fixtureFiles("argocd")), "gcr.io/heptio-images/ks-guestbook-demo");
    expect(brief(refs)).toEqual([
      "apps/guestbook-dev.yaml:15 argocd-application spec.source.helm.parameters[0]",
      "apps/guestbook-prod.yaml:17 argocd-application spec.sources[0].helm.valuesObject.image",
      "apps/guestbook-prod.yaml:36 argocd-application spec.source.kustomize.images[0]",
      "apps/guestbook-qa.yaml:12 argocd-application spec.source.helm.values > image (not editable)",
      "apps/guestbook-staging.yaml:17 argocd-application spec.source.helm.values > image",
      "helm-guestbook/values.yaml:5 helm-values image",
      "kustomize-guestbook/guestbook-ui-deployment.yaml:17 manifest spec.template.spec.containers[0].image",
      "kustomize-guestbook/kustomization.yaml:6 kustomize-images images[0]",
    ]);
    expect(refs[3]!.notEditable).toMatch(/not a literal block scalar/);
    expect(refs[0]!.current).toEqual({
      repository: "gcr.io/heptio-images/ks-guestbook-demo",
      tag: "0.2",
      digest: digest("guestbook-0.2-dev"),
    });
  });

  it("multi-tenancy: overlays per environment (CRLF, no digest yet, no final newline) and Helm values strings", () => {
    const files = asList(fixtureFiles("multitenancy"));
    expect(brief(locateImage(files, "northwindacr.azurecr.io/team-a/orders"))).toEqual([
      "tenants/team-a/orders/overlays/dev/kustomization.yaml:8 kustomize-images images[0]",
      "tenants/team-a/orders/overlays/prod/kustomization.yaml:10 kustomize-images images[0]",
      "tenants/team-a/orders/overlays/staging/kustomization.yaml:7 kustomize-images images[0]",
    ]);
    expect(brief(locateImage(files, "northwindacr.azurecr.io/team-b/payments"))).toEqual([
      "tenants/team-b/payments/values-dev.yaml:9 helm-values payments.api.image",
      "tenants/team-b/payments/values-dev.yaml:12 helm-values payments.worker.image",
      "tenants/team-b/payments/values-prod.yaml:4 helm-values payments.api.image",
      "tenants/team-b/payments/values-prod.yaml:6 helm-values payments.worker.image",
    ]);
  });
});

describe("matching by value", () => {
  it("normalises Docker Hub names and compares registry hosts case-insensitively", () => {
    const files = [
      { path: "a/values.yaml", text: "web:\n  image:\n    repository: nginx\n    tag: '1.27'\n" },
      {
        path: "b/deploy.yaml",
        text: "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: docker.io/library/nginx:1.27\n",
      },
      { path: "c/kustomization.yaml", text: "images:\n  - name: Docker.io/nginx\n    newTag: '1'\n" },
      { path: "d/values.yaml", text: "image:\n  repository: bitnami/nginx\n" },
    ];
    expect(locateImage(files, "nginx").map((r) => r.file)).toEqual([
      "a/values.yaml",
      "b/deploy.yaml",
      "c/kustomization.yaml",
    ]);
    expect(locateImage(files, "DOCKER.IO/bitnami/nginx").map((r) => r.file)).toEqual(["d/values.yaml"]);
  });

  it("finds Helm images at any depth, under any key, in maps and strings", () => {
    const text = [
      "controller:",
      "  image:",
      "    registry: registry.k8s.io",
      "    image: ingress-nginx/controller",
      "    tag: v1.11.2",
      `    digest: ${D}`,
      "deep:",
      "  a:",
      "    - b:",
      "        sidecarImage: registry.k8s.io/ingress-nginx/controller:v1",
      "        c:",
      "          whatever:",
      "            repository: registry.k8s.io/ingress-nginx/controller",
      "notAnImage:",
      "  repository: https://charts.example.com/x",
      "  name: registry.k8s.io/ingress-nginx/controller",
      "",
    ].join("\n");
    const refs = locateImage([{ path: "values.yaml", text }], "registry.k8s.io/ingress-nginx/controller");
    expect(refs.map((r) => r.path)).toEqual([
      "controller.image",
      "deep.a[0].b.sidecarImage",
      "deep.a[0].b.c.whatever",
    ]);
  });

  it("a kustomize entry matches by newName, or by name when it has none", () => {
    const text = [
      "images:",
      "  - name: app",
      "    newName: myacr.azurecr.io/app",
      "  - name: myacr.azurecr.io/app",
      "    newTag: '2'",
      "  - name: myacr.azurecr.io/app",
      "    newName: myacr.azurecr.io/other",
      "",
    ].join("\n");
    const refs = locateImage([{ path: "kustomization.yml", text }], "myacr.azurecr.io/app");
    expect(refs.map((r) => r.path)).toEqual(["images[0]", "images[1]"]);
  });

  it("finds pod specs in every workload kind and container list", () => {
    const text = [
      "apiVersion: batch/v1",
      "kind: CronJob",
      "spec:",
      "  jobTemplate:",
      "    spec:",
      "      template:",
      "        spec:",
      "          initContainers: [{name: i, image: 'app:1'}]",
      "          containers:",
      "            - name: c",
      "              image: app",
      "          ephemeralContainers:",
      "            - name: e",
      `              image: app@${D}`,
      "---",
      "apiVersion: v1",
      "kind: List",
      "items:",
      "  - apiVersion: v1",
      "    kind: Pod",
      "    spec:",
      "      containers:",
      "        - image: app:2",
      "",
    ].join("\n");
    const refs = locateImage([{ path: "workloads.yaml", text }], "app");
    expect(refs.map((r) => `${r.line} ${r.path}`)).toEqual([
      "8 spec.jobTemplate.spec.template.spec.initContainers[0].image",
      "11 spec.jobTemplate.spec.template.spec.containers[0].image",
      "14 spec.jobTemplate.spec.template.spec.ephemeralContainers[0].image",
      "23 items[0].spec.containers[0].image",
    ]);
  });

  it("reads Argo CD ApplicationSet templates, and reports parameters without a digest as not editable", () => {
    const text = [
      "apiVersion: argoproj.io/v1alpha1",
      "kind: ApplicationSet",
      "spec:",
      "  template:",
      "    spec:",
      "      source:",
      "        helm:",
      "          parameters:",
      "            - name: api.image.registry",
      "              value: myacr.azurecr.io",
      "            - name: api.image.repository",
      "              value: app",
      "            - name: api.image.tag",
      '              value: "1.0"',
      "            - name: sidecarImage",
      `              value: myacr.azurecr.io/app@${D}`,
      "",
    ].join("\n");
    const refs = locateImage([{ path: "appset.yaml", text }], "myacr.azurecr.io/app");
    expect(refs.map((r) => [r.line, r.path, r.current, r.notEditable])).toEqual([
      [
        10,
        "spec.template.spec.source.helm.parameters[0]",
        { repository: "myacr.azurecr.io/app", tag: "1.0" },
        "there is no `api.image.digest` parameter (add one next to `api.image.tag` once, for a chart that reads it)",
      ],
      [
        16,
        "spec.template.spec.source.helm.parameters[3].value",
        { repository: "myacr.azurecr.io/app", digest: D },
        undefined,
      ],
    ]);
  });

  it("reports references reached through aliases where the alias is used", () => {
    const text = [
      "base: &img",
      "  repository: myacr.azurecr.io/app",
      `  digest: ${D}`,
      "api:",
      "  image: *img",
      "",
    ].join("\n");
    expect(
      locateImage([{ path: "values.yaml", text }], "myacr.azurecr.io/app").map((r) => `${r.line} ${r.path}`),
    ).toEqual(["2 base", "5 api.image"]);
  });
});

describe("what is searched", () => {
  it("ignores non-YAML files, chart templates, Chart.yaml and files over 2 MiB, and survives broken YAML", () => {
    const ref = "image: myacr.azurecr.io/app:1\n";
    const files = [
      { path: "chart/Chart.yaml", text: "apiVersion: v2\nname: chart\n" },
      { path: "chart/values.yaml", text: ref },
      { path: "chart/ci/test-values.yaml", text: ref },
      {
        path: "chart/templates/deploy.yaml",
        text: `apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - ${ref}`,
      },
      { path: "notes.txt", text: ref },
      { path: "values.json", text: ref },
      { path: "big/values.yaml", text: `${ref}#${"x".repeat(MAX_FILE_BYTES)}\n` },
      { path: "broken/values.yaml", text: `${ref}: [\n` },
      { path: "Kustomization", text: "images:\n  - name: myacr.azurecr.io/app\n" },
    ];
    expect(locateImage(files, "myacr.azurecr.io/app").map((r) => r.file)).toEqual([
      "chart/values.yaml",
      "chart/ci/test-values.yaml",
      "Kustomization",
    ]);
    const kinds = Object.fromEntries(
      scanFiles(files, "myacr.azurecr.io/app", { classifyAll: true }).map((f) => [f.path, [...f.kinds]]),
    );
    expect(kinds).toMatchObject({
      "chart/templates/deploy.yaml": ["chart-template"],
      "big/values.yaml": ["too-large"],
      "broken/values.yaml": ["unparseable"],
    });
  });

  it("caps alias expansion (a billion-laughs document is not walked forever)", () => {
    const lines = ["a0: &a0 [image: myacr.azurecr.io/app]"];
    for (let i = 1; i < 12; i++) lines.push(`a${i}: &a${i} [*a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}]`);
    const [scanned] = scanFiles(
      [{ path: "values.yaml", text: `${lines.join("\n")}\n` }],
      "myacr.azurecr.io/app",
    );
    expect(scanned!.problem).toMatch(/expands to more than/);
  });
});
