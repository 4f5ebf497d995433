import { defineAction } from "@platform/github";
import { inputs } from "./inputs.ts";
import { clusterUpgrade } from "./run.ts";

await defineAction({ name: "cluster-upgrade", inputs, run: clusterUpgrade });
