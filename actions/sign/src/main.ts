import { defineAction } from "@platform/github";
import { inputs } from "./inputs.ts";
import type { signAction } from "./run.ts";

// The run's code (and the SDKs it imports) loads once the inputs are valid: a bad input is reported at once.
const run: typeof signAction = async (i, ctx) => (await import("./run.ts")).signAction(i, ctx);

await defineAction({ name: "sign", inputs, run });
