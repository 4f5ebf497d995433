// `platform upgrade plan --fleet`'s door: the fleet risk report as a terminal table per member and stage, the
// blockers with file and fix, JSON with -o json, exit 1 when a member blocks (the Fleet fake, real kustomize).
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAksClients } from "@platform/aks";
import { memoryLogger } from "@platform/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runUpgradeFleetPlan } from "../../packages/cli/src/upgrade-fleet.ts";
import { type AksFake, startAksFake } from "../fakes/aks.ts";
import { requirePeers } from "../peers/index.ts";
import { FLEET_RG, FLEET_SUB, type GeneratedFleet, writeFleet } from "./fleet-fixture.ts";
import { startSignIn } from "./helpers.ts";

const peers = requirePeers("kustomize", "helm");
let signIn: Awaited<ReturnType<typeof startSignIn>>;
let aks: AksFake;
let dir: string;
let g: GeneratedFleet;

beforeAll(async () => {
  signIn = await startSignIn();
  dir = await mkdtemp(join(tmpdir(), "upgrade-fleet-cli-"));
  g = await writeFleet(dir, 6, { bad: { index: 5, kind: "removed-api" } });
  aks = await startAksFake({ clusters: g.clusters, fleets: [g.fleet] });
});
afterAll(async () => {
  expect(aks.arm.mismatches).toEqual([]);
  await Promise.all([aks.close(), signIn.close()]);
  await rm(dir, { recursive: true, force: true });
});

async function plan(extra: { json?: boolean; planFile?: string } = {}) {
  const credential = signIn.credential();
  let out = "";
  const code = await runUpgradeFleetPlan(
    {
      fleet: g.fleet.name,
      subscriptionId: FLEET_SUB,
      resourceGroup: FLEET_RG,
      targetVersion: "latest-patch",
      nodePools: [],
      fleetStages: g.stages,
      config: "platform.yaml",
      configExplicit: true,
      root: dir,
      json: extra.json ?? false,
      planFile: extra.planFile,
    },
    {
      out: (s) => (out += s),
      log: memoryLogger(),
      env: { PLATFORM_KUSTOMIZE: peers.paths.kustomize!, PLATFORM_HELM: peers.paths.helm! },
    },
    (s) => createAksClients(credential, s, { armEndpoint: aks.url, ca: aks.arm.ca }),
  );
  return { code, out };
}

describe.skipIf(!peers.ok)("platform upgrade plan --fleet", () => {
  it("prints the member table by stage and the blocker with its file and fix; exit 1", async () => {
    const r = await plan({ planFile: "fleet-plan.json" });
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain(
      "Fleet risk report to 1.30.10 (Full): 1 of 6 member(s) blocked; the update run is not created",
    );
    expect(r.out).toMatch(/^stage\s+member\s+cluster\s+version\s+objects\s+blockers\s+warnings\s+verdict$/m);
    expect(r.out).toMatch(/^canary\s+member-00\s+aks-fleet-00\s+1\.30\.7 → 1\.30\.10\s+2\s+0\s+0\s+ok$/m);
    expect(r.out).toMatch(/^wave2\s+member-05\s+aks-fleet-05\s+1\.30\.7 → 1\.30\.10\s+3\s+1\s+0\s+blocked$/m);
    expect(r.out).toMatch(
      /blocker wave2\/member-05 removed-api: flowcontrol\.apiserver\.k8s\.io\/v1beta2 FlowSchema is not served since Kubernetes 1\.29.*\(clusters\/member-05\/flowschema\.yaml:1\)/,
    );
    expect(r.out).toContain("fix: Change apiVersion to flowcontrol.apiserver.k8s.io/v1");
    const written = JSON.parse(await readFile(join(dir, "fleet-plan.json"), "utf8"));
    expect(written.risk.blockers).toEqual([expect.objectContaining({ stage: "wave2", member: "member-05" })]);
  });

  it("-o json prints the fleet plan with its risk report", async () => {
    const r = await plan({ json: true });
    expect(r.code).toBe(1);
    const p = JSON.parse(r.out);
    expect(p).toMatchObject({ schema: "platform.aks/fleet-plan@1", blocked: true, version: "1.30.10" });
    expect(p.risk.members.map((m: { stage: string }) => m.stage)).toEqual([
      "canary",
      "canary",
      "wave1",
      "wave1",
      "wave2",
      "wave2",
    ]);
  });
});
