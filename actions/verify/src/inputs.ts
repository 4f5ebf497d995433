import {
  azureSignInInputs,
  booleanInput,
  listInput,
  optionalString,
  requiredString,
  summaryInput,
} from "@platform/github";
import { z } from "zod";
import { required } from "./required.ts";

/** The action's inputs, keyed exactly as in action.yml (a contract test keeps the two in step). */
export const inputs = z.object({
  "image-ref": requiredString(required["image-ref"]),
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
