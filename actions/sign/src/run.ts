import type { ActionContext, ActionOutcome, CamelKeys } from "@platform/github";
import { azureRegistryAccess, runSign, signSummary } from "@platform/signing";
import type { z } from "zod";
import type { inputs } from "./inputs.ts";

export type Inputs = CamelKeys<z.output<typeof inputs>>;

/** The action's glue: inputs → runSign → outputs and summary. */
export async function signAction(i: Inputs, ctx: ActionContext): Promise<ActionOutcome> {
  // Azure only when needed (ACR sign-in, Key Vault): the credential is made on first use.
  const { client, credential } = azureRegistryAccess(ctx.env, ctx.log);
  // The inputs carry SignRequest's names (image-ref → imageRef, …).
  const r = await runSign(i, { client, log: ctx.log, env: ctx.env, root: ctx.workspace, credential });
  for (const s of r.signatures) ctx.log.info(`${s.kind}: ${s.digest} (${s.mode})`);
  ctx.summary.raw(signSummary(r), 0);
  return {
    outputs: { signatures: JSON.stringify(r.signatures), referrers: JSON.stringify(r.referrers) },
    result: r,
  };
}
