// The bundled cluster-upgrade action as GitHub runs it, signing in through the GitHub OIDC and Entra fakes and
// talking to the AKS fake over HTTPS (NODE_EXTRA_CA_CERTS trusts both fakes' certificates).
import { spawn } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { northwind, startSignIn, windowAround } from "../aks/helpers.ts";
import { type AksFake, startAksFake } from "../fakes/aks.ts";
import { expectNoLeaks } from "../harness/leaks.ts";
import { runBundledAction } from "../harness/run-action.ts";
import { REPO_ROOT, requirePeers } from "../peers/index.ts";

const SUB = "00000000-0000-0000-0000-000000000001";
const RG = "rg-northwind-prod";
const CLUSTER = "aks-northwind-prod";
const peers = requirePeers("kustomize", "helm");
let signIn: Awaited<ReturnType<typeof startSignIn>>;
let aks: AksFake;
let ws: string;

beforeAll(async () => {
  signIn = await startSignIn();
  ws = await mkdtemp(join(tmpdir(), "cluster-upgrade-ws-"));
  await cp(join(REPO_ROOT, "test", "fixtures", "aks", "config-repo"), join(ws, "config-repo"), {
    recursive: true,
  });
});
afterAll(async () => {
  await signIn.close();
  await rm(ws, { recursive: true, force: true });
});
afterEach(async () => {
  expect(aks.arm.mismatches).toEqual([]);
  await aks.close();
});

async function start(over: Parameters<typeof northwind>[0] = {}) {
  aks = await startAksFake({
    clusters: [northwind({ maintenance: windowAround(new Date(), true), ...over })],
  });
  await trustFakes();
}

/** NODE_EXTRA_CA_CERTS for the action: the Entra and ARM fakes' self-signed certificates. */
const trustFakes = () => writeFile(join(ws, "ca.pem"), `${signIn.entra.ca}\n${aks.arm.ca}\n`);

function env(): Record<string, string> {
  return {
    ...signIn.env,
    NODE_EXTRA_CA_CERTS: join(ws, "ca.pem"),
    ...(peers.ok ? { PLATFORM_KUSTOMIZE: peers.paths.kustomize!, PLATFORM_HELM: peers.paths.helm! } : {}),
  };
}
function inputs(extra: Record<string, string>): Record<string, string> {
  return {
    subscription: SUB,
    "resource-group": RG,
    cluster: CLUSTER,
    "arm-endpoint": aks.url,
    "authority-host": signIn.entra.url,
    "poll-interval": "0.05",
    ...extra,
  };
}
/** The secrets of a run: the job's OIDC request token, every OIDC token minted and every Entra token issued. */
const secrets = () => [
  signIn.github.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN,
  ...signIn.github.minted.map((m) => m.token),
  ...signIn.entra.issued.map((i) => i.accessToken),
];
/** Runs the bundled action; whatever it did, none of the sign-in secrets shows in its log, summary or outputs. */
async function run(extra: Record<string, string>) {
  const r = await runBundledAction("cluster-upgrade", inputs(extra), { workspace: ws, env: env() });
  expectNoLeaks(r, secrets());
  return r;
}

describe("cluster-upgrade bundled action", () => {
  it("plans a two-minor jump as two ordered control-plane hops, each followed by every pool", async () => {
    await start();
    const r = await run({ mode: "plan", "target-version": "latest-minor", "plan-file": "two-minor.json" });
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs).toMatchObject({
      status: "planned",
      "current-version": "1.30.7",
      "target-version": "1.32.4",
    });
    const plan = JSON.parse(r.outputs.plan!);
    expect(plan.steps.map((s: { id: string }) => s.id)).toEqual([
      "control-plane@1.31.6",
      "pool:system@1.31.6",
      "pool:apps@1.31.6",
      "control-plane@1.32.4",
      "pool:system@1.32.4",
      "pool:apps@1.32.4",
    ]);
    expect(JSON.parse(await readFile(join(ws, "two-minor.json"), "utf8")).steps).toHaveLength(6);
    expect(r.summary).toContain("## ✅ Upgrade plan for aks-northwind-prod: 1.30.7 → 1.32.4");
    expect(signIn.entra.issued.at(-1)?.scope).toBe(`${aks.url}/.default`);
    expect(r.masked).toContain(signIn.entra.issued.at(-1)?.accessToken);
    expect(signIn.github.minted.length).toBeGreaterThan(0);
  });

  it.skipIf(!peers.ok)(
    "a removed API in the config repo (rendered with kustomize) blocks the plan",
    async () => {
      await start();
      const r = await run({
        mode: "plan",
        "target-version": "latest-minor",
        "config-repo-path": "config-repo/apps/orders, config-repo/platform",
      });
      expect(r.code).toBe(1);
      expect(r.outputs.status).toBe("blocked");
      const blocker = r.annotations.find((a) => a.title === "removed-api");
      expect(blocker).toMatchObject({ level: "error", file: "config-repo/platform/flowschema.yaml" });
      expect(blocker?.message).toContain("flowcontrol.apiserver.k8s.io/v1");
      // Only one minor: the API is still served, so it is a warning and the plan goes through.
      const ok = await run({
        mode: "plan",
        "target-version": "1.31.6",
        "config-repo-path": "config-repo/apps/orders, config-repo/platform",
      });
      expect(ok.code, ok.stdout).toBe(0);
      expect(ok.annotations.find((a) => a.title === "deprecated-api")?.level).toBe("warning");
    },
  );

  it("an apply killed mid-pool continues from the saved poller state, without a second PUT", async () => {
    await start();
    const plan = await run({ mode: "plan", "target-version": "latest-patch", "plan-file": "resume.json" });
    expect(plan.code, plan.stdout).toBe(0);
    // Each upgrade now takes three status polls, one second apart.
    aks.setPolls(3, 1);
    await killWhenStepRuns(
      "pool:system@1.30.10",
      inputs({ mode: "apply", plan: "resume.json", state: "resume-state.json" }),
    );
    const saved = JSON.parse(await readFile(join(ws, "resume-state.json"), "utf8"));
    expect(saved).toMatchObject({
      completed: ["control-plane@1.30.10"],
      current: { step: "pool:system@1.30.10" },
    });
    expect(aks.cluster(RG, CLUSTER).pools.get("system")?.provisioningState).toBe("Upgrading");
    aks.setPolls(1, 0);
    const r = await run({ mode: "apply", plan: "resume.json", state: "resume-state.json" });
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs.status).toBe("succeeded");
    expect(r.summary).toContain("resumed from saved state");
    const puts = aks.arm.requests.filter((q) => q.method === "PUT").map((q) => q.path.split("/").at(-1));
    expect(puts).toEqual([CLUSTER, "system", "apps"]);
    expect([...aks.cluster(RG, CLUSTER).pools.values()].map((p) => p.orchestratorVersion)).toEqual([
      "1.30.10",
      "1.30.10",
    ]);
  });

  it("refuses a stale plan", async () => {
    await start();
    expect((await run({ mode: "plan", "plan-file": "stale.json" })).code).toBe(0);
    aks.cluster(RG, CLUSTER).etag = '"changed-by-az-aks-update"';
    const r = await run({ mode: "apply", plan: "stale.json", state: "stale-state.json" });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("AKS_PLAN_STALE");
    expect(aks.arm.requests.some((q) => q.method === "PUT")).toBe(false);
  });

  it("refuses to start outside the maintenance window", async () => {
    await start({ maintenance: windowAround(new Date(), false) });
    expect((await run({ mode: "plan", "plan-file": "window.json" })).code).toBe(0);
    const r = await run({ mode: "apply", plan: "window.json", state: "window-state.json" });
    expect(r.code).toBe(1);
    expect(r.outputs.status).toBe("waiting-for-window");
    expect(r.stdout).toContain("AKS_OUTSIDE_WINDOW");
    expect(r.summary).toContain("Outside the maintenance window");
    expect(aks.arm.requests.some((q) => q.method === "PUT")).toBe(false);
  });

  it("bad input: unknown cluster, a target that is not offered, a plan for another cluster", async () => {
    await start();
    const unknown = await run({ mode: "plan", cluster: "aks-nope" });
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toMatch(
      /Cluster aks-nope was not found in resource group rg-northwind-prod.*\(input: cluster\)/,
    );
    const notOffered = await run({ mode: "plan", "target-version": "1.31.4" });
    expect(notOffered.code).toBe(1);
    expect(notOffered.stdout).toMatch(
      /1\.31\.4 is not offered .*offered: 1\.30\.10, 1\.31\.2, 1\.31\.6, 1\.32\.0, 1\.32\.4 \(input: target-version\)/,
    );
    expect((await run({ mode: "plan", "plan-file": "mine.json" })).code).toBe(0);
    const other = await run({ mode: "apply", cluster: "aks-northwind-dev", plan: "mine.json" });
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(
      /The plan is for rg-northwind-prod\/aks-northwind-prod .*not rg-northwind-prod\/aks-northwind-dev \(input: plan-file\)/,
    );
  });
});

describe("cluster-upgrade bundled action, fleet mode", () => {
  it("plans every member, then applies with a staged update run followed to Completed", async () => {
    const ids = ["aks-canary", "aks-prod"].map(
      (n) =>
        `/subscriptions/${SUB}/resourceGroups/rg-fleet/providers/Microsoft.ContainerService/managedClusters/${n}`,
    );
    aks = await startAksFake({
      clusters: ids.map((id, i) =>
        northwind({ id, name: i ? "aks-prod" : "aks-canary", resourceGroup: "rg-fleet", etag: undefined }),
      ),
      fleets: [
        {
          resourceGroup: "rg-fleet",
          name: "northwind-fleet",
          members: [
            { name: "canary", clusterId: ids[0]!, group: "canary" },
            { name: "prod", clusterId: ids[1]!, group: "prod" },
          ],
        },
      ],
    });
    await trustFakes();
    const fleet = { cluster: "", fleet: "northwind-fleet", "resource-group": "rg-fleet" };
    const plan = await run({
      ...fleet,
      mode: "plan",
      "target-version": "latest-patch",
      "plan-file": "fleet.json",
    });
    expect(plan.code, plan.stdout).toBe(0);
    expect(plan.outputs).toMatchObject({ status: "planned", "target-version": "1.30.10" });
    expect(plan.summary).toContain("Fleet northwind-fleet: 2 member(s) to 1.30.10 (Full)");
    const r = await run({
      ...fleet,
      mode: "apply",
      plan: "fleet.json",
      "fleet-stages": "canary=canary@600; prod=prod",
    });
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs.status).toBe("Completed");
    expect(r.summary).toContain("| canary | canary | canary | Completed |");
    expect(r.summary).toContain("| prod | prod | prod | Completed |");
    expect(aks.cluster("rg-fleet", "aks-prod").kubernetesVersion).toBe("1.30.10");
  });
});

/** Runs the bundled action and kills it (SIGKILL, like a runner timeout) once `step`'s operation is running. */
async function killWhenStepRuns(step: string, inputs: Record<string, string>): Promise<void> {
  const e: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    GITHUB_ACTIONS: "true",
    GITHUB_WORKSPACE: ws,
    RUNNER_TEMP: ws,
    GITHUB_OUTPUT: join(ws, "killed-output"),
    GITHUB_STEP_SUMMARY: join(ws, "killed-summary"),
    ...env(),
  };
  for (const [k, v] of Object.entries(inputs)) e[`INPUT_${k.toUpperCase()}`] = v;
  const child = spawn(process.execPath, [join(REPO_ROOT, "actions", "cluster-upgrade", "dist", "index.js")], {
    cwd: ws,
    env: e,
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((done) => child.on("close", (c) => done(c)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const state = await readFile(join(ws, inputs.state!), "utf8").catch(() => "");
    if (state.includes(`"step": "${step}"`)) break;
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the action ended before ${step} ran:\n${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill("SIGKILL");
  await exited;
}
