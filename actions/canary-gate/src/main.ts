import { defineAction } from "@platform/github";
import { inputs } from "./inputs.ts";
import type { canaryGate } from "./run.ts";

// The run's code (and the SDKs it imports) loads once the inputs are valid: a bad input is reported at once.
const run: typeof canaryGate = async (i, ctx) => (await import("./run.ts")).canaryGate(i, ctx);

await defineAction({ name: "canary-gate", inputs, run });
