// Benchmark of cluster-upgrade planning for a fleet (issue 9): 50 AKS clusters behind the AKS fake with
// realistic ARM latency (40–120 ms per call, uniformly drawn), planned through the real SDK and core's
// GitHub-OIDC credential — every member with bounded concurrency (planClusters, 8 in flight) against the
// same plans made one cluster after another in the same run. Reports wall time, ARM calls per cluster and
// checks that both produce identical plans. Writes bench-results/aks.json.
// Knobs: BENCH_AKS_CLUSTERS=50  BENCH_AKS_CONCURRENCY=8
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createAksClients, planClusters } from "@platform/aks";
import { createAzureCredential } from "@platform/core/azure";
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
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await Promise.all([aks.close(), github.close(), entra.close()]);
}
