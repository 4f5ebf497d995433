import { defineAction } from "@platform/github";
import { inputs } from "./inputs.ts";
import { verifyAction } from "./run.ts";

await defineAction({ name: "verify", inputs, run: verifyAction });
