import { PlatformError } from "@platform/core";
import type { ActionContext, ActionOutcome, CamelKeys } from "@platform/github";
import { loadWorkspaceConfig, withAzureSignIn } from "@platform/github";
import { azureRegistryAccess, runVerify, verifySummary } from "@platform/signing";
import type { z } from "zod";
import type { inputs } from "./inputs.ts";

export type Inputs = CamelKeys<z.output<typeof inputs>>;

/** The action's glue: inputs → runVerify → outputs and summary; an unverified image fails the step with the reason. */
export async function verifyAction(i: Inputs, ctx: ActionContext): Promise<ActionOutcome> {
  const { config } = await loadWorkspaceConfig(ctx.workspace, i.config);
  const env = withAzureSignIn(ctx.env, i);
  const { client } = azureRegistryAccess(env, ctx.log);
  // The inputs carry VerifyRequest's and KeylessRequest's names (certificate-identity → certificateIdentity, …).
  const r = await runVerify(
    { ...i, signing: config.signing, keyless: i },
    { client, log: ctx.log, env, root: ctx.workspace },
  );
  for (const c of r.checks)
    ctx.log.info(
      `${c.format} ${c.source}: ${c.ok ? "valid" : "invalid"} ${c.signer ?? ""} ${c.reason ?? ""}`,
    );
  ctx.summary.raw(verifySummary(r), 0);
  return {
    outputs: { verified: r.verified, signers: JSON.stringify(r.signers) },
    result: r,
    failure: r.verified
      ? undefined
      : new PlatformError("VERIFY_FAILED", `${r.image} is not verified: ${r.reasons.join("; ")}`, {
          category: "verdict",
          hint: "Sign the image with a trusted key (actions/sign), or fix the trust policy / cosign key; the job summary lists every signature found and why it was rejected.",
        }),
  };
}
