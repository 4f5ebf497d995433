import {
  chmod,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { digest, FIXTURES, fixtureFiles } from "./__fixtures__/repo.ts";
import { applyChanges, diskReader } from "./local.ts";
import { planBump } from "./plan.ts";

let tmp: string;
let repo: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), "gitops-local-"));
  repo = join(tmp, "repo");
  await cp(join(FIXTURES, "multitenancy"), repo, { recursive: true });
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const ORDERS = "northwindacr.azurecr.io/team-a/orders";
const NEW = digest("team-a-orders-1.9.0");
const DEV = "tenants/team-a/orders/overlays/dev/kustomization.yaml";

describe("diskReader", () => {
  it("lists a checkout recursively with repo-relative forward-slash paths", async () => {
    const reader = diskReader(repo);
    expect(await reader.list("")).toEqual(Object.keys(fixtureFiles("multitenancy")).sort());
    expect(await reader.list("tenants/team-a/orders/overlays/dev/")).toEqual([DEV]);
    expect(await reader.list(DEV)).toEqual([DEV]);
    expect(await reader.list("missing")).toEqual([]);
  });

  it("never follows a symlink out of the checkout, and does not list links at all", async () => {
    const outside = join(tmp, "outside");
    await mkdir(outside);
    await writeFile(join(outside, "kustomization.yaml"), `images:\n  - name: ${ORDERS}\n`);
    await symlink(outside, join(repo, "escape"));
    await symlink(join(outside, "kustomization.yaml"), join(repo, "escape.yaml"));
    await symlink(join(repo, DEV), join(repo, "alias.yaml"));
    const reader = diskReader(repo);
    const all = await reader.list("");
    expect(all.filter((p) => p.startsWith("escape") || p === "alias.yaml")).toEqual([]);
    expect(await reader.list("escape")).toEqual([]);
    expect(await reader.read("escape/kustomization.yaml")).toBeUndefined();
    expect(await reader.read("escape.yaml")).toBeUndefined();
    expect(await reader.read("../outside/kustomization.yaml")).toBeUndefined();
    // A link that stays inside may be read explicitly; it is simply never listed twice.
    expect(await reader.read("alias.yaml")).toBe(await reader.read(DEV));
  });
});

describe("applyChanges", () => {
  it("writes exactly the planned bytes, keeps file modes, and leaves no temp files", async () => {
    await chmod(join(repo, DEV), 0o640);
    const plan = await planBump(diskReader(repo), { image: ORDERS, digest: NEW, paths: ["tenants"] });
    expect(plan.changes).toHaveLength(3);
    const written = await applyChanges(repo, plan.changes);
    expect(written).toEqual(plan.changes.map((c) => c.file));
    for (const c of plan.changes) expect(await readFile(join(repo, c.file), "utf8")).toBe(c.after);
    expect((await stat(join(repo, DEV))).mode & 0o777).toBe(0o640);
    expect((await readdir(join(repo, "tenants/team-a/orders/overlays/dev"))).sort()).toEqual([
      "kustomization.yaml",
    ]);
    // Planned again on the result: nothing to do.
    expect(
      (await planBump(diskReader(repo), { image: ORDERS, digest: NEW, paths: ["tenants"] })).changes,
    ).toEqual([]);
  });

  it("refuses to overwrite a file that changed since the plan, and writes nothing", async () => {
    const plan = await planBump(diskReader(repo), { image: ORDERS, digest: NEW, paths: ["tenants"] });
    const staging = "tenants/team-a/orders/overlays/staging/kustomization.yaml";
    await writeFile(join(repo, staging), `${plan.changes.find((c) => c.file === staging)!.before}# edited\n`);
    await expect(applyChanges(repo, plan.changes)).rejects.toMatchObject({
      code: "GITOPS_CONFLICT",
      file: staging,
    });
    expect(await readFile(join(repo, DEV), "utf8")).toBe(plan.changes.find((c) => c.file === DEV)!.before);
  });

  it("writes through a link inside the checkout to the file it names, keeping the link", async () => {
    await symlink("tenants/team-a/orders/overlays/dev/kustomization.yaml", join(repo, "dev.yaml"));
    const plan = await planBump(diskReader(repo), { image: ORDERS, digest: NEW, paths: [DEV] });
    const change = { ...plan.changes[0]!, file: "dev.yaml" };
    await applyChanges(repo, [change]);
    expect(await readFile(join(repo, DEV), "utf8")).toBe(change.after);
    expect((await lstat(join(repo, "dev.yaml"))).isSymbolicLink()).toBe(true);
  });
});
