import { describe, expect, it } from "vitest";
import { digest, fixtureFiles, maskDigests, memoryReader } from "./__fixtures__/repo.ts";
import { planBump, promotionCheck } from "./plan.ts";

const ORDERS = "northwindacr.azurecr.io/team-a/orders";
const NEW = digest("team-a-orders-1.9.0");
const ENVS = [
  { name: "dev", path: "tenants/team-a/orders/overlays/dev" },
  { name: "staging", path: "tenants/team-a/orders/overlays/staging" },
  { name: "prod", path: "tenants/team-a/orders/overlays/prod" },
];

describe("planBump", () => {
  it("plans one environment's overlay and nothing else; the stale newTag goes with its line", async () => {
    const reader = memoryReader(fixtureFiles("multitenancy"));
    const plan = await planBump(reader, { image: ORDERS, digest: NEW, paths: [ENVS[0]!.path] });
    expect(plan.references.map((r) => r.file)).toEqual([
      "tenants/team-a/orders/overlays/dev/kustomization.yaml",
    ]);
    expect(plan.changes).toHaveLength(1);
    const [change] = plan.changes;
    expect(change!.after).toBe(
      change!.before.replace(digest("team-a-orders-1.8.0"), NEW).replace("    newTag: 1.8.0\r\n", ""),
    );
    expect(change!.edits).toEqual([
      expect.objectContaining({ oldTag: "1.8.0", tagDropped: true, newDigest: NEW }),
    ]);
    expect(change!.after).toContain("\r\n");
    expect(plan.skipped).toEqual([]);
  });

  it("drops a stale tag from image strings by default, keeps it with tagPolicy keep", async () => {
    const files = fixtureFiles("multitenancy");
    const req = { image: "northwindacr.azurecr.io/team-b/payments", digest: NEW, paths: ["tenants/team-b"] };
    const dropped = await planBump(memoryReader(files), req);
    const dev = dropped.changes.find((c) => c.file.endsWith("values-dev.yaml"))!;
    expect(dev.after).toContain(`image: northwindacr.azurecr.io/team-b/payments@${NEW}\n`);
    expect(dev.after).toContain(`image: "northwindacr.azurecr.io/team-b/payments@${NEW}"\n`);
    expect(dev.after).not.toContain(":3.1.0");
    const kept = await planBump(memoryReader(files), { ...req, tagPolicy: "keep" });
    expect(kept.changes.find((c) => c.file.endsWith("values-dev.yaml"))!.after).toContain(
      `payments:3.1.0@${NEW}`,
    );
    await expect(planBump(memoryReader(files), { ...req, tagPolicy: "update" })).rejects.toMatchObject({
      code: "GITOPS_NO_TAG",
      input: "tag-policy",
    });
  });

  it("is a no-op the second time (same digest, same tag)", async () => {
    const reader = memoryReader(fixtureFiles("flux"));
    const req = {
      image: "northwindacr.azurecr.io/orders/api",
      digest: NEW,
      tag: "2.5.0",
      paths: ["apps", "clusters"],
    };
    const first = await planBump(reader, req);
    expect(first.changes.map((c) => c.file)).toEqual([
      "apps/base/orders/release.yaml",
      "apps/production/orders-values.yaml",
      "apps/staging/orders-values.yaml",
      "clusters/production/apps.yaml",
    ]);
    for (const c of first.changes) reader.files[c.file] = c.after;
    const second = await planBump(reader, req);
    expect(second.changes).toEqual([]);
    expect(second.references).toHaveLength(first.references.length);
  });

  it("only digests change across a whole fixture repo with tagPolicy keep", async () => {
    const files = fixtureFiles("multitenancy");
    const plan = await planBump(memoryReader(files), {
      image: "northwindacr.azurecr.io/team-b/payments",
      digest: NEW,
      paths: ["tenants"],
      tagPolicy: "keep",
    });
    expect(plan.changes).toHaveLength(2);
    for (const c of plan.changes) expect(maskDigests(c.after)).toBe(maskDigests(c.before));
  });

  it("lists every reference found but not edited, with why and the fix", async () => {
    const plan = await planBump(memoryReader(fixtureFiles("argocd")), {
      image: "gcr.io/heptio-images/ks-guestbook-demo",
      digest: NEW,
      paths: [],
    });
    expect(plan.skipped).toContainEqual(
      expect.objectContaining({
        file: "apps/guestbook-qa.yaml",
        kind: "not-editable",
        reason: expect.stringContaining("not a literal block scalar"),
        hint: expect.stringContaining("Give the reference a digest field"),
      }),
    );
    expect(plan.changes.length).toBeGreaterThan(0);
  });

  it("warns when different old digests collapse into one, and about a Helm tag it cannot drop", async () => {
    const image = "myacr.azurecr.io/team/app";
    const k = (d: string) => `images:\n  - name: ${image}\n    digest: ${d}\n`;
    const plan = await planBump(
      memoryReader({
        "a/kustomization.yaml": k(digest("one")),
        "b/kustomization.yaml": k(digest("two")),
        "c/values.yaml": `image:\n  repository: ${image}\n  tag: 5.0.3\n  digest: ${digest("one")}\n`,
      }),
      { image, digest: NEW, paths: [] },
    );
    expect(plan.warnings).toEqual([
      expect.objectContaining({ code: "stale-tag", file: "c/values.yaml", line: 4 }),
      {
        code: "digests-collapsed",
        message: expect.stringMatching(
          /^2 different digests now pin one .*a\/kustomization\.yaml:3, c\/values\.yaml:4.*b\/kustomization\.yaml:3/,
        ),
      },
    ]);
  });

  it("rejects a digest that is not sha256:<64 hex>", async () => {
    const reader = memoryReader({});
    for (const bad of [
      "sha256:abc",
      `SHA256:${"a".repeat(64)}`,
      "a".repeat(64),
      `sha512:${"a".repeat(128)}`,
    ]) {
      await expect(planBump(reader, { image: ORDERS, digest: bad, paths: [] })).rejects.toMatchObject({
        code: "GITOPS_BAD_DIGEST",
        input: "image-ref",
        hint: expect.stringContaining("sha256:"),
      });
    }
  });

  it("says where it looked when the image is nowhere, and names the paths input", async () => {
    const reader = memoryReader(fixtureFiles("argocd"));
    const err = await planBump(reader, {
      image: "northwindacr.azurecr.io/not/here",
      digest: NEW,
      paths: ["apps", "helm-guestbook/"],
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "GITOPS_IMAGE_NOT_FOUND", input: "paths" });
    const message = (err as Error).message;
    expect(message).toContain("under apps, helm-guestbook");
    expect(message).toContain(
      "8 YAML files: 2 Helm values files, 4 Argo CD Applications, 1 Chart.yaml, 1 chart template (not searched)",
    );
    expect((err as { hint: string }).hint).toContain("`paths`");
  });

  it("refuses to plan when every reference is one it cannot edit", async () => {
    const reader = memoryReader({
      "apps/qa.yaml": fixtureFiles("argocd")["apps/guestbook-qa.yaml"]!,
    });
    await expect(
      planBump(reader, { image: "gcr.io/heptio-images/ks-guestbook-demo", digest: NEW, paths: [] }),
    ).rejects.toMatchObject({ code: "GITOPS_NOT_EDITABLE", file: "apps/qa.yaml" });
  });

  it("rejects paths that leave the repo", async () => {
    await expect(
      planBump(memoryReader({}), { image: ORDERS, digest: NEW, paths: ["../other"] }),
    ).rejects.toMatchObject({ code: "GITOPS_BAD_PATH", input: "paths" });
  });
});

describe("promotionCheck", () => {
  const reader = memoryReader(fixtureFiles("multitenancy"));
  const check = (target: string, d: string, force?: boolean) =>
    promotionCheck(reader, { environments: ENVS, target, image: ORDERS, digest: d, force });

  it("lets the first environment take any digest", async () => {
    expect(await check("dev", NEW)).toMatchObject({ verdict: "allowed", reason: "first-environment" });
  });

  it("promotes a digest that already runs in the environment before", async () => {
    expect(await check("staging", digest("team-a-orders-1.8.0"))).toMatchObject({
      verdict: "allowed",
      reason: "present-in-previous",
      previous: "dev",
    });
  });

  it("blocks a digest that skipped the environment before, unless forced", async () => {
    const blocked = await check("prod", NEW);
    expect(blocked).toMatchObject({
      verdict: "blocked",
      reason: "digest-not-in-previous",
      previous: "staging",
      previousDigests: [],
    });
    expect(blocked.message).toMatch(/prod is not bumped: staging pins no digest/);
    expect(await check("prod", NEW, true)).toMatchObject({ verdict: "allowed", reason: "forced" });
  });

  it("names the input for an unknown environment", async () => {
    await expect(check("qa", NEW)).rejects.toMatchObject({
      code: "GITOPS_UNKNOWN_ENVIRONMENT",
      input: "environments",
    });
  });
});
