import { azureSignInInputs, enumInput, optionalString, requiredString, summaryInput } from "@platform/github";
import { z } from "zod";
import { required } from "./required.ts";

/** The action's inputs, keyed exactly as in action.yml (a contract test keeps the two in step). */
export const inputs = z.object({
  "prometheus-url": requiredString(required["prometheus-url"]),
  namespace: requiredString(required.namespace),
  service: requiredString(required.service),
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
