import { azureSignInInputs, booleanInput, enumInput, optionalString, summaryInput } from "@platform/github";
import { z } from "zod";

/** The action's inputs, keyed exactly as in action.yml (a contract test keeps the two in step). */
export const inputs = z.object({
  "image-ref": z.string({ error: "is required: the image to sign, by digest" }).trim().min(1, "is required"),
  format: enumInput(["notation", "cosign", "both"], "both"),
  key: z
    .string({ error: "is required: azurekv://<vault>/<key> or a PEM key path" })
    .trim()
    .min(1, "is required"),
  "certificate-chain": optionalString(),
  sbom: optionalString(),
  provenance: booleanInput(true),
  "cosign-layout": enumInput(["bundle", "legacy", "both"], "both"),
  "github-attestation": booleanInput(false),
  token: optionalString(),
  ...azureSignInInputs(),
  summary: summaryInput(),
});
