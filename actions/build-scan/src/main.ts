import { defineAction } from "@platform/github/action";
import type { inputs } from "./inputs.ts";
import { noImageOrReport } from "./required.ts";

// Only the inputs a run cannot start without are checked at start-up; zod, the input schema and the run's code
// (and the SDKs it imports) load once they are given, so a step missing one fails at once.
await defineAction<typeof inputs>({
  name: "build-scan",
  precheck(given) {
    if (!given("image") && !given("scan-report")) throw noImageOrReport();
  },
  inputs: async () => (await import("./inputs.ts")).inputs,
  run: async (i, ctx) => (await import("./run.ts")).buildScanAction(i, ctx),
});
