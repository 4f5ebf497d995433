// Benchmark of `platform dr drill --apply` (issue 16): the Northwind failover against the DR ARM fake with
// ARM-like latency (40–120 ms per call, uniformly drawn), 3 status polls per long-running operation and Flux
// Kustomizations that turn Ready after 4 reads, through @azure/core-rest-pipeline and @platform/azure's GitHub-OIDC
// credential. There is no peer tool to run the same failover, so the comparison is with the floor that ARM
// itself imposes: every request the step sent, one after another, at the fake's mean latency, plus the waits
// between polls (core-lro's between an operation's status polls, the drill's between Flux reads); the reads
// of one observation go in parallel, so a ratio under 1 is possible. The ratio
// says what the drill adds on top. Prints the measured RTO per step, its requests, the floor and the ratio;
// writes bench-results/dr.json. Knobs: BENCH_DR_POLL_MS=250
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lazyAzureCredential } from "@platform/azure";
import { loadConfig } from "@platform/core";
import { createArmClient, fileStateStore, planDrill, resultTable, runDrill } from "@platform/dr";
import { startDrFake } from "../fakes/arm/dr.ts";
import { startEntraFake, startGitHubOidcFake } from "../fakes/entra.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const LATENCY = [40, 120];
const POLL_MS = Number(process.env.BENCH_DR_POLL_MS ?? 250);

const { config } = await loadConfig(join(ROOT, "examples", "northwind", "platform.yaml"), { explicit: true });
const plan = planDrill(config.dr);
const github = await startGitHubOidcFake();
const entra = await startEntraFake({ trust: github });
const fake = await startDrFake({
  origins: { "aks-eastus2": 1, "aks-centralus": 2 },
  flux: {
    "aks-northwind-standby-centralus/platform": { suspend: true, kustomizations: ["infra", "apps"] },
    "aks-northwind-standby-centralus/teams": { suspend: true, kustomizations: ["teams"] },
  },
  replications: { centralus: { location: "centralus", regionEndpointEnabled: false } },
  polls: 3,
  readyAfter: 4,
  latencyMs: LATENCY,
});
try {
  const credential = lazyAzureCredential({
    env: { ...github.env, AZURE_TENANT_ID: "tenant-bench", AZURE_CLIENT_ID: "client-bench" },
    authorityHost: entra.url,
    disableInstanceDiscovery: true,
    clientOptions: { tlsOptions: { ca: entra.ca } },
  });
  // Requests, operation status polls, writes and drill waits per step, from the client's own counter.
  let step = "sign-in";
  const count = {};
  const bump = (key) => {
    count[step] ??= { requests: 0, polls: 0, writes: 0, waits: 0 };
    count[step][key]++;
  };
  const arm = createArmClient(credential, {
    armEndpoint: fake.arm.url,
    ca: fake.arm.ca,
    onRequest: (method, url) => {
      bump("requests");
      if (url.includes("/_fake/operations/")) bump("polls");
      if (method === "PATCH") bump("writes");
    },
  });
  const sleep = (ms, signal) => {
    bump("waits");
    return new Promise((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      signal.addEventListener("abort", () => {
        clearTimeout(t);
        reject(signal.reason);
      });
    });
  };
  await credential.getToken(`${fake.arm.url}/.default`); // sign in outside the measured steps
  const state = fileStateStore(join(mkdtempSync(join(tmpdir(), "bench-dr-")), "state.json"));
  const result = await runDrill(plan, {
    arm,
    state,
    pollMs: POLL_MS,
    sleep,
    onStep: (id, phase) => {
      if (phase === "started" || phase === "resumed") step = id;
    },
  });
  if (fake.arm.mismatches.length) throw new Error(`spec mismatches: ${fake.arm.mismatches.join("; ")}`);
  if (result.status !== "succeeded") throw new Error(`the drill failed: ${JSON.stringify(result.failed)}`);
  const mean = (LATENCY[0] + LATENCY[1]) / 2 / 1000;
  const rows = result.steps.map((s) => {
    const c = count[s.id] ?? { requests: 0, polls: 0, writes: 0, waits: 0 };
    // One wait between two status polls of an operation; the drill's own waits between Flux reads.
    const waits = Math.max(0, c.polls - c.writes) + c.waits;
    const floor = c.requests * mean + waits * (POLL_MS / 1000);
    return { step: s.id, budgetSeconds: s.budgetSeconds, seconds: s.seconds, ...c, floorSeconds: floor };
  });
  process.stdout.write(resultTable(result));
  process.stdout.write(
    `\nARM latency ${LATENCY[0]}–${LATENCY[1]} ms per call, ${POLL_MS} ms between polls without Retry-After\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${r.step.padEnd(22)} ${String(r.requests).padStart(3)} requests (${r.polls} status polls)  measured ${r.seconds.toFixed(2)}s  floor ${r.floorSeconds.toFixed(2)}s  ratio ${(r.seconds / r.floorSeconds).toFixed(2)}\n`,
    );
  }
  const total = rows.reduce((n, r) => n + r.seconds, 0);
  const floor = rows.reduce((n, r) => n + r.floorSeconds, 0);
  process.stdout.write(
    `${"total".padEnd(22)} measured ${total.toFixed(2)}s  floor ${floor.toFixed(2)}s  ratio ${(total / floor).toFixed(2)}\n`,
  );
  mkdirSync(join(ROOT, "bench-results"), { recursive: true });
  writeFileSync(
    join(ROOT, "bench-results", "dr.json"),
    `${JSON.stringify({ latencyMs: LATENCY, pollMs: POLL_MS, rows, total, floor }, null, 2)}\n`,
  );
} finally {
  await fake.close();
  await github.close();
  await entra.close();
}
