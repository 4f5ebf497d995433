import { defineAction } from "@platform/github";
import { inputs } from "./inputs.ts";
import type { policyDryRun } from "./run.ts";

// The run's code (and the SDKs it imports) loads once the inputs are valid: a bad input is reported at once.
const run: typeof policyDryRun = async (i, ctx) => (await import("./run.ts")).policyDryRun(i, ctx);

await defineAction({ name: "policy-dry-run", inputs, secretInputs: ["token"], run });
