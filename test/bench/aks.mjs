// Benchmark of cluster-upgrade planning for a fleet (issue 9): 50 AKS clusters behind the AKS fake with
// realistic ARM latency (40–120 ms per call, uniformly drawn), planned through the real SDK and core's
// GitHub-OIDC credential — every member with bounded concurrency (planClusters, 8 in flight) against the
// same plans made one cluster after another in the same run. Reports wall time, ARM calls per cluster and
// checks that both produce identical plans. Then the fleet-wide risk report (issue 18) for a 50-member fleet:
// one kustomize overlay per member (platform.yaml fleet.members), one bad member in the last stage, rendered by
// the real kustomize — its time against the same overlays built by `kustomize build` one after another (the
// peer's floor: the report adds its checks on top of the renders). Writes bench-results/aks.json.
// Knobs: BENCH_AKS_CLUSTERS=50  BENCH_AKS_CONCURRENCY=8
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createAksClients, fleetRiskReport, parseStages, planClusters, planFleet } from "@platform/aks";
import { createAzureCredential } from "@platform/azure/credential";
import { mapLimit, parseConfig } from "@platform/core";
import { FLEET_RG, FLEET_SUB, writeFleet } from "../aks/fleet-fixture.ts";
import { startAksFake } from "../fakes/aks.ts";
import { startEntraFake, startGitHubOidcFake } from "../fakes/entra.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const N = Number(process.env.BENCH_AKS_CLUSTERS ?? 50);
const CONCURRENCY = Number(process.env.BENCH_AKS_CONCURRENCY ?? 8);
const LATENCY = [40, 120];

const seed = JSON.parse(
  readFileSync(join(ROOT, "examples", "northwind", "cluster", "aks-northwind-prod.json"), "utf8"),
);
const clusters = Array.from({ length: N }, (_, i) => {
  const name = `aks-fleet-${String(i).padStart(2, "0")}`;
  const rg = `rg-fleet-${i % 5}`;
  // A mix of versions, as a real fleet drifts: a third one minor behind.
  const version = i % 3 === 0 ? "1.29.11" : "1.30.7";
  return {
    ...seed,
    id: `/subscriptions/${seed.subscription}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}`,
    name,
    resourceGroup: rg,
    etag: undefined,
    kubernetesVersion: version,
    pools: seed.pools.map((p) => ({ ...p, etag: undefined, orchestratorVersion: version })),
  };
});

const github = await startGitHubOidcFake();
const entra = await startEntraFake({ trust: github });
const aks = await startAksFake({ clusters, latencyMs: LATENCY });
try {
  const credential = createAzureCredential({
    env: { ...github.env, AZURE_TENANT_ID: "tenant-bench", AZURE_CLIENT_ID: "client-bench" },
    authorityHost: entra.url,
    disableInstanceDiscovery: true,
    clientOptions: { tlsOptions: { ca: entra.ca } },
  });
  const all = createAksClients(credential, seed.subscription, { armEndpoint: aks.url, ca: aks.arm.ca });
  const ids = clusters.map((c) => c.id);
  const opts = { target: "latest-minor", now: new Date("2026-11-25T16:00:00Z") };
  // Warm up: token, TLS session, module JIT.
  await planClusters(() => all, ids.slice(0, 2), { ...opts, concurrency: 2 });

  const measure = async (concurrency) => {
    const before = aks.arm.requests.length;
    const t0 = performance.now();
    const plans = await planClusters(() => all, ids, { ...opts, concurrency });
    const ms = performance.now() - t0;
    return {
      concurrency,
      wallMs: Math.round(ms),
      armCallsPerCluster: (aks.arm.requests.length - before) / N,
      plans,
    };
  };
  const sequential = await measure(1);
  const bounded = await measure(CONCURRENCY);
  const same =
    JSON.stringify(sequential.plans.map((p) => [p.cluster.name, p.target.path, p.steps.map((s) => s.id)])) ===
    JSON.stringify(bounded.plans.map((p) => [p.cluster.name, p.target.path, p.steps.map((s) => s.id)]));
  if (!same) throw new Error("bounded and sequential planning disagree");
  if (aks.arm.mismatches.length) throw new Error(`ARM spec mismatches:\n${aks.arm.mismatches.join("\n")}`);
  const twoHops = bounded.plans.filter((p) => p.target.path.length === 3).length;
  const speedup = sequential.wallMs / bounded.wallMs;
  const rows = [
    ["planner", "clusters", "wall time", "ARM calls/cluster", "per cluster"],
    [
      `bounded (${CONCURRENCY} in flight)`,
      N,
      `${bounded.wallMs} ms`,
      bounded.armCallsPerCluster,
      `${(bounded.wallMs / N).toFixed(0)} ms`,
    ],
    [
      "sequential (1 at a time)",
      N,
      `${sequential.wallMs} ms`,
      sequential.armCallsPerCluster,
      `${(sequential.wallMs / N).toFixed(0)} ms`,
    ],
  ];
  console.log(
    `AKS upgrade plans for a fleet of ${N} clusters, ARM latency ${LATENCY[0]}–${LATENCY[1]} ms per call\n`,
  );
  for (const r of rows) console.log(r.map((c, i) => String(c).padEnd(i === 0 ? 28 : 18)).join(""));
  console.log(
    `\nbounded is ${speedup.toFixed(1)}× faster than sequential; identical plans (${twoHops} clusters need three hops 1.29 → 1.32).`,
  );
  const risk = { ...(await riskReport(credential)), armPlanMs: bounded.wallMs };
  console.log(
    `\nFleet risk report, ${risk.members} members (one kustomize overlay each), one bad member in the last stage:`,
  );
  console.log(
    `  risk report alone ${risk.reportMs} ms (${risk.renders} renders, ${risk.blockers} blocker: ${risk.blocker})`,
  );
  console.log(
    `  fleet plan with the report ${risk.planMs} ms, renders overlapping the member plans; one after the other: ${risk.membersMs} + ${risk.reportMs} = ${risk.membersMs + risk.reportMs} ms`,
  );
  console.log(
    `  kustomize build of the same overlays: ${risk.kustomizeMs} ms one at a time, ${risk.kustomize4Ms} ms 4 at a time — report / kustomize (4) = ${risk.ratio}`,
  );
  mkdirSync(join(ROOT, "bench-results"), { recursive: true });
  writeFileSync(
    join(ROOT, "bench-results", "aks.json"),
    `${JSON.stringify(
      {
        benchmark: "aks-fleet-plan",
        clusters: N,
        latencyMs: LATENCY,
        bounded: {
          concurrency: CONCURRENCY,
          wallMs: bounded.wallMs,
          armCallsPerCluster: bounded.armCallsPerCluster,
        },
        sequential: {
          concurrency: 1,
          wallMs: sequential.wallMs,
          armCallsPerCluster: sequential.armCallsPerCluster,
        },
        speedup: Number(speedup.toFixed(2)),
        identicalPlans: same,
        riskReport: risk,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await Promise.all([aks.close(), github.close(), entra.close()]);
}

/** planFleet over a generated 50-member fleet at the same ARM latency; the risk report's own time and kustomize's floor. */
async function riskReport(credential) {
  const dir = mkdtempSync(join(tmpdir(), "bench-fleet-risk-"));
  const g = await writeFleet(dir, N, { bad: { index: N - 1, kind: "pdb" } });
  const fake = await startAksFake({ clusters: g.clusters, fleets: [g.fleet], latencyMs: LATENCY });
  const kustomize = process.env.PLATFORM_KUSTOMIZE ?? join(ROOT, ".peers", "bin", "kustomize");
  try {
    const c = createAksClients(credential, FLEET_SUB, { armEndpoint: fake.url, ca: fake.arm.ca });
    const config = parseConfig(readFileSync(join(dir, "platform.yaml"), "utf8"), "platform.yaml");
    const fleetPlan = () =>
      planFleet(() => c, {
        fleet: { subscription: FLEET_SUB, resourceGroup: FLEET_RG, name: g.fleet.name },
        targetVersion: "latest-patch",
        upgradeType: "Full",
        stages: parseStages(g.stages),
        fleetConfig: config.fleet,
        configFile: "platform.yaml",
        root: dir,
        tools: { kustomize },
        concurrency: CONCURRENCY,
      });
    // Warm-up (kustomize's and the loader's first runs, TLS sessions): the measured run and the ones it is compared with are all warm.
    await fleetPlan();
    const t0 = performance.now();
    const plan = await fleetPlan();
    const planMs = Math.round(performance.now() - t0);
    const b = plan.risk.blockers;
    if (b.length !== 1 || b[0].member !== g.members.at(-1))
      throw new Error(`expected one blocker in the last member: ${JSON.stringify(b)}`);
    if (fake.arm.mismatches.length)
      throw new Error(`ARM spec mismatches:\n${fake.arm.mismatches.join("\n")}`);
    // The report on its own (the members as the plan read them), not overlapping the ARM reads.
    const alone = await fleetRiskReport({
      members: plan.risk.members.map((m) => ({
        ...g.fleet.members.find((x) => x.name === m.member),
        kubernetesVersion: m.from,
      })),
      version: plan.version,
      upgradeType: "Full",
      stages: plan.stages,
      fleet: config.fleet,
      configFile: "platform.yaml",
      root: dir,
      tools: { kustomize },
    });
    if (JSON.stringify(alone.blockers) !== JSON.stringify(b))
      throw new Error("the report alone disagrees with the plan's");
    // The member plans alone on the same fake: with the report alone, what planFleet would take without the overlap.
    const m0 = performance.now();
    await planClusters(
      () => c,
      g.fleet.members.map((m) => m.clusterId),
      {
        target: "latest-patch",
        now: new Date(),
        concurrency: CONCURRENCY,
      },
    );
    const membersMs = Math.round(performance.now() - m0);
    // The peer's floor in the same run: kustomize build of every overlay, one at a time and 4 at a time (the report's limit).
    const build = (m) => promisify(execFile)(kustomize, ["build", join(dir, "clusters", m)]);
    const k0 = performance.now();
    for (const m of g.members) await build(m);
    const kustomizeMs = Math.round(performance.now() - k0);
    const k1 = performance.now();
    await mapLimit(g.members, 4, build);
    const kustomize4Ms = Math.round(performance.now() - k1);
    return {
      members: plan.risk.members.length,
      renders: plan.risk.renders,
      reportMs: alone.durationMs,
      reportInPlanMs: plan.risk.durationMs,
      planMs,
      membersMs,
      kustomizeMs,
      kustomize4Ms,
      ratio: Number((alone.durationMs / kustomize4Ms).toFixed(2)),
      blockers: b.length,
      blocker: `${b[0].stage}/${b[0].member} ${b[0].check}`,
    };
  } finally {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
