import { booleanInput, enumInput, listInput, optionalString, summaryInput } from "@platform/github";
import { z } from "zod";

/** The action's inputs, keyed exactly as in action.yml (a contract test keeps the two in step). */
export const inputs = z.object({
  manifests: listInput({ comma: true }),
  render: enumInput(["auto", "none", "kustomize", "helm"], "auto"),
  policies: listInput({ comma: true }),
  params: listInput({ comma: true }),
  values: listInput({ comma: true }),
  waivers: optionalString(),
  mode: enumInput(["enforce", "audit", "warn"], "enforce"),
  sarif: optionalString(),
  config: optionalString(),
  "allow-empty": booleanInput(false),
  "allow-remote-bases": booleanInput(false),
  "changed-since": optionalString(),
  shard: optionalString().refine((v) => v === undefined || /^\s*\d+\s*\/\s*\d+\s*$/.test(v), {
    message: "must be index/count, e.g. 2/4",
  }),
  merge: listInput({ comma: true }),
  cache: optionalString(),
  token: optionalString(),
  result: optionalString(),
  "kube-version": optionalString().refine((v) => v === undefined || /^v?\d+\.\d+(\.\d+)?$/.test(v), {
    message: "must be a Kubernetes version such as 1.32 or 1.32.4",
  }),
  summary: summaryInput(),
});
