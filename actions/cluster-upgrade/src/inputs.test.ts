import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { inputs } from "./inputs.ts";

const actionYml = parse(readFileSync(join(import.meta.dirname, "..", "action.yml"), "utf8"));

describe("cluster-upgrade contract", () => {
  it("validates exactly the inputs action.yml declares", () => {
    expect(Object.keys(inputs.shape).sort()).toEqual(Object.keys(actionYml.inputs).sort());
  });

  it("runs on node24 from the bundle", () => {
    expect(actionYml.runs).toEqual({ using: "node24", main: "dist/index.js" });
  });

  it("applies action.yml's defaults when inputs are unset", () => {
    const parsed = inputs.parse({});
    expect(parsed).toMatchObject({
      "target-version": actionYml.inputs["target-version"].default,
      mode: actionYml.inputs.mode.default,
      "plan-file": actionYml.inputs["plan-file"].default,
      state: actionYml.inputs.state.default,
      force: false,
      "fleet-upgrade-type": actionYml.inputs["fleet-upgrade-type"].default,
      concurrency: Number(actionYml.inputs.concurrency.default),
      "poll-interval": Number(actionYml.inputs["poll-interval"].default),
    });
  });

  it("splits node-pools on commas and newlines, and takes the fleet upgrade type in any case", () => {
    expect(
      inputs.parse({ "node-pools": "system, apps\nbatch", "fleet-upgrade-type": "nodeimageonly" }),
    ).toMatchObject({
      "node-pools": ["system", "apps", "batch"],
      "fleet-upgrade-type": "NodeImageOnly",
    });
    expect(() => inputs.parse({ "fleet-upgrade-type": "Everything" })).toThrow(
      /Full, NodeImageOnly, ControlPlaneOnly/,
    );
    expect(() => inputs.parse({ "poll-interval": "soon" })).toThrow(/must be a number of seconds above 0/);
    expect(() => inputs.parse({ concurrency: "0" })).toThrow(/must be a number above 0/);
    expect(() => inputs.parse({ "target-version": "banana" })).toThrow(
      /latest-patch, latest-minor or an exact/,
    );
    expect(inputs.parse({ "target-version": " 1.31.2 " })["target-version"]).toBe("1.31.2");
    expect(() => inputs.parse({ "arm-endpoint": "management.azure.com" })).toThrow(/https:\/\/ URL/);
    expect(inputs.parse({ "arm-endpoint": "https://127.0.0.1:8443" })["arm-endpoint"]).toBe(
      "https://127.0.0.1:8443",
    );
  });
});
