import {
  azureSignInInputs,
  booleanInput,
  enumInput,
  optionalString,
  requiredString,
  summaryInput,
} from "@platform/github";
import { z } from "zod";
import { required } from "./required.ts";

/** The action's inputs, keyed exactly as in action.yml (a contract test keeps the two in step). */
export const inputs = z.object({
  "image-ref": requiredString(required["image-ref"]),
  format: enumInput(["notation", "cosign", "both"], "both"),
  key: requiredString(required.key),
  "certificate-chain": optionalString(),
  sbom: optionalString(),
  provenance: booleanInput(true),
  "cosign-layout": enumInput(["bundle", "legacy", "both"], "both"),
  "github-attestation": booleanInput(false),
  token: optionalString(),
  ...azureSignInInputs(),
  summary: summaryInput(),
});
