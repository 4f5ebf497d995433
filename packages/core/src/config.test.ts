import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { thrownPlatformError } from "../../../test/harness/errors.ts";
import { defaultConfig, loadConfig, PlatformConfigSchema, parseConfig } from "./config.ts";
import { PlatformError } from "./errors.ts";

const NORTHWIND = `# Northwind platform
registries:
  trusted:
    - northwind.azurecr.io
    - mcr.microsoft.com/oss/
  quarantine: northwind.azurecr.io/quarantine
environments:
  - name: dev
    path: envs/dev
  - name: staging
    path: envs/staging
    promoteFrom: dev
  - name: prod
    path: envs/prod
    promoteFrom: staging
teams:
  - name: payments
    namespace: payments
    owners: ["@northwind/payments"]
    identity:
      clientId: 0f8f0f0e-1d2c-4b5a-9e8d-7c6b5a4f3e2d
signing:
  identities:
    - https://github.com/northwind/.github/.github/workflows/release.yml@refs/heads/main
policy:
  disabledRules: [ingress-discouraged]
`;

describe("parseConfig", () => {
  it("reads a full configuration", () => {
    const c = parseConfig(NORTHWIND, "platform.yaml");
    expect(c.registries.trusted).toEqual(["northwind.azurecr.io", "mcr.microsoft.com/oss/"]);
    expect(c.registries.quarantine).toBe("northwind.azurecr.io/quarantine");
    expect(c.environments.map((e) => [e.name, e.path, e.promoteFrom])).toEqual([
      ["dev", "envs/dev", undefined],
      ["staging", "envs/staging", "dev"],
      ["prod", "envs/prod", "staging"],
    ]);
    expect(c.teams[0]).toMatchObject({
      name: "payments",
      namespace: "payments",
      owners: ["@northwind/payments"],
    });
    expect(c.signing.identities).toHaveLength(1);
    expect(c.signing.keys).toEqual([]);
    expect(c.policy.disabledRules).toEqual(["ingress-discouraged"]);
    // Defaults fill what the file leaves out.
    expect(c.policy.allowedCapabilities).toEqual(["NET_BIND_SERVICE"]);
    expect(c.policy.excludedNamespaces).toContain("kube-system");
  });

  it("gives the defaults for an empty file or a file of comments", () => {
    expect(parseConfig("", "p.yaml")).toEqual(defaultConfig());
    expect(parseConfig("# nothing yet\n", "p.yaml")).toEqual(defaultConfig());
  });

  it("defaults are a fresh object each time (no shared mutable state)", () => {
    const first = defaultConfig();
    first.registries.trusted.push("evil.example.com");
    first.policy.allowedCapabilities.push("SYS_ADMIN");
    first.environments.push({ name: "x", path: "y" });
    const parsed = parseConfig("registries: {}\npolicy: {}\n", "p.yaml");
    parsed.registries.trusted.push("evil.example.com");
    parsed.policy.disabledRules.push("non-root");

    const again = defaultConfig();
    expect(again.registries.trusted).toEqual([]);
    expect(again.policy.allowedCapabilities).toEqual(["NET_BIND_SERVICE"]);
    expect(again.environments).toEqual([]);
    const reparsed = parseConfig("registries: {}\npolicy: {}\n", "p.yaml");
    expect(reparsed.registries.trusted).toEqual([]);
    expect(reparsed.policy.disabledRules).toEqual([]);
  });

  it("names file:line:column of an unknown top-level key", () => {
    const err = thrownPlatformError(() =>
      parseConfig("registries:\n  trusted: [a.io]\nregistires:\n  trusted: []\n", "cfg/platform.yaml"),
    );
    expect(err.code).toBe("CONFIG_INVALID");
    expect([err.file, err.line, err.column]).toEqual(["cfg/platform.yaml", 3, 1]);
    expect(err.message).toContain("registires");
    expect(err.hint).toContain('"registires"');
    expect(err.input).toBe("config");
    expect(err.describe()).toMatch(/^cfg\/platform\.yaml:3:1: /);
  });

  it("names the position of an unknown key nested in a list item", () => {
    const text = "environments:\n  - name: dev\n    path: envs/dev\n    overlay: base\n";
    const err = thrownPlatformError(() => parseConfig(text, "p.yaml"));
    expect([err.line, err.column]).toEqual([4, 5]);
    expect(err.message).toContain("environments.0");
    expect(err.message).toContain("overlay");
  });

  it("names the line of a value of the wrong type", () => {
    const err = thrownPlatformError(() =>
      parseConfig("registries:\n  trusted: [a.io]\n\nenvironments: dev,prod\n", "p.yaml"),
    );
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.line).toBe(4);
    expect(err.column).toBe(15);
    expect(err.message).toMatch(/^environments: /);
  });

  it("names the line of an invalid nested value", () => {
    const text = "teams:\n  - name: a\n    namespace: a\n  - name: b\n    namespace: Not_A_Label\n";
    const err = thrownPlatformError(() => parseConfig(text, "p.yaml"));
    expect(err.line).toBe(5);
    expect(err.message).toContain("teams.1.namespace");
    expect(err.message).toContain("DNS-1123");
  });

  it("rejects a registry that is not a lower-case host or prefix, at its line", () => {
    const err = thrownPlatformError(() =>
      parseConfig("registries:\n  trusted:\n    - ok.io\n    - https://Bad.io\n", "p.yaml"),
    );
    expect(err.line).toBe(4);
    expect(err.message).toContain("registries.trusted.1");
  });

  it("names the line of invalid YAML", () => {
    const err = thrownPlatformError(() => parseConfig("teams: []\nregistries:\n\ttrusted: []\n", "p.yaml"));
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).toMatch(/^invalid YAML: /);
    expect(err.line).toBe(3);
    expect(err.file).toBe("p.yaml");
  });

  it("treats a duplicate key as invalid YAML at the duplicate", () => {
    const err = thrownPlatformError(() => parseConfig("teams: []\nsigning: {}\nteams: []\n", "p.yaml"));
    expect(err.message).toMatch(/unique/i);
    expect(err.line).toBe(3);
  });

  it("accepts environments listed in promotion order", () => {
    const c = parseConfig(
      "environments:\n  - {name: dev, path: d}\n  - {name: prod, path: p, promoteFrom: dev}\n",
      "p.yaml",
    );
    expect(c.environments.map((e) => e.name)).toEqual(["dev", "prod"]);
  });

  it("rejects promoting from an environment listed later, naming its line", () => {
    const text = [
      "environments:",
      "  - name: prod",
      "    path: envs/prod",
      "    promoteFrom: dev",
      "  - name: dev",
      "    path: envs/dev",
      "",
    ].join("\n");
    const err = thrownPlatformError(() => parseConfig(text, "p.yaml"));
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).toContain('"prod"');
    expect(err.message).toContain('"dev"');
    expect(err.hint).toMatch(/promotion order/);
    expect(err.file).toBe("p.yaml");
    expect(err.line).toBe(4);
  });

  it("rejects promoting from an environment that does not exist", () => {
    const text = "environments:\n  - {name: prod, path: p, promoteFrom: qa}\n";
    const err = thrownPlatformError(() => parseConfig(text, "p.yaml"));
    expect(err.message).toContain('"qa"');
    expect(err.line).toBe(2);
  });

  it("rejects an environment listed twice, naming the second", () => {
    const text = "environments:\n  - {name: dev, path: a}\n  - {name: dev, path: b}\n";
    const err = thrownPlatformError(() => parseConfig(text, "p.yaml"));
    expect(err.message).toContain("twice");
    expect(err.line).toBe(3);
  });

  it("rejects more than one YAML document", () => {
    const err = thrownPlatformError(() => parseConfig("teams: []\n---\nteams: []\n", "p.yaml"));
    expect(err.code).toBe("YAML_TOO_MANY_DOCUMENTS");
    expect(err.file).toBe("p.yaml");
  });

  it("stops an alias bomb with an error instead of expanding it", () => {
    const lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i <= 12; i++) {
      const prev = `*a${i - 1}`;
      lines.push(`a${i}: &a${i} [${Array(10).fill(prev).join(", ")}]`);
    }
    lines.push("teams: *a12");
    const started = performance.now();
    const err = thrownPlatformError(() => parseConfig(`${lines.join("\n")}\n`, "bomb.yaml"));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).toMatch(/alias/i);
    expect(err.file).toBe("bomb.yaml");
  });

  it("reads integers as numbers, not bigints, for zod", () => {
    // The YAML layer keeps integers as bigint; they reach zod as numbers, so a type error speaks
    // of a number the user wrote rather than of a bigint.
    const err = thrownPlatformError(() => parseConfig("teams:\n  - name: 42\n    namespace: a\n", "p.yaml"));
    expect(err.message).toContain("received number");
  });

  it("exposes the schema so other tools can validate", () => {
    expect(PlatformConfigSchema.safeParse({ bogus: 1 }).success).toBe(false);
    expect(PlatformConfigSchema.safeParse({}).success).toBe(true);
  });
});

describe("loadConfig", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "platform-config-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("gives the built-in defaults when the default path does not exist", async () => {
    const { config, source } = await loadConfig(join(dir, "platform.yaml"));
    expect(config).toEqual(defaultConfig());
    expect(source).toBeUndefined();
  });

  it("fails when a path the user named does not exist", async () => {
    const path = join(dir, "missing.yaml");
    const err = await loadConfig(path, { explicit: true }).catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.code).toBe("CONFIG_NOT_FOUND");
    expect(err.input).toBe("config");
    expect(err.message).toContain(path);
    expect(err.message).toContain("ENOENT");
    expect(err.hint).toBeTruthy();
  });

  it("fails when the path is a directory, even when not explicit", async () => {
    const err = await loadConfig(dir).catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.code).toBe("CONFIG_NOT_FOUND");
  });

  it("reads and parses an existing file, and reports where it came from", async () => {
    const path = join(dir, "platform.yaml");
    await writeFile(path, NORTHWIND);
    const { config, source } = await loadConfig(path, { explicit: true });
    expect(source).toBe(path);
    expect(config.environments.map((e) => e.name)).toEqual(["dev", "staging", "prod"]);
  });

  it("names the file and line of an error in the file", async () => {
    const path = join(dir, "platform.yaml");
    await writeFile(path, "registries:\n  trusted: []\n  mirror: x\n");
    const err = await loadConfig(path).catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect([err.file, err.line, err.column]).toEqual([path, 3, 3]);
  });
});
