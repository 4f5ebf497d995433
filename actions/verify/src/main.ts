import { defineAction } from "@platform/github";
import { inputs } from "./inputs.ts";
import type { verifyAction } from "./run.ts";

// The run's code (and the SDKs it imports) loads once the inputs are valid: a bad input is reported at once.
const run: typeof verifyAction = async (i, ctx) => (await import("./run.ts")).verifyAction(i, ctx);

await defineAction({ name: "verify", inputs, run });
