import { azureSignInInputs, enumInput, optionalString, summaryInput } from "@platform/github";
import { z } from "zod";

const required = (what: string) =>
  z
    .string({ error: `is required: ${what}` })
    .trim()
    .min(1, "is required");

/** The action's inputs, keyed exactly as in action.yml (a contract test keeps the two in step). */
export const inputs = z.object({
  "prometheus-url": required("the Prometheus query endpoint or file:// replay"),
  namespace: required("the service's namespace"),
  service: required("the Flagger target name"),
  "canary-selector": optionalString(),
  "primary-selector": optionalString(),
  mesh: enumInput(["istio", "cilium", "custom"], "istio"),
  // Query templates are PromQL: keep them verbatim (no trimming of inner lines).
  queries: z.preprocess((v) => (v === "" ? undefined : v), z.string().optional()),
  slo: optionalString(),
  interval: optionalString(),
  "max-duration": optionalString(),
  mode: enumInput(["once", "watch"], "once"),
  at: optionalString(),
  config: optionalString(),
  ...azureSignInInputs(),
  summary: summaryInput(),
});
