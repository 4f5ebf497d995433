import { describe, expect, it } from "vitest";
import { ExitCode, errorMessage, exitCodeFor, isPlatformError, PlatformError } from "./errors.ts";

describe("exitCodeFor", () => {
  it("maps a verdict to 1", () => {
    expect(exitCodeFor(new PlatformError("GATE", "2 violations", { category: "verdict" }))).toBe(1);
  });

  it("maps a usage error to 2, and usage is the default category", () => {
    expect(exitCodeFor(new PlatformError("BAD", "bad flag", { category: "usage" }))).toBe(2);
    const implicit = new PlatformError("BAD", "bad flag");
    expect(implicit.category).toBe("usage");
    expect(exitCodeFor(implicit)).toBe(2);
  });

  it("maps an environment error to 3", () => {
    expect(exitCodeFor(new PlatformError("NET", "refused", { category: "environment" }))).toBe(3);
  });

  it("maps an internal PlatformError to 3", () => {
    expect(exitCodeFor(new PlatformError("BUG", "oops", { category: "internal" }))).toBe(3);
  });

  it.each([
    ["an Error", new Error("boom")],
    ["a TypeError", new TypeError("x is undefined")],
    ["a string", "boom"],
    ["undefined", undefined],
    ["a plain object that looks like a PlatformError", { code: "GATE", category: "verdict" }],
  ])("maps an unknown throw (%s) to 3", (_, thrown) => {
    expect(exitCodeFor(thrown)).toBe(3);
  });

  it("uses the codes DESIGN.md fixes", () => {
    expect(ExitCode).toEqual({ ok: 0, verdict: 1, usage: 2, environment: 3 });
  });
});

describe("PlatformError", () => {
  it("keeps code, message, options and the native cause", () => {
    const cause = new Error("ECONNRESET");
    const err = new PlatformError("OCI_MANIFEST_UNKNOWN", "manifest not found", {
      hint: "push it first",
      input: "image-ref",
      file: "a.yaml",
      line: 3,
      column: 7,
      category: "environment",
      cause,
    });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("PlatformError");
    expect(err.code).toBe("OCI_MANIFEST_UNKNOWN");
    expect(err.message).toBe("manifest not found");
    expect(err.hint).toBe("push it first");
    expect(err.input).toBe("image-ref");
    expect([err.file, err.line, err.column]).toEqual(["a.yaml", 3, 7]);
    expect(err.category).toBe("environment");
    expect(err.cause).toBe(cause);
    expect(err.stack).toContain("manifest not found");
  });

  describe("describe()", () => {
    it("is just the message when nothing else is known", () => {
      expect(new PlatformError("X", "it failed").describe()).toBe("it failed");
    });

    it("prefixes file:line:column", () => {
      const err = new PlatformError("X", "unknown key", { file: "platform.yaml", line: 4, column: 3 });
      expect(err.describe()).toBe("platform.yaml:4:3: unknown key");
    });

    it("prefixes file:line without a column, and file alone without a line", () => {
      expect(new PlatformError("X", "m", { file: "f.yaml", line: 9 }).describe()).toBe("f.yaml:9: m");
      expect(new PlatformError("X", "m", { file: "f.yaml" }).describe()).toBe("f.yaml: m");
    });

    it("ignores line and column when there is no file", () => {
      expect(new PlatformError("X", "m", { line: 9, column: 2 }).describe()).toBe("m");
    });

    it("names the input and puts the hint on its own indented line", () => {
      const err = new PlatformError("INPUT_INVALID", "must be one of: a, b", {
        input: "mode",
        hint: "Set mode to a or b.",
        file: "action.yml",
        line: 2,
      });
      expect(err.describe()).toBe(
        "action.yml:2: must be one of: a, b [input: mode]\n  hint: Set mode to a or b.",
      );
    });
  });
});

describe("isPlatformError", () => {
  it("recognises PlatformErrors, optionally by code", () => {
    const err = new PlatformError("A_CODE", "m");
    expect(isPlatformError(err)).toBe(true);
    expect(isPlatformError(err, "A_CODE")).toBe(true);
    expect(isPlatformError(err, "OTHER")).toBe(false);
    expect(isPlatformError(new Error("m"))).toBe(false);
    expect(isPlatformError({ code: "A_CODE" }, "A_CODE")).toBe(false);
  });
});

describe("errorMessage", () => {
  it("reads Error messages and stringifies anything else", () => {
    expect(errorMessage(new Error("boom"))).toBe("boom");
    expect(errorMessage("plain")).toBe("plain");
    expect(errorMessage(42)).toBe("42");
    expect(errorMessage(undefined)).toBe("undefined");
  });
});
