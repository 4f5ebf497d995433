import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { thrownPlatformError } from "../../../test/harness/errors.ts";
import { booleanInput, enumInput, listInput, loadWorkspaceConfig, optionalString } from "./inputs.ts";
import { camel, inputEnvName, parseInputs, readRawInputs } from "./raw-inputs.ts";

describe("inputEnvName", () => {
  it("upper-cases and keeps hyphens, as the runner does", () => {
    expect(inputEnvName("fail-on")).toBe("INPUT_FAIL-ON");
    expect(inputEnvName("image-ref")).toBe("INPUT_IMAGE-REF");
    expect(inputEnvName("config")).toBe("INPUT_CONFIG");
  });

  it("turns spaces into underscores", () => {
    expect(inputEnvName("my input")).toBe("INPUT_MY_INPUT");
  });
});

describe("readRawInputs", () => {
  it("distinguishes unset (undefined) from set but empty (empty string)", () => {
    const env = { "INPUT_FAIL-ON": "high", INPUT_SARIF: "", INPUT_WAIVERS: "  " };
    expect(readRawInputs(["fail-on", "sarif", "waivers", "config"], env)).toEqual({
      "fail-on": "high",
      sarif: "",
      waivers: "  ",
      config: undefined,
    });
    const raw = readRawInputs(["config"], env);
    expect("config" in raw).toBe(true);
    expect(raw.config).toBeUndefined();
  });

  it("does not read INPUT_ variables with underscores for hyphenated names", () => {
    expect(readRawInputs(["fail-on"], { INPUT_FAIL_ON: "high" })).toEqual({ "fail-on": undefined });
  });
});

describe("booleanInput", () => {
  const schema = booleanInput(false);

  it.each([
    ["true", true],
    ["True", true],
    ["TRUE", true],
    ["false", false],
    ["False", false],
    ["FALSE", false],
  ])("accepts the YAML 1.2 core boolean %s", (raw, value) => {
    expect(schema.parse(raw)).toBe(value);
  });

  it("trims surrounding whitespace first, as getBooleanInput does", () => {
    expect(schema.parse(" true\n")).toBe(true);
    expect(schema.parse("  FALSE ")).toBe(false);
    expect(booleanInput(true).parse("   ")).toBe(true);
  });

  it("uses the fallback when unset or empty", () => {
    expect(booleanInput(true).parse(undefined)).toBe(true);
    expect(booleanInput(true).parse("")).toBe(true);
    expect(booleanInput(false).parse(undefined)).toBe(false);
  });

  it.each(["yes", "no", "on", "off", "1", "0", "y", "tRue", "truthy", "enabled"])("rejects %j", (raw) => {
    const result = schema.safeParse(raw);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe("must be true or false");
  });
});

describe("enumInput", () => {
  const schema = enumInput(["critical", "high", "medium", "low"], "high");

  it("accepts a value, case-insensitively and trimmed", () => {
    expect(schema.parse("medium")).toBe("medium");
    expect(schema.parse(" LOW ")).toBe("low");
  });

  it("defaults when unset or empty", () => {
    expect(schema.parse(undefined)).toBe("high");
    expect(schema.parse("")).toBe("high");
  });

  it("lists the allowed values in its error", () => {
    const result = schema.safeParse("severe");
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe("must be one of: critical, high, medium, low");
  });
});

describe("listInput", () => {
  it("splits on commas and newlines when comma is true", () => {
    expect(listInput({ comma: true }).parse("dev, staging\nprod")).toEqual(["dev", "staging", "prod"]);
  });

  it("splits on newlines only when comma is false", () => {
    expect(listInput({ comma: false }).parse("sum(a), by (b)\n# c\nx")).toEqual(["sum(a), by (b)", "x"]);
  });

  it("keeps quoted commas and skips comments", () => {
    expect(listInput({ comma: true }).parse('# tags\n"a,b",c')).toEqual(["a,b", "c"]);
  });

  it("is empty when unset or empty", () => {
    expect(listInput({ comma: true }).parse(undefined)).toEqual([]);
    expect(listInput({ comma: true }).parse("")).toEqual([]);
  });
});

describe("optionalString", () => {
  it("treats empty and blank as not given, and trims", () => {
    expect(optionalString().parse(undefined)).toBeUndefined();
    expect(optionalString().parse("")).toBeUndefined();
    expect(optionalString().parse("   ")).toBeUndefined();
    expect(optionalString().parse(" platform.yaml ")).toBe("platform.yaml");
  });
});

describe("camel", () => {
  it("maps kebab-case to camelCase", () => {
    expect(camel("fail-on")).toBe("failOn");
    expect(camel("only-fixed")).toBe("onlyFixed");
    expect(camel("config")).toBe("config");
    expect(camel("node-pools-2")).toBe("nodePools2");
  });
});

describe("parseInputs", () => {
  const schema = z.object({
    manifests: listInput({ comma: false }),
    "fail-on": enumInput(["critical", "high"], "high"),
    "only-fixed": booleanInput(false),
    config: optionalString(),
    "image-ref": z.string().regex(/@sha256:[a-f0-9]{64}$/, "must carry a digest (repo@sha256:...)"),
  });
  const digest = `example.io/app@sha256:${"a".repeat(64)}`;

  it("maps kebab-case inputs to a camelCase object", () => {
    const inputs = parseInputs(schema, {
      manifests: "k8s/\nextra.yaml",
      "fail-on": "critical",
      "only-fixed": "true",
      config: "",
      "image-ref": digest,
    });
    expect(inputs).toEqual({
      manifests: ["k8s/", "extra.yaml"],
      failOn: "critical",
      onlyFixed: true,
      config: undefined,
      imageRef: digest,
    });
    // The types follow the mapping too.
    const failOn: "critical" | "high" = inputs.failOn;
    expect(failOn).toBe("critical");
  });

  it("applies defaults for unset inputs", () => {
    const inputs = parseInputs(schema, { "image-ref": digest });
    expect(inputs.failOn).toBe("high");
    expect(inputs.onlyFixed).toBe(false);
    expect(inputs.manifests).toEqual([]);
  });

  it("names the input, the problem, the value given, and how to fix it", () => {
    const err = thrownPlatformError(() => parseInputs(schema, { "fail-on": "severe", "image-ref": digest }));
    expect(err.code).toBe("INPUT_INVALID");
    expect(err.input).toBe("fail-on");
    expect(err.category).toBe("usage");
    expect(err.message).toBe('input "fail-on" must be one of: critical, high (got "severe")');
    expect(err.hint).toContain("`fail-on`");
  });

  it("names a boolean input that is not a core boolean", () => {
    const err = thrownPlatformError(() => parseInputs(schema, { "only-fixed": "yes", "image-ref": digest }));
    expect(err.input).toBe("only-fixed");
    expect(err.message).toContain("must be true or false");
  });

  it("names a required input that is missing, without a (got ...) part", () => {
    const err = thrownPlatformError(() => parseInputs(schema, {}));
    expect(err.input).toBe("image-ref");
    expect(err.message).toMatch(/^input "image-ref" /);
    expect(err.message).not.toContain("(got");
  });

  it("names an input that fails its own check", () => {
    const err = thrownPlatformError(() => parseInputs(schema, { "image-ref": "example.io/app:latest" }));
    expect(err.input).toBe("image-ref");
    expect(err.message).toContain("must carry a digest");
    expect(err.message).toContain('(got "example.io/app:latest")');
  });

  it("does not echo very long values", () => {
    const err = thrownPlatformError(() => parseInputs(schema, { "image-ref": "x".repeat(500) }));
    expect(err.message).not.toContain("x".repeat(200));
  });
});

describe("loadWorkspaceConfig", () => {
  it("resolves the input against the workspace, keeps an absolute path, defaults when platform.yaml is absent", async () => {
    const ws = mkdtempSync(join(tmpdir(), "ws-"));
    writeFileSync(join(ws, "team.yaml"), "registries:\n  trusted: [contoso.azurecr.io]\n");
    const relative = await loadWorkspaceConfig(ws, "team.yaml");
    expect(relative.source).toBe(join(ws, "team.yaml"));
    expect(relative.config.registries.trusted).toEqual(["contoso.azurecr.io"]);
    const absolute = await loadWorkspaceConfig("/elsewhere", join(ws, "team.yaml"));
    expect(absolute.source).toBe(join(ws, "team.yaml"));
    expect((await loadWorkspaceConfig(ws, undefined)).source).toBeUndefined();
    await expect(loadWorkspaceConfig(ws, "missing.yaml")).rejects.toThrow(/missing\.yaml/);
  });
});
