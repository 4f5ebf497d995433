// The Argo Rollouts door (web metric provider): `GET /argo?namespace=…&service=…`, or `POST /argo` with
// the same as a JSON body, always answers 200 with `{decision, rule, reason, promote, rollback, evidence}`
// (a non-2xx would be a measurement error, and enough of those abort the rollout); the
// AnalysisTemplate's conditions turn the answer into a measurement:
//
// ```yaml
// metrics:
//   - name: canary-gate
//     interval: 1m
//     successCondition: "result.decision in ['promote', 'continue', 'hold']"
//     failureCondition: "result.rollback"
//     failureLimit: 0
//     inconclusiveLimit: 3   # `error` is inconclusive: it pauses the rollout, never aborts it
//     provider:
//       web:
//         method: POST
//         url: http://platform-canary-gate.argo-rollouts/argo
//         jsonBody: { namespace: "{{args.namespace}}", service: "{{args.service}}", revision: "{{args.revision}}", interval: 1m, evidence: false }
//         jsonPath: "{$}"
// ```
import type { IncomingMessage, ServerResponse } from "node:http";
import { PlatformError } from "@platform/core";
import { isRecord, parseJson, readBody, send, truthy } from "./http.ts";
import { type DoorContext, readParams, toAnswer } from "./judge.ts";

/** Answers one Argo Rollouts web metric measurement. */
export async function argoDoor(
  ctx: DoorContext,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
) {
  const fromQuery = readParams(Object.fromEntries(query), "query");
  let params = fromQuery;
  if (req.method !== "GET") {
    const body = parseJson(await readBody(req, ctx.maxBody), false) ?? {};
    if (!isRecord(body)) {
      throw new PlatformError("SERVE_BAD_BODY", "The request body must be a JSON object of gate parameters", {
        hint: 'Send e.g. {"namespace": "shop", "service": "orders"} (Argo Rollouts: provider.web.jsonBody).',
      });
    }
    params = { ...fromQuery, ...readParams(body, "body") };
  } else {
    req.resume();
  }
  if (!params.namespace || !params.service) {
    throw new PlatformError(
      "SERVE_MISSING_TARGET",
      `The request needs ${!params.namespace ? "namespace" : "service"}: which canary to judge`,
      {
        input: !params.namespace ? "namespace" : "service",
        hint: "Pass ?namespace=…&service=… (or both in the JSON body); service is the canary's workload, the primary is <service>-primary unless selectors say otherwise.",
      },
    );
  }
  const { verdict, state, remembered, input } = await ctx.judge(
    "argo",
    {
      namespace: params.namespace,
      service: params.service,
      name: params.service,
      revision: params.revision,
    },
    params,
  );
  const answer = toAnswer(verdict, input, state, remembered, truthy(params.evidence, true));
  ctx.log.info(
    `argo ${params.namespace}/${params.service}${params.revision ? `@${params.revision}` : ""}: ${verdict.decision} (${verdict.rule})`,
  );
  // Always 200: Argo reads a non-2xx as a measurement error, and enough of those abort the rollout.
  send(res, 200, answer);
}
