import { describe, expect, it } from "vitest";
import { createCelEngine } from "./engine.ts";

const engine = createCelEngine();
const run = (expr: string, vars: Record<string, unknown> = {}) => engine.compile(expr).eval(vars);

describe("Kubernetes semver library", () => {
  it("runs the apiserver's semver_test.go cases and doc-comment examples", () => {
    const cases: Array<[string, unknown]> = [
      [`semver("1.2.3") == semver("1.2.3")`, true],
      [`isSemver("1.2.3-beta.1+build.1")`, true],
      [`isSemver("")`, false],
      [`isSemver("v1.0.0")`, false],
      [`isSemver(" 1.0.0")`, false],
      [`isSemver("1. 0.0")`, false],
      [`isSemver("1.0.0 ")`, false],
      [`isSemver("01.01.01")`, false],
      [`isSemver("1")`, false],
      [`isSemver("1.1")`, false],
      [`isSemver("", true)`, false],
      [`isSemver(" 1.0.0", true)`, false],
      [`isSemver("1. 0.0", true)`, false],
      [`isSemver("1.0.0 ", true)`, false],
      [`isSemver("v1.0.0", true)`, true],
      [`isSemver("01.01.01", true)`, true],
      [`isSemver("1", true)`, true],
      [`isSemver("1.1", true)`, true],
      [`semver("v01.01", true) == semver("1.1.0")`, true],
      [`semver("1.2.3") == semver("1.0.0")`, false],
      [`semver("1.0.0").isLessThan(semver("1.2.3"))`, true],
      [`semver("1.0.0").isLessThan(semver("1.0.0"))`, false],
      [`semver("1.2.3").isGreaterThan(semver("1.0.0"))`, true],
      [`semver("1.0.0").isGreaterThan(semver("1.0.0"))`, false],
      [`semver("1.2.3").compareTo(semver("1.2.3"))`, 0n],
      [`semver("1.0.0").compareTo(semver("1.2.3"))`, -1n],
      [`semver("1.2.3").compareTo(semver("1.0.0"))`, 1n],
      [`semver("1.2.3").compareTo(semver("2.0.0"))`, -1n],
      [`semver("1.2.3").compareTo(semver("0.1.2"))`, 1n],
      [`semver("1.2.3").major()`, 1n],
      [`semver("1.2.3").minor()`, 2n],
      [`semver("1.2.3").patch()`, 3n],
      [`semver("v1.0.0", true) == semver("1.0.0")`, true],
      [`semver("1.0", true) == semver("1.0.0")`, true],
      [`semver("01.01.01", true) == semver("1.1.1")`, true],
      [`type(semver("1.0.0")) == kubernetes.Semver`, true],
    ];
    for (const [expr, want] of cases) expect(run(expr), expr).toEqual(want);
    expect(() => run(`semver("v1.0")`)).toThrow("No Major.Minor.Patch elements found");
    expect(() => run(`semver("200K")`)).toThrow();
    expect(() => run(`semver("1.0", true)`)).not.toThrow();
    expect(() => run(`semver("1-rc", true)`)).toThrow(
      "short version cannot contain PreRelease/Build meta data",
    );
    expect(() => run(`isSemver([1, 2, 3])`)).toThrow(/no matching overload/);
  });

  it("orders pre-releases as semver 2.0.0 and ignores build metadata", () => {
    const order = [
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
    ];
    for (let i = 1; i < order.length; i++) {
      expect(run(`semver("${order[i - 1]}").isLessThan(semver("${order[i]}"))`), order[i]).toBe(true);
    }
    expect(run(`semver("1.0.0+build.1") == semver("1.0.0+build.2")`)).toBe(true);
    expect(run(`isSemver("1.0.0-01")`)).toBe(false);
    expect(run(`isSemver("1.0.0-a_b")`)).toBe(false);
    expect(run(`isSemver("1.0.0+")`)).toBe(false);
  });
});
