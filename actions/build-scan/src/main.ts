import { defineAction } from "@platform/github";
import { inputs } from "./inputs.ts";
import type { buildScanAction } from "./run.ts";

// The run's code (and the SDKs it imports) loads once the inputs are valid: a bad input is reported at once.
const run: typeof buildScanAction = async (inputs, ctx) =>
  (await import("./run.ts")).buildScanAction(inputs, ctx);

await defineAction({ name: "build-scan", inputs, run });
