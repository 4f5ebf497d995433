import { defineAction } from "@platform/github/action";
import type { inputs } from "./inputs.ts";
import { required } from "./required.ts";

// Only the required inputs are checked at start-up; zod, the input schema and the run's code (and the SDKs it
// imports) load once they are given, so a step missing one fails at once.
await defineAction<typeof inputs>({
  name: "canary-gate",
  required,
  inputs: async () => (await import("./inputs.ts")).inputs,
  run: async (i, ctx) => (await import("./run.ts")).canaryGate(i, ctx),
});
