import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { inputs } from "./inputs.ts";

const actionYml = parse(readFileSync(join(import.meta.dirname, "..", "action.yml"), "utf8"));

describe("build-scan contract", () => {
  it("validates exactly the inputs action.yml declares", () => {
    expect(Object.keys(inputs.shape).sort()).toEqual(Object.keys(actionYml.inputs).sort());
  });

  it("declares DESIGN.md's outputs (and build-push-action's metadata) and runs on node24 from the bundle", () => {
    expect(Object.keys(actionYml.outputs).sort()).toEqual(
      ["digest", "findings", "image-ref", "metadata", "promoted-ref", "result", "sarif-file"].sort(),
    );
    expect(actionYml.runs).toEqual({ using: "node24", main: "dist/index.js" });
  });

  it("applies action.yml's defaults when inputs are unset", () => {
    const parsed = inputs.parse({ image: "127.0.0.1:5000/q/app", tags: "v1, latest" });
    expect(parsed).toMatchObject({
      builder: actionYml.inputs.builder.default,
      scanner: actionYml.inputs.scanner.default,
      "fail-on": actionYml.inputs["fail-on"].default,
      "only-fixed": false,
      tags: ["v1", "latest"],
    });
  });
});
