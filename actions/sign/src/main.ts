import { defineAction } from "@platform/github";
import { inputs } from "./inputs.ts";
import { signAction } from "./run.ts";

await defineAction({ name: "sign", inputs, run: signAction });
