import { defineAction } from "@platform/github";
import { inputs } from "./inputs.ts";
import { policyDryRun } from "./run.ts";

await defineAction({ name: "policy-dry-run", inputs, secretInputs: ["token"], run: policyDryRun });
