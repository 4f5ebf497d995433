import { defineAction } from "@platform/github";
import { inputs } from "./inputs.ts";
import { digestBump } from "./run.ts";

await defineAction({ name: "digest-bump", inputs, secretInputs: ["token"], run: digestBump });
