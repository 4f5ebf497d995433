import { booleanInput, enumInput, listInput, optionalString, summaryInput } from "@platform/github";
import { z } from "zod";

/** The action's inputs, keyed exactly as in action.yml (a contract test keeps the two in step). */
export const inputs = z.object({
  "image-ref": z
    .string({ error: "is required: the image with its digest, e.g. the build-scan output" })
    .trim()
    .min(1, "is required"),
  "config-repo": z
    .string({ error: "is required: owner/name or a path to a checkout" })
    .trim()
    .min(1, "is required"),
  token: optionalString(),
  environments: listInput({ comma: true }),
  paths: listInput({ comma: true }),
  "branch-prefix": optionalString(),
  "auto-merge": enumInput(["false", "merge", "squash", "rebase"], "false"),
  labels: listInput({ comma: false }),
  base: optionalString(),
  force: booleanInput(false),
  tag: optionalString(),
  "tag-policy": enumInput(["auto", "update", "keep", "drop"], "auto"),
  "allow-skipped": booleanInput(false),
  "verify-render": booleanInput(true),
  config: optionalString(),
  summary: summaryInput(),
});
