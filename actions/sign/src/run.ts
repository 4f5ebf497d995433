import {
  type ActionContext,
  type ActionOutcome,
  type CamelKeys,
  createOctokit,
  withAzureSignIn,
} from "@platform/github";
import { azureRegistryAccess, runSign, signSummary } from "@platform/signing";
import type { z } from "zod";
import type { inputs } from "./inputs.ts";

export type Inputs = CamelKeys<z.output<typeof inputs>>;

/** The action's glue: inputs → runSign → outputs and summary. */
export async function signAction(i: Inputs, ctx: ActionContext): Promise<ActionOutcome> {
  // Azure only when needed (ACR sign-in, Key Vault): the credential is made on first use.
  const env = withAzureSignIn(ctx.env, i);
  const { client, credential } = azureRegistryAccess(env, ctx.log);
  const { token, tenantId: _tenant, clientId: _client, ...request } = i;
  // The inputs carry SignRequest's names (image-ref → imageRef, …).
  const r = await runSign(request, {
    client,
    log: ctx.log,
    env,
    root: ctx.workspace,
    credential,
    attestationUpload: i.githubAttestation ? attestationUpload(token, ctx) : undefined,
  });
  for (const s of r.signatures) ctx.log.info(`${s.kind}: ${s.digest} (${s.mode})`);
  ctx.summary.raw(signSummary(r), 0);
  return {
    outputs: {
      signatures: JSON.stringify(r.signatures),
      referrers: JSON.stringify(r.referrers),
      ...(r.githubAttestation
        ? { "attestation-id": String(r.githubAttestation.id), "attestation-url": r.githubAttestation.url }
        : {}),
    },
    result: r,
  };
}

/** The repository's attestations API (POST /repos/{owner}/{repo}/attestations) with the job's token. */
function attestationUpload(token: string | undefined, ctx: ActionContext) {
  const [owner, repo] = (ctx.env.GITHUB_REPOSITORY ?? "").split("/");
  return async (bundle: Record<string, unknown>): Promise<number> => {
    const octokit = createOctokit({ token: token ?? "", log: ctx.log, baseUrl: ctx.env.GITHUB_API_URL });
    const res = await octokit.request("POST /repos/{owner}/{repo}/attestations", {
      owner: owner ?? "",
      repo: repo ?? "",
      bundle,
    });
    return (res.data as { id: number }).id;
  };
}
