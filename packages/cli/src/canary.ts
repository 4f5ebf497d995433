import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GateDecision, GateOptions } from "@platform/canary";
import type { Logger } from "@platform/core";
import { type Command, Option } from "commander";
import { type Cli, examples, withAzure, withOutput } from "./cli.ts";
import { type Colour, paint, textTable } from "./table.ts";

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
  io: { out: (s: string) => void; log: Logger; env: NodeJS.ProcessEnv; color?: boolean },
): Promise<number> {
  const { authFor, evaluateGate, gateInput, openBackend, watchGate } = await import("@platform/canary");
  const input = gateInput(o);
  const { lazyAzureCredential } = await import("@platform/azure");
  const backend = await openBackend({
    url: o.prometheusUrl,
    auth: authFor(o.prometheusUrl, () => lazyAzureCredential({ env: io.env, log: io.log })),
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
  else io.out(decisionTable(decision, io.color ?? false));
  return exitCodeOf(decision);
}

const DECISION_COLOUR: Record<GateDecision["decision"], Colour> = {
  promote: "green",
  continue: "yellow",
  hold: "yellow",
  rollback: "red",
  error: "magenta",
};

/** The gate's terminal output: the decision, its reason, and the evidence as two aligned tables. */
export function decisionTable(d: GateDecision, color: boolean): string {
  const e = d.evidence;
  const rate = (v: number | undefined) => (v === undefined ? "n/a" : `${(v * 100).toFixed(3)}%`);
  const num = (v: number | undefined) =>
    v === undefined ? "n/a" : Number.isFinite(v) ? v.toFixed(2) : v > 0 ? "∞" : "−∞";
  const arms = textTable(
    ["", "CANARY", "PRIMARY"],
    [
      ["requests", e.canary.requests.toLocaleString("en-US"), e.primary.requests.toLocaleString("en-US")],
      ["errors", e.canary.errors.toLocaleString("en-US"), e.primary.errors.toLocaleString("en-US")],
      ["error rate", rate(e.canary.errorRate), rate(e.primary.errorRate)],
    ],
    { color },
  );
  const tests = [
    ["errors", e.errors] as const,
    ...(e.latency ? [[`latency > ${e.latency.boundary} ${e.latency.unit}`, e.latency] as const] : []),
  ];
  const stats = textTable(
    ["TEST", "RATIO", "LN M (HARM)", "THRESHOLD", "LN M (NOT WORSE)", "THRESHOLD"],
    tests.map(([name, t]) => [
      name,
      num(t.ratio),
      num(t.harm.logLR),
      num(t.harm.logThreshold),
      num(t.nonInferiority.logLR),
      num(t.nonInferiority.logThreshold),
    ]),
    { color },
  );
  return `decision: ${paint(color, DECISION_COLOUR[d.decision], d.decision)} (${d.rule})\n${d.reason}\n\n${arms}\n\n${stats}\n`;
}

/** The demo's canary: replays a bad and a healthy generated scenario through the same engine. */
export async function demoCanary(io: { out: (s: string) => void }): Promise<void> {
  const { evaluateGate, gateInput, namedScenario, openBackend, scenarioOpenMetrics } = await import(
    "@platform/canary"
  );
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
  const { authFor, gateInput, openBackend, parseDuration, startCanaryServer } = await import(
    "@platform/canary"
  );
  // One backend for every request: the server's credentials never go to a URL a caller names.
  const { lazyAzureCredential } = await import("@platform/azure");
  const backend = await openBackend({
    url: o.prometheusUrl,
    auth: authFor(o.prometheusUrl, () => lazyAzureCredential({ env: io.env, log: io.log })),
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

/** Registers `canary gate` and `canary serve`. */
export function registerCanary(program: Command, cli: Cli): void {
  const canary = program.command("canary").description("promote or roll back a canary from mesh metrics");
  const mesh = () =>
    new Option("--mesh <mesh>", "metric source").choices(["istio", "cilium", "custom"]).default("istio");
  const gate = canary
    .command("gate")
    .description("evaluate a canary against its primary (anytime-valid sequential test; missing data holds)")
    .requiredOption(
      "--prometheus-url <url>",
      "Prometheus or managed Prometheus query endpoint, or file://<openmetrics> to replay",
    )
    .requiredOption("--namespace <ns>", "namespace of the service")
    .requiredOption("--service <name>", "Flagger target: canary <service>, primary <service>-primary")
    .option("--canary-selector <label=value>", "override the canary arm")
    .option("--primary-selector <label=value>", "override the primary arm")
    .addOption(mesh())
    .option("--queries <text>", "custom PromQL: lines of requests: / errors: / latency:")
    .option("--slo <list>", "availability=99.9%, latency=<bound>")
    .option("--interval <duration>", "evaluation interval", "1m")
    .option("--max-duration <duration>", "maximum canary duration", "30m")
    .addOption(
      new Option("--mode <mode>", "one evaluation or watch").choices(["once", "watch"]).default("once"),
    )
    .option("--at <time>", "evaluate as of this time (RFC 3339)");
  withOutput(withAzure(gate), "the decision");
  examples(
    gate,
    "$ platform canary gate --prometheus-url https://prom.example/api/v1 --namespace shop --service web",
    "$ platform canary gate --prometheus-url file://metrics.om --namespace shop --service web --slo availability=99.9% -o json",
    "$ platform canary gate --prometheus-url $PROM --namespace shop --service web --mode watch --max-duration 20m",
  );
  gate.action(async (o) => cli.done(await runCanaryGate(o, cli)));

  const serve = canary
    .command("serve")
    .description(
      "serve the gate as a Flagger webhook (POST /flagger) and an Argo Rollouts web metric (/argo)",
    )
    .requiredOption(
      "--prometheus-url <url>",
      "Prometheus or managed Prometheus query endpoint (or file:// replay)",
    )
    .option("--port <port>", "port to listen on", "8080")
    .option("--host <host>", "address to listen on (0.0.0.0 in a pod)", "127.0.0.1")
    .addOption(mesh())
    .option("--interval <duration>", "evaluation interval", "1m")
    .option("--max-duration <duration>", "maximum canary duration", "30m")
    .option("--slo <list>", "availability=99.9%, latency=<bound>")
    .option("--timeout <duration>", "answer within this time (Flagger and Argo wait 10 s)");
  withAzure(serve);
  examples(
    serve,
    "$ platform canary serve --prometheus-url https://prom.example/api/v1",
    "$ platform canary serve --prometheus-url $PROM --host 0.0.0.0 --port 9090 --timeout 8s",
  );
  serve.action(async (o) => cli.done(await runCanaryServe(o, cli)));
}
