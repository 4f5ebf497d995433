import { lazyAzureCredential } from "@platform/azure";
import {
  authFor,
  errorRateChart,
  evaluateGate,
  evidenceTable,
  type GateDecision,
  gateInput,
  openBackend,
  watchGate,
} from "@platform/canary";
import { PlatformError } from "@platform/core";
import type { ActionContext, ActionOutcome } from "@platform/github";

export interface Inputs {
  prometheusUrl: string;
  namespace: string;
  service: string;
  canarySelector?: string;
  primarySelector?: string;
  mesh: "istio" | "cilium" | "custom";
  queries?: string;
  slo?: string;
  interval?: string;
  maxDuration?: string;
  mode: "once" | "watch";
  at?: string;
  config?: string;
  tenantId?: string;
  clientId?: string;
}

/** The action's glue: inputs → one evaluation or a watch → decision, evidence, summary; rollback fails the step. */
export async function canaryGate(inputs: Inputs, ctx: ActionContext): Promise<ActionOutcome> {
  const input = gateInput(inputs);
  const backend = await openBackend({
    url: inputs.prometheusUrl,
    auth: authFor(inputs.prometheusUrl, () =>
      lazyAzureCredential({
        env: ctx.env,
        log: ctx.log,
        tenantId: inputs.tenantId,
        clientId: inputs.clientId,
      }),
    ),
    log: ctx.log,
  });
  let decision: GateDecision;
  let history: GateDecision[] = [];
  if (inputs.mode === "watch") {
    const watched = await watchGate(input, {
      backend,
      log: ctx.log,
      onDecision: (d) => ctx.log.info(`${d.decision}: ${d.reason}`),
    });
    decision = watched.final;
    history = watched.decisions;
  } else decision = await evaluateGate(input, { backend, log: ctx.log });
  ctx.log.info(`decision: ${decision.decision} (${decision.rule}) — ${decision.reason}`);
  const s = ctx.summary;
  const verdict =
    decision.decision === "promote"
      ? "pass"
      : decision.decision === "rollback" || decision.decision === "error"
        ? "fail"
        : "pending";
  s.verdict(verdict, `Canary gate: ${decision.decision} — ${inputs.namespace}/${inputs.service}`).paragraph(
    decision.reason,
    0,
  );
  s.raw(evidenceTable(decision), 1);
  const chart = errorRateChart(decision);
  if (chart) s.raw(chart, 2);
  const failure =
    decision.decision === "rollback"
      ? new PlatformError("CANARY_ROLLBACK", `roll back: ${decision.reason}`, {
          category: "verdict",
          hint: "The canary is worse than the primary; see the evidence in the job summary.",
        })
      : decision.decision === "error"
        ? new PlatformError(
            decision.error?.code ?? "CANARY_ERROR",
            decision.error?.message ?? decision.reason,
            { category: "environment", hint: decision.error?.hint },
          )
        : undefined;
  return {
    outputs: { decision: decision.decision, evidence: JSON.stringify(decision.evidence) },
    result: {
      decision,
      history: history.map((d) => ({ decision: d.decision, rule: d.rule, reason: d.reason })),
    },
    failure,
  };
}
