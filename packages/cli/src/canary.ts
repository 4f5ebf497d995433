import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  authFor,
  evaluateGate,
  evidenceTable,
  type GateDecision,
  type GateOptions,
  gateInput,
  namedScenario,
  openBackend,
  parseDuration,
  scenarioOpenMetrics,
  startCanaryServer,
  watchGate,
} from "@platform/canary";
import { createAzureCredential, type Logger } from "@platform/core";

export interface CanaryGateOptions extends GateOptions {
  prometheusUrl: string;
  mode: "once" | "watch";
  json: boolean;
}

/** Exit code of a decision: rollback is a failed gate (1), error an environment failure (3). */
export function exitCodeOf(d: GateDecision): number {
  return d.decision === "rollback" ? 1 : d.decision === "error" ? 3 : 0;
}

/** `platform canary gate`: one evaluation or a watch, printed as a table (or JSON). */
export async function runCanaryGate(
  o: CanaryGateOptions,
  io: { out: (s: string) => void; log: Logger; env: NodeJS.ProcessEnv },
): Promise<number> {
  const input = gateInput(o);
  const backend = await openBackend({
    url: o.prometheusUrl,
    auth: authFor(o.prometheusUrl, () => createAzureCredential({ env: io.env, log: io.log })),
    log: io.log,
  });
  const decision =
    o.mode === "watch"
      ? (
          await watchGate(input, {
            backend,
            log: io.log,
            onDecision: (d) => io.log.info(`${d.decision}: ${d.reason}`),
          })
        ).final
      : await evaluateGate(input, { backend, log: io.log });
  if (o.json) io.out(`${JSON.stringify(decision, null, 2)}\n`);
  else
    io.out(
      `decision: ${decision.decision} (${decision.rule})\n${decision.reason}\n\n${evidenceTable(decision)}\n`,
    );
  return exitCodeOf(decision);
}

/** The demo's canary: replays a bad and a healthy generated scenario through the same engine. */
export async function demoCanary(io: { out: (s: string) => void }): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "platform-canary-demo-"));
  try {
    const start = Date.parse("2026-11-25T10:00:00Z");
    for (const [name, title] of [
      ["error-spike", "a canary whose 5xx rate rises after 8 minutes"],
      ["healthy", "a healthy canary"],
    ] as const) {
      const file = join(dir, `${name}.om`);
      await writeFile(file, scenarioOpenMetrics(namedScenario(name, start, 30)));
      const d = await evaluateGate(gateInput({ namespace: "demo", service: "podinfo", mesh: "istio" }), {
        backend: await openBackend({ url: `file://${file}` }),
      });
      io.out(
        `\nCanary gate on ${title} (Istio metrics replayed from OpenMetrics):\n  decision: ${d.decision} (${d.rule})\n  ${d.reason}\n`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface CanaryServeOptions extends Partial<GateOptions> {
  prometheusUrl: string;
  port: string;
  host: string;
  timeout?: string;
}

/** `platform canary serve`: the gate as a Flagger webhook and an Argo Rollouts web metric, until SIGINT/SIGTERM. */
export async function runCanaryServe(
  o: CanaryServeOptions,
  io: { out: (s: string) => void; log: Logger; env: NodeJS.ProcessEnv },
): Promise<number> {
  // One backend for every request: the server's credentials never go to a URL a caller names.
  const backend = await openBackend({
    url: o.prometheusUrl,
    auth: authFor(o.prometheusUrl, () => createAzureCredential({ env: io.env, log: io.log })),
    log: io.log,
  });
  // Server-wide options (mesh, interval, SLO…); namespace and service come with each request.
  const {
    namespace: _namespace,
    service: _service,
    ...defaults
  } = gateInput({ mesh: "istio", ...o, namespace: "", service: "" });
  const server = await startCanaryServer({
    port: Number(o.port),
    host: o.host,
    backend,
    defaults,
    log: io.log,
    ...(o.timeout ? { timeoutSeconds: parseDuration(o.timeout) } : {}),
  });
  io.out(`canary gate serving on ${server.url}: POST /flagger[/<hook>], GET|POST /argo, GET /healthz\n`);
  await new Promise<void>((done) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => done());
  });
  await server.close();
  return 0;
}
