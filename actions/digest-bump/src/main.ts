import { defineAction } from "@platform/github";
import { inputs } from "./inputs.ts";
import type { digestBump } from "./run.ts";

// The run's code (and the SDKs it imports) loads once the inputs are valid: a bad input is reported at once.
const run: typeof digestBump = async (i, ctx) => (await import("./run.ts")).digestBump(i, ctx);

await defineAction({ name: "digest-bump", inputs, secretInputs: ["token"], run });
