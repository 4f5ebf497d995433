import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { GitRepo, WorkTreeBlobs } from "./git.ts";
import { diskFs } from "./kustomize.ts";
import { type LoadOptions, planManifests } from "./manifests.ts";
import { PlanCache, planCacheFile, planWithCache } from "./plan-cache.ts";
import { WorkTreeView } from "./plan-fs.ts";
import { unitInputs } from "./units.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function git(dir: string, ...args: string[]) {
  execFileSync("git", ["-c", "user.email=t@e", "-c", "user.name=t", ...args], { cwd: dir, stdio: "pipe" });
}

async function put(dir: string, files: Record<string, string>): Promise<void> {
  for (const [p, t] of Object.entries(files)) {
    await mkdir(join(dir, p, ".."), { recursive: true });
    await writeFile(join(dir, p), t);
  }
}

const DEPLOY = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n";
/** Two overlays over a base over a shared base, a component, a chart, a plain manifest, a generator input. */
const TREE: Record<string, string> = {
  "shared/kustomization.yaml": "resources:\n  - deploy.yaml\n",
  "shared/deploy.yaml": DEPLOY,
  "shared/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: s\n",
  "apps/a/base/kustomization.yaml": "resources:\n  - ../../../shared\ncomponents:\n  - ../../../comp\n",
  "apps/a/overlays/dev/kustomization.yaml": "resources:\n  - ../../base\npatches:\n  - path: patch.yaml\n",
  "apps/a/overlays/dev/patch.yaml": DEPLOY,
  "apps/a/overlays/prod/kustomization.yaml":
    "resources:\n  - ../../base\nconfigMapGenerator:\n  - name: c\n    envs: [.env]\n",
  "comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
  "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
  "charts/web/templates/app.yaml": DEPLOY,
  "plain/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n",
  "README.md": "docs\n",
  ".gitignore": ".env\nbuild/\n",
};

async function repo(files: Record<string, string> = TREE): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), "plan-cache-")));
  dirs.push(dir);
  await put(dir, files);
  git(dir, "init", "-q");
  git(dir, "add", "-A");
  git(dir, "commit", "-qm", "base");
  return dir;
}

const opts = (root: string): LoadOptions => ({ inputs: ["."], render: "auto", root });

async function listing(root: string, own: string[] = []) {
  const repo = await GitRepo.open(root);
  const blobs = await WorkTreeBlobs.open(root, repo);
  const view = await WorkTreeView.open(root, blobs, { own });
  return { blobs, view };
}

/** Units, planning rows and each unit's inputs, planned from the disk. */
async function diskPlan(root: string) {
  const plan = await planManifests(opts(root));
  const { blobs } = await listing(root);
  const inputs = new Map();
  for (const u of plan.units) inputs.set(u.path, await unitInputs(root, u, blobs, diskFs));
  return {
    units: plan.units.map(({ path, kind, walked }) => ({ path, kind, walked })),
    planned: plan.planned,
    inputs,
  };
}

async function cachedPlan(root: string, cache: PlanCache) {
  const { blobs, view } = await listing(root, cache.file ? [cache.file] : []);
  const r = await planWithCache(opts(root), blobs, view, cache);
  return {
    reused: r.reused,
    units: r.plan.units.map(({ path, kind, walked }) => ({ path, kind, walked })),
    planned: r.plan.planned,
    inputs: r.inputs,
  };
}

describe("the plan from git's listing", () => {
  it("is the plan from the disk: modified, deleted, untracked and ignored files included", async () => {
    const root = await repo();
    await put(root, {
      // Untracked: a new overlay (its kustomization is seen) and a plain manifest.
      "apps/a/overlays/staging/kustomization.yaml": "resources:\n  - ../../base\n",
      "plain/extra.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n",
      // Ignored: the generator input, and a directory of them.
      "apps/a/overlays/prod/.env": "A=1\n",
      "build/out.yaml": DEPLOY,
      // Modified: the dev overlay reads one more file.
      "apps/a/overlays/dev/kustomization.yaml":
        "resources:\n  - ../../base\n  - extra.yaml\npatches:\n  - path: patch.yaml\n",
      "apps/a/overlays/dev/extra.yaml": DEPLOY,
    });
    await unlink(join(root, "plain/ns.yaml"));
    const cache = PlanCache.memory();
    const fromGit = await cachedPlan(root, cache);
    expect(fromGit.reused).toBe(false);
    expect(fromGit).toEqual({ ...(await diskPlan(root)), reused: false });
    const paths = fromGit.units.map((u) => u.path);
    expect(paths).toContain("apps/a/overlays/staging");
    expect(paths).toContain("build/out.yaml");
    expect(paths).not.toContain("plain/ns.yaml");
    expect(fromGit.inputs.get("apps/a/overlays/prod")?.files).toContain("apps/a/overlays/prod/.env");
    expect(fromGit.inputs.get("apps/a/overlays/dev")?.files).toContain("apps/a/overlays/dev/extra.yaml");
  });

  it("asks the disk when the tree holds a symlink", async () => {
    const root = await repo();
    await symlink("deploy.yaml", join(root, "shared/link.yaml"));
    git(root, "add", "-A");
    git(root, "commit", "-qm", "link");
    expect((await listing(root)).view).toBeUndefined();
  });
});

describe("the plan cache", () => {
  it("reuses the plan of an unchanged tree, and re-plans when a file appears or a kustomization changes", async () => {
    const root = await repo();
    const file = planCacheFile(join(root, ".platform/units.json"));
    const first = await PlanCache.open(file);
    const planned = await cachedPlan(root, first);
    expect(planned.reused).toBe(false);
    expect(first.misses).toBe(5);
    await first.save();

    // A patch's bytes are no input of the plan.
    await writeFile(join(root, "apps/a/overlays/dev/patch.yaml"), `${DEPLOY}  labels: {a: b}\n`);
    const again = await PlanCache.open(file);
    expect(await cachedPlan(root, again)).toEqual({ ...planned, reused: true });
    expect(again.misses).toBe(0);

    // A changed kustomization's blob (no file added or removed): its stored parse is not used (the others
    // are), and the plan is remade.
    await writeFile(join(root, "shared/kustomization.yaml"), "resources:\n  - deploy.yaml\n  - sa.yaml\n");
    const changed = await PlanCache.open(file);
    const replanned = await cachedPlan(root, changed);
    expect(replanned.reused).toBe(false);
    expect(changed.misses).toBe(1);
    expect(replanned).toEqual({ ...(await diskPlan(root)), reused: false });
    for (const u of ["apps/a/overlays/dev", "apps/a/overlays/prod"])
      expect(replanned.inputs.get(u)?.files).toContain("shared/sa.yaml");
    await changed.save();

    // An untracked kustomization is a new unit, not hidden by the stored plan.
    await put(root, { "apps/a/overlays/qa/kustomization.yaml": "resources:\n  - ../../base\n" });
    const added = await cachedPlan(root, await PlanCache.open(file));
    expect(added.reused).toBe(false);
    expect(added.units.map((u) => u.path)).toContain("apps/a/overlays/qa");
    expect(added).toEqual({ ...(await diskPlan(root)), reused: false });
  });

  it("ignores a damaged cache file, or one of another build, and plans afresh", async () => {
    const root = await repo();
    const file = planCacheFile(join(root, ".platform/units.json"));
    const first = await PlanCache.open(file);
    const planned = await cachedPlan(root, first);
    await first.save();
    const bytes = await readFile(file);

    const damaged = Buffer.from(bytes);
    damaged[damaged.length - 5] = damaged[damaged.length - 5]! ^ 0xff;
    for (const b of [damaged, bytes.subarray(0, bytes.length - 100), Buffer.from("not a cache")]) {
      await writeFile(file, b);
      const c = await PlanCache.open(file);
      expect(await cachedPlan(root, c)).toEqual({ ...planned, reused: false });
      expect(c.misses).toBe(5);
    }

    await writeFile(file, bytes);
    const other = await PlanCache.open(file, { build: "another build" });
    expect(await cachedPlan(root, other)).toEqual({ ...planned, reused: false });
    expect(other.misses).toBe(5);
    // And the file as written is good: the same build reuses it.
    await writeFile(file, bytes);
    expect((await cachedPlan(root, await PlanCache.open(file))).reused).toBe(true);
  });
});
