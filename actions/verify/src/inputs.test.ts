import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { inputs } from "./inputs.ts";

const actionYml = parse(readFileSync(join(import.meta.dirname, "..", "action.yml"), "utf8"));

describe("verify contract", () => {
  it("validates exactly the inputs action.yml declares", () => {
    expect(Object.keys(inputs.shape).sort()).toEqual(Object.keys(actionYml.inputs).sort());
  });
  it("runs on node24 from the bundle", () => {
    expect(actionYml.runs).toEqual({ using: "node24", main: "dist/index.js" });
  });
});
