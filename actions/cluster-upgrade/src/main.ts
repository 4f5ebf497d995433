import { defineAction } from "@platform/github";
import { inputs } from "./inputs.ts";
import type { clusterUpgrade } from "./run.ts";

// The run's code (and the SDKs it imports) loads once the inputs are valid: a bad input is reported at once.
const run: typeof clusterUpgrade = async (inputs, ctx) =>
  (await import("./run.ts")).clusterUpgrade(inputs, ctx);

await defineAction({ name: "cluster-upgrade", inputs, run });
