// Fleet mode of the bundled cluster-upgrade action with the fleet-wide risk report (issue 18): a 50-member fleet
// on the spec-checked Fleet fake, each member's overlay in a config repo named by platform.yaml fleet.members and
// rendered by the real kustomize. One bad member in the last stage blocks the plan (status, summary, annotation,
// plan file) and apply refuses the plan before any update run exists; fixed, the same run goes stage by stage;
// with update-strategy, the fleet's FleetUpdateStrategy gives the stages (a missing one fails the plan).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FLEET_RG, FLEET_SUB, type GeneratedFleet, writeFleet } from "../aks/fleet-fixture.ts";
import { startSignIn } from "../aks/helpers.ts";
import { type AksFake, startAksFake } from "../fakes/aks.ts";
import { expectNoLeaks } from "../harness/leaks.ts";
import { runBundledAction } from "../harness/run-action.ts";
import { requirePeers } from "../peers/index.ts";

const peers = requirePeers("kustomize", "helm");
let signIn: Awaited<ReturnType<typeof startSignIn>>;
let aks: AksFake;
let ws: string;
let g: GeneratedFleet;

beforeAll(async () => {
  signIn = await startSignIn();
  ws = await mkdtemp(join(tmpdir(), "cluster-upgrade-fleet-"));
  g = await writeFleet(join(ws, "config-repo"), 50, { bad: { index: 49, kind: "pdb" } });
  aks = await startAksFake({ clusters: g.clusters, fleets: [g.fleet] });
  await writeFile(join(ws, "ca.pem"), `${signIn.entra.ca}\n${aks.arm.ca}\n`);
});
afterAll(async () => {
  expect(aks.arm.mismatches).toEqual([]);
  await Promise.all([aks.close(), signIn.close()]);
  await rm(ws, { recursive: true, force: true });
});

async function run(extra: Record<string, string>) {
  const r = await runBundledAction(
    "cluster-upgrade",
    {
      "subscription-id": FLEET_SUB,
      "resource-group": FLEET_RG,
      fleet: g.fleet.name,
      config: "config-repo/platform.yaml",
      "arm-endpoint": aks.url,
      "authority-host": signIn.entra.url,
      "poll-interval": "0.05",
      ...extra,
    },
    {
      workspace: ws,
      env: {
        ...signIn.env,
        NODE_EXTRA_CA_CERTS: join(ws, "ca.pem"),
        PLATFORM_KUSTOMIZE: peers.paths.kustomize!,
        PLATFORM_HELM: peers.paths.helm!,
      },
    },
  );
  expectNoLeaks(r, [
    signIn.github.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN,
    ...signIn.github.minted.map((m) => m.token),
    ...signIn.entra.issued.map((i) => i.accessToken),
  ]);
  return r;
}
const runRequests = () => aks.arm.requests.filter((q) => q.operationId?.startsWith("UpdateRuns_"));

describe.skipIf(!peers.ok)("cluster-upgrade fleet risk report (bundled action)", () => {
  it("one bad member in the last stage of 50 blocks the plan; apply refuses it and creates no update run", async () => {
    const plan = await run({ mode: "plan", "fleet-stages": g.stages, "plan-file": "fleet.json" });
    expect(plan.code, plan.stdout).toBe(1);
    expect(plan.outputs.status).toBe("blocked");
    const written = JSON.parse(plan.outputs.plan!);
    expect(written.risk.members).toHaveLength(50);
    expect(written.risk.blockers).toEqual([
      expect.objectContaining({ stage: "wave2", member: "member-49", check: "pdb-blocks-drain" }),
    ]);
    expect(plan.summary).toContain(
      "Fleet risk report to 1.30.10 (Full): 1 of 50 member(s) blocked; the update run is not created",
    );
    expect(plan.summary).toMatch(/\| wave2 \| member-49 \| ⛔ pdb-blocks-drain \|/);
    expect(plan.summary).toContain(
      "| canary | member-00 | aks-fleet-00 | 1.30.7 → 1.30.10 | 2 | 0 | 0 | ok |",
    );
    // The terminal table in the log, and an error annotation naming stage/member.
    expect(plan.stdout).toMatch(
      /wave2\s+member-49\s+aks-fleet-49\s+1\.30\.7 → 1\.30\.10\s+2\s+1\s+0\s+blocked/,
    );
    expect(plan.annotations).toContainEqual(
      expect.objectContaining({
        level: "error",
        title: "wave2/member-49: pdb-blocks-drain",
        // A repository path (platform.yaml is in config-repo/), so the annotation lands on the file.
        file: expect.stringMatching(/^config-repo\/(base|clusters\/member-49)\//),
      }),
    );
    expect(
      plan.annotations.find((a) => a.title === "AKS_PLAN_BLOCKED" || /blocked/.test(a.message))?.message,
    ).toMatch(/wave2\/member-49/);

    const apply = await run({ mode: "apply", "plan-file": "fleet.json" });
    expect(apply.code, apply.stdout).toBe(1);
    expect(apply.stdout).toMatch(
      /The fleet plan is blocked \(wave2\/member-49: .*maxUnavailable is 0.*\); no update run is created/,
    );
    expect(runRequests()).toEqual([]);
  });

  it("fixed, the plan is clean and apply runs the plan's stages to Completed", async () => {
    await writeFile(
      join(ws, "config-repo", "clusters", "member-49", "kustomization.yaml"),
      "resources:\n  - ../../base\n",
    );
    const plan = await run({ mode: "plan", "fleet-stages": g.stages, "plan-file": "fleet.json" });
    expect(plan.code, plan.stdout).toBe(0);
    expect(plan.summary).toContain("Fleet risk report to 1.30.10 (Full): 50 member(s) clear");
    const apply = await run({ mode: "apply", "plan-file": "fleet.json" });
    expect(apply.code, apply.stdout).toBe(0);
    expect(apply.outputs.status).toBe("Completed");
    const put = runRequests().find((q) => q.operationId === "UpdateRuns_CreateOrUpdate");
    expect(put?.body).toMatchObject({
      properties: { strategy: { stages: [{ name: "canary" }, { name: "wave1" }, { name: "wave2" }] } },
    });
    expect(aks.cluster(FLEET_RG, "aks-fleet-49").kubernetesVersion).toBe("1.30.10");
  });

  it("update-strategy: a missing strategy fails the plan naming it; the fleet's strategy is planned and applied", async () => {
    const missing = await run({
      mode: "plan",
      "update-strategy": "safe-rollout",
      "plan-file": "strategy.json",
    });
    expect(missing.code, missing.stdout).toBe(1);
    expect(missing.stdout).toContain(
      `Fleet ${FLEET_RG}/${g.fleet.name} has no update strategy "safe-rollout"`,
    );
    expect(missing.annotations).toContainEqual(
      expect.objectContaining({ level: "error", message: expect.stringContaining("safe-rollout") }),
    );
    expect(missing.outputs.status).toBeUndefined();

    // The fleet's strategy: canary first, then both waves at once (fleet-stages ran three stages).
    g.fleet.strategies = [
      {
        name: "safe-rollout",
        stages: [
          { name: "canary", groups: [{ name: "canary" }], afterStageWaitInSeconds: 600 },
          { name: "waves", groups: [{ name: "wave1" }, { name: "wave2" }] },
        ],
      },
    ];
    const runsBefore = runRequests().length;
    const plan = await run({
      mode: "plan",
      "target-version": "latest-minor",
      "update-strategy": "safe-rollout",
      "plan-file": "strategy.json",
    });
    expect(plan.code, plan.stdout).toBe(0);
    expect(plan.summary).toContain(", update strategy safe-rollout");
    const written = JSON.parse(plan.outputs.plan!);
    expect(written.updateStrategyId).toMatch(/\/fleets\/fleet-northwind\/updateStrategies\/safe-rollout$/);
    expect(written.risk.stages).toEqual(["canary", "waves"]);
    expect(new Set(written.risk.members.map((m: { stage: string }) => m.stage))).toEqual(
      new Set(["canary", "waves"]),
    );

    const apply = await run({ mode: "apply", "plan-file": "strategy.json" });
    expect(apply.code, apply.stdout).toBe(0);
    expect(apply.outputs.status).toBe("Completed");
    const put = runRequests()
      .slice(runsBefore)
      .find((q) => q.operationId === "UpdateRuns_CreateOrUpdate");
    expect(put?.body).toMatchObject({ properties: { updateStrategyId: written.updateStrategyId } });
    expect((put!.body as { properties: object }).properties).not.toHaveProperty("strategy");
    expect(aks.cluster(FLEET_RG, "aks-fleet-49").kubernetesVersion).toBe(written.version);
  });

  it("a platform.yaml fleet entry listed twice is a config error at its file:line:column", async () => {
    await writeFile(
      join(ws, "bad-platform.yaml"),
      "fleet:\n  members:\n    - { name: member-00, path: a }\n    - { name: member-00, path: b }\n",
    );
    const r = await run({ mode: "plan", config: "bad-platform.yaml" });
    expect(r.code).toBe(1);
    expect(r.annotations).toContainEqual(
      expect.objectContaining({ level: "error", line: 4, col: expect.any(Number) }),
    );
    expect(r.stdout).toContain("fleet.members.1.name: member member-00 is listed twice");
  });
});
