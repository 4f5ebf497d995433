import {
  azureSignInInputs,
  booleanInput,
  enumInput,
  listInput,
  optionalString,
  summaryInput,
} from "@platform/github";
import { z } from "zod";

/** The action's inputs, keyed exactly as in action.yml (a contract test keeps the two in step). */
export const inputs = z.object({
  context: optionalString(),
  file: optionalString(),
  // Without an image the step only gates `scan-report` (a build made elsewhere); run.ts checks one is given.
  image: optionalString(),
  tags: listInput({ comma: true }),
  builder: enumInput(["auto", "buildx", "buildah"], "auto"),
  from: optionalString(),
  // docker/build-push-action's build inputs, same names and list syntax.
  "build-args": listInput({ comma: false }),
  labels: listInput({ comma: false }),
  target: optionalString(),
  platforms: listInput({ comma: true }),
  secrets: listInput({ comma: false }),
  "cache-from": listInput({ comma: false }),
  "cache-to": listInput({ comma: false }),
  push: booleanInput(true),
  scanner: enumInput(["trivy", "defender", "none"], "trivy"),
  "scan-report": optionalString(),
  "allow-unbound-report": booleanInput(false),
  "fail-on": enumInput(["critical", "high", "medium", "low"], "high"),
  "only-fixed": booleanInput(false),
  waivers: optionalString(),
  "promote-to": optionalString(),
  sarif: optionalString(),
  "subscription-id": listInput({ comma: true }),
  // Deprecated: subscription-id (azure/login's name); still read, with a warning.
  subscription: listInput({ comma: true }),
  ...azureSignInInputs(),
  config: optionalString(),
  summary: summaryInput(),
});
