import { defineAction } from "@platform/github";
import { inputs } from "./inputs.ts";
import { canaryGate } from "./run.ts";

await defineAction({ name: "canary-gate", inputs, run: canaryGate });
