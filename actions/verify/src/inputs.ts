import { azureSignInInputs, booleanInput, listInput, optionalString, summaryInput } from "@platform/github";
import { z } from "zod";

/** The action's inputs, keyed exactly as in action.yml (a contract test keeps the two in step). */
export const inputs = z.object({
  "image-ref": z.string({ error: "is required: the image to verify" }).trim().min(1, "is required"),
  "trust-policy": optionalString(),
  "trust-store": optionalString(),
  "cosign-key": listInput({ comma: true }),
  "certificate-identity": optionalString(),
  "certificate-identity-regexp": optionalString(),
  "certificate-oidc-issuer": optionalString(),
  "trusted-root": optionalString(),
  "require-tlog": booleanInput(true),
  config: optionalString(),
  ...azureSignInInputs(),
  summary: summaryInput(),
});
