import { describe, expect, it } from "vitest";
import { createCelEngine } from "./engine.ts";
import { parseQuantity, quantityString } from "./quantity.ts";

const engine = createCelEngine();
const run = (expr: string, vars: Record<string, unknown> = {}) => engine.compile(expr).eval(vars);

describe("Kubernetes quantity library", () => {
  it("runs the examples of the kubernetes.io CEL reference and the library's doc comment", () => {
    expect(run(`quantity("500000G").isInteger()`)).toBe(true);
    expect(run(`quantity("50000000G").isInteger()`)).toBe(true);
    expect(run(`quantity("50k").asInteger()`)).toBe(50000n);
    expect(run(`quantity("50k").asInteger() == 50000`)).toBe(true);
    expect(run(`quantity("50k").sub(20000).asApproximateFloat() == 30000.0`)).toBe(true);
    expect(run(`quantity("9999999999999999999999999999999999999G").asApproximateFloat()`)).toBeCloseTo(
      1e46,
      -32,
    );
    expect(run(`quantity("9999999999999999999999999999999999999G").isInteger()`)).toBe(false);
    expect(run(`quantity("50k").add(20) == quantity("50020")`)).toBe(true);
    expect(run(`quantity("50k").sub(20000) == quantity("30k")`)).toBe(true);
    expect(run(`quantity("50k").add(20).sub(quantity("100k")).sub(-50000) == quantity("20")`)).toBe(true);
    expect(run(`quantity("200M").compareTo(quantity("0.2G"))`)).toBe(0n);
    expect(run(`quantity("50M").compareTo(quantity("50Mi"))`)).toBe(-1n);
    expect(run(`quantity("50Mi").compareTo(quantity("50M"))`)).toBe(1n);
    expect(run(`quantity("150Mi").isGreaterThan(quantity("100Mi"))`)).toBe(true);
    expect(run(`quantity("50Mi").isGreaterThan(quantity("100Mi"))`)).toBe(false);
    expect(run(`quantity("50M").isLessThan(quantity("100M"))`)).toBe(true);
    expect(run(`quantity("100M").isLessThan(quantity("50M"))`)).toBe(false);
    for (const s of ["1.3G", "1.3Gi", "10000k", "20", "20M", "20Mi"])
      expect(run(`isQuantity("${s}")`)).toBe(true);
    for (const s of ["1,3G", "200K", "Three", "20Mo", "10Mm"]) expect(run(`isQuantity("${s}")`)).toBe(false);
  });

  it("runs the apiserver's quantity_test.go cases", () => {
    expect(() => run(`quantity("10Mo")`)).toThrow(/quantities must match the regular expression/);
    expect(() => run(`quantity("10Mm")`)).toThrow(/unable to parse quantity's suffix/);
    expect(() => run(`isQuantity([1, 2, 3])`)).toThrow(/no matching overload/);
    expect(run(`quantity("200M") == quantity("200M")`)).toBe(true);
    expect(run(`quantity("200M") == quantity("0.2G") && quantity("0.2G") == quantity("200M")`)).toBe(true);
    expect(
      run(
        `quantity("2M") == quantity("0.002G") && quantity("2000k") == quantity("2M") && quantity("0.002G") == quantity("2000k")`,
      ),
    ).toBe(true);
    expect(run(`quantity("200M") == quantity("0.3G")`)).toBe(false);
    expect(run(`quantity("50M").isLessThan(quantity("50Mi"))`)).toBe(true);
    expect(run(`quantity("50k").add(quantity("20")) == quantity("50.02k")`)).toBe(true);
    expect(run(`quantity("50k").add(20).isLessThan(quantity("50020"))`)).toBe(false);
    expect(run(`quantity("50k").sub(quantity("20")) == quantity("49.98k")`)).toBe(true);
    expect(run(`quantity("50k").sub(20) == quantity("49980")`)).toBe(true);
    expect(run(`quantity("50k").add(20).sub(quantity("100k")).asInteger()`)).toBe(-49980n);
    expect(run(`quantity("50k").add(20).sub(quantity("100k")).sub(-50000).asInteger()`)).toBe(20n);
    expect(() => run(`quantity("9999999999999999999999999999999999999G").asInteger()`)).toThrow(
      /cannot convert value to integer/,
    );
    expect(run(`quantity("50").isInteger()`)).toBe(true);
    expect(run(`quantity("50.703k").asApproximateFloat()`)).toBe(50703);
  });

  it("compares exactly across suffixes, forms and signs (no floats)", () => {
    expect(run(`quantity("1Gi") == quantity("1024Mi")`)).toBe(true);
    expect(run(`quantity("1Gi") != quantity("1G")`)).toBe(true);
    expect(run(`quantity("1.5Gi") == quantity("1536Mi")`)).toBe(true);
    expect(run(`quantity("0.5") == quantity("500m")`)).toBe(true);
    expect(run(`quantity("1e3") == quantity("1k")`)).toBe(true);
    expect(run(`quantity("1E3") == quantity("1000")`)).toBe(true);
    expect(run(`quantity("1E") == quantity("1000P")`)).toBe(true);
    expect(run(`quantity("1Ei") == quantity("1024Pi")`)).toBe(true);
    expect(run(`quantity("100n") == quantity("0.1u")`)).toBe(true);
    expect(run(`quantity("-1.5Gi").sign()`)).toBe(-1n);
    expect(run(`quantity("0").sign()`)).toBe(0n);
    expect(run(`quantity("-1").isLessThan(quantity("1m"))`)).toBe(true);
    // 9007199254740993 is not representable as a double; an exact comparison still tells it apart.
    expect(run(`quantity("9007199254740993").isGreaterThan(quantity("9007199254740992"))`)).toBe(true);
    expect(run(`quantity("1e400").isGreaterThan(quantity("9999999999999999999999Ei"))`)).toBe(true);
    expect(
      run(`[quantity("1Gi")] == [quantity("1024Mi")] && quantity("1Gi") in [quantity("1073741824")]`),
    ).toBe(true);
    expect(run(`x == quantity("1Ki")`, { x: parseQuantity("1024") })).toBe(true);
  });

  it("follows apimachinery's int64/decimal forms for isInteger() and asInteger()", () => {
    expect(run(`quantity("1.5").isInteger()`)).toBe(false);
    expect(run(`quantity("200M").asInteger()`)).toBe(200000000n);
    expect(run(`quantity("1Gi").asInteger()`)).toBe(1073741824n);
    expect(run(`quantity("1e3").asInteger()`)).toBe(1000n);
    // A fraction written with digits stays fractional in apimachinery's int64 form, even when it is whole.
    expect(run(`quantity("1.0").isInteger()`)).toBe(false);
    expect(run(`quantity("1000m").isInteger()`)).toBe(false);
    // More than 18 digits take apimachinery's decimal path, which never converts, even below 2^63.
    expect(run(`quantity("999999999999999999").asInteger()`)).toBe(999999999999999999n);
    expect(run(`quantity("9223372036854775807").isInteger()`)).toBe(false);
    expect(run(`quantity("10E").isInteger()`)).toBe(false);
    expect(run(`quantity("8Ei").isInteger()`)).toBe(false);
    // Values below a nano are rounded away from zero; BinarySI is capped at 2^63-1.
    expect(run(`quantity("0.1n") == quantity("1n")`)).toBe(true);
    expect(run(`quantity("-0.1n") == quantity("-1n")`)).toBe(true);
    expect(run(`quantity("100Ei") == quantity("9223372036854775807")`)).toBe(true);
  });

  it("reproduces the apiserver's equality of add()/sub() results: only on the left of ==", () => {
    expect(run(`quantity("50k").add(quantity("20k")) == quantity("70k")`)).toBe(true);
    expect(run(`quantity("70k") == quantity("50k").add(quantity("20k"))`)).toBe(false);
    expect(run(`quantity("70k") != quantity("50k").add(20000)`)).toBe(true);
    expect(run(`quantity("1").add(1) == quantity("1").add(1)`)).toBe(false);
    expect(run(`quantity("70k").compareTo(quantity("50k").add(quantity("20k")))`)).toBe(0n);
  });

  it("computes asApproximateFloat like Go (mantissa times math.Pow10)", () => {
    expect(run(`quantity("1.5Gi").asApproximateFloat()`)).toBe(1610612736);
    expect(run(`quantity("100m").asApproximateFloat()`)).toBe(0.1);
    expect(run(`quantity("1e310").asApproximateFloat()`)).toBe(Number.POSITIVE_INFINITY);
  });

  it("parses like apimachinery, including its quirks and invalid inputs", () => {
    for (const bad of [
      "",
      "1.1.M",
      "1+1.0M",
      "0.1mi",
      "0.1am",
      "aoeu",
      ".5i",
      "1i",
      "-3.01i",
      "-3.01e-",
      " 1",
      "1 ",
    ]) {
      expect(() => parseQuantity(bad), bad).toThrow();
    }
    expect(parseQuantity("-").sign()).toBe(0);
    expect(parseQuantity(".5").toString()).toBe("0.5");
    expect(parseQuantity("1.").toString()).toBe("1");
    expect(parseQuantity("+5k").toString()).toBe("5000");
    expect(parseQuantity("12Mi").toString()).toBe("12582912");
    expect(parseQuantity(".000000000001Ki").toString()).toBe("0.000000002");
  });
});

describe("quantityString (resource.Quantity String(), checked with apimachinery v0.32.4)", () => {
  it.each([
    ["0.5", "500m"],
    ["1.5Gi", "1536Mi"],
    ["1e9", "1e9"],
    ["1e-3", "1e-3"],
    ["0.001", "1m"],
    ["1000", "1k"],
    ["1024", "1024"],
    ["2048Ki", "2Mi"],
    ["1Ki", "1Ki"],
    ["100m", "100m"],
    ["0.1", "100m"],
    ["128974848", "128974848"],
    ["500Mi", "500Mi"],
    ["1.5", "1500m"],
    ["12e6", "12e6"],
    ["0.0000000001", "1n"],
    ["1023Ki", "1023Ki"],
    ["0.5Ki", "512"],
    ["2", "2"],
    ["1.000", "1"],
    ["-1.5", "-1500m"],
    ["1E3", "1E3"],
    ["1e0", "1e0"],
    ["0.5e1", "5"],
    ["10000000000000000000", "10E"],
    ["1e21", "1e21"],
    ["1e-12", "1e-9"],
    ["3Gi", "3Gi"],
    ["1.5G", "1500M"],
    ["0", "0"],
  ])("%s → %s", (input, want) => {
    expect(quantityString(input)).toBe(want);
  });
});
