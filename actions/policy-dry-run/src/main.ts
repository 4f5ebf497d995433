import { defineAction, enumInput, listInput, optionalString } from "@platform/github";
import { z } from "zod";
import { policyDryRun } from "./run.ts";

await defineAction({
  name: "policy-dry-run",
  inputs: z.object({
    manifests: listInput({ comma: true }),
    render: enumInput(["auto", "none", "kustomize", "helm"], "auto"),
    policies: listInput({ comma: true }),
    values: listInput({ comma: true }),
    waivers: optionalString(),
    mode: enumInput(["enforce", "audit", "warn"], "enforce"),
    sarif: optionalString(),
    config: optionalString(),
  }),
  run: policyDryRun,
});
