import { defineAction } from "@platform/github";
import { inputs } from "./inputs.ts";
import { buildScanAction } from "./run.ts";

await defineAction({ name: "build-scan", inputs, run: buildScanAction });
