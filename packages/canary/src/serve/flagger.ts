// The Flagger door: webhook paths → hooks, the payload, and the HTTP status each decision gets per hook.
//
// Flagger POSTs `{name, namespace, phase, checksum, metadata}` and proceeds on 200–202. It does not
// say which hook is calling, so the path does:
//
// | path                                | hook type                  | 2xx when                        |
// |-------------------------------------|----------------------------|---------------------------------|
// | `/flagger`, `/flagger/rollout`      | `rollout`, `pre-rollout`   | anything but rollback (409)     |
// | `/flagger/confirm-traffic-increase` | `confirm-traffic-increase` | promote, continue               |
// | `/flagger/confirm-promotion`        | `confirm-promotion`        | promote                         |
// | `/flagger/rollback`                 | `rollback`                 | rollback                        |
import type { IncomingMessage, ServerResponse } from "node:http";
import { PlatformError } from "@platform/core";
import type { DecisionKind } from "../decide.ts";
import { isRecord, parseJson, readBody, send, truthy } from "./http.ts";
import { type DoorContext, readParams, toAnswer } from "./judge.ts";

/** The Flagger hook a path serves; Flagger does not say which hook is calling, so the path does. */
export type FlaggerHook = "rollout" | "confirm-traffic-increase" | "confirm-promotion" | "rollback";

/** The webhook paths Flagger is pointed at, and the hook each serves. */
export const FLAGGER_PATHS: Record<string, FlaggerHook> = {
  "/flagger": "rollout",
  "/flagger/rollout": "rollout",
  "/flagger/pre-rollout": "rollout",
  "/flagger/confirm-traffic-increase": "confirm-traffic-increase",
  "/flagger/confirm-promotion": "confirm-promotion",
  "/flagger/rollback": "rollback",
};

/** Answers one Flagger webhook call on `hook`. */
export async function flaggerDoor(
  ctx: DoorContext,
  req: IncomingMessage,
  res: ServerResponse,
  hook: FlaggerHook,
  query: URLSearchParams,
) {
  const body = parseJson(await readBody(req, ctx.maxBody), true);
  const payload = flaggerPayload(body);
  const params = readParams(payload.metadata ?? {}, "metadata");
  // The canary's namespace is Flagger's to say; metadata may only rename the target.
  delete params.namespace;
  const service = params.service ?? payload.name;
  const { verdict, state, remembered, input } = await ctx.judge(
    "flagger",
    { namespace: payload.namespace, service, name: payload.name, revision: payload.checksum },
    params,
  );
  let status = flaggerStatus(hook, verdict.decision);
  if (
    hook === "confirm-traffic-increase" &&
    verdict.rule === "hold.no-canary-data" &&
    (!state || state.blindIncreases === 0)
  ) {
    // At weight 0 the canary cannot have data; refusing the first step would wait forever.
    status = 200;
    if (state) state.blindIncreases++;
  }
  const evidence = truthy(params.evidence ?? query.get("evidence") ?? undefined, false);
  const answer = toAnswer(verdict, input, state, remembered, evidence);
  answer.hook = hook;
  answer.proceed = status >= 200 && status <= 202;
  ctx.log.info(
    `flagger ${hook} ${payload.namespace}/${payload.name}${payload.checksum ? `@${payload.checksum}` : ""}: ${verdict.decision} (${verdict.rule}) → ${status}`,
  );
  send(res, status, answer);
}

/** The HTTP status Flagger gets for a decision on each hook (see CANARY_SERVE_MARKDOWN for why). */
export function flaggerStatus(hook: FlaggerHook, decision: DecisionKind): number {
  switch (hook) {
    case "rollout":
      // Non-2xx here is a failed check and `threshold` of them roll back: only evidence of harm may do that.
      return decision === "rollback" ? 409 : 200;
    case "confirm-traffic-increase":
      return decision === "promote" || decision === "continue"
        ? 200
        : decision === "rollback"
          ? 409
          : decision === "error"
            ? 503
            : 403;
    case "confirm-promotion":
      return decision === "promote" ? 200 : decision === "rollback" ? 409 : decision === "error" ? 503 : 403;
    case "rollback":
      // 2xx tells Flagger to roll back now; anything else means "not signalling a rollback".
      return decision === "rollback" ? 200 : decision === "error" ? 503 : 403;
  }
}

/** The webhook payload Flagger POSTs, checked. */
function flaggerPayload(body: unknown): {
  name: string;
  namespace: string;
  checksum?: string;
  metadata?: Record<string, unknown>;
} {
  const hint =
    'Flagger sends {"name", "namespace", "phase", "checksum", "metadata"}; point a Canary\'s analysis.webhooks[].url here.';
  if (!isRecord(body))
    throw new PlatformError("SERVE_BAD_PAYLOAD", "The Flagger webhook payload must be a JSON object", {
      hint,
    });
  for (const field of ["name", "namespace"] as const) {
    const v = body[field];
    if (typeof v !== "string" || v.trim() === "")
      throw new PlatformError("SERVE_BAD_PAYLOAD", `The Flagger webhook payload has no ${field}`, {
        input: field,
        hint,
      });
  }
  const metadata = body.metadata;
  if (metadata !== undefined && metadata !== null && !isRecord(metadata))
    throw new PlatformError("SERVE_BAD_PAYLOAD", "The Flagger webhook payload's metadata must be an object", {
      input: "metadata",
      hint: "Webhook metadata is a map of strings, e.g. mesh: istio, interval: 1m.",
    });
  const checksum = typeof body.checksum === "string" && body.checksum !== "" ? body.checksum : undefined;
  return {
    name: (body.name as string).trim(),
    namespace: (body.namespace as string).trim(),
    ...(checksum ? { checksum } : {}),
    ...(isRecord(metadata) ? { metadata } : {}),
  };
}
