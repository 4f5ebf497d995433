import {
  booleanInput,
  enumInput,
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
  "config-repo": requiredString(required["config-repo"]),
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
