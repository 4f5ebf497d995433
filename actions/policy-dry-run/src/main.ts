import { defineAction } from "@platform/github/action";
import type { inputs } from "./inputs.ts";
import { checkManifests } from "./required.ts";

// Only what a run cannot start without is checked at start-up; zod, the input schema and the run's code (and
// the policy engines it imports) load once it is given, so a step without manifests fails at once.
await defineAction<typeof inputs>({
  name: "policy-dry-run",
  secretInputs: ["token"],
  precheck: (given) => checkManifests({ manifests: given("manifests"), merge: given("merge") }),
  inputs: async () => (await import("./inputs.ts")).inputs,
  run: async (i, ctx) => (await import("./run.ts")).policyDryRun(i, ctx),
});
