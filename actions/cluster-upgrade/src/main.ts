import { defineAction } from "@platform/github/action";
import type { inputs } from "./inputs.ts";
import { checkTarget } from "./required.ts";

// Only what a run cannot start without is checked at start-up; zod, the input schema and the run's code (and
// the SDKs it imports) load once it is given, so a step missing its cluster fails at once.
await defineAction<typeof inputs>({
  name: "cluster-upgrade",
  precheck(given) {
    // mode as enumInput reads it (trimmed, any case, plan by default); an unknown mode is the schema's to report.
    const mode = given("mode")?.toLowerCase() ?? "plan";
    checkTarget({ cluster: given("cluster"), fleet: given("fleet"), mode });
  },
  inputs: async () => (await import("./inputs.ts")).inputs,
  run: async (i, ctx) => (await import("./run.ts")).clusterUpgrade(i, ctx),
});
