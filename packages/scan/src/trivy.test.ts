import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseTrivyReport } from "./trivy.ts";

const FIXTURES = join(import.meta.dirname, "../../../test/fixtures/scan/trivy");
const read = (name: string) => readFileSync(join(FIXTURES, name), "utf8");

describe("parseTrivyReport on Trivy's own goldens", () => {
  it("reads OS findings with and without a fix, vendor CVSS and status", () => {
    const { findings, artifact } = parseTrivyReport(read("debian-buster.json.golden"));
    expect(artifact).toMatchObject({ type: "container_image", os: "debian 10.1" });
    expect(findings.map((f) => f.id)).toEqual(["CVE-2019-18224", "CVE-2019-18276"]);
    const [idn, bash] = findings;
    expect(idn).toMatchObject({
      package: "libidn2-0",
      installedVersion: "2.0.5-1",
      fixedVersion: "2.0.5-1+deb10u1",
      severity: "critical",
      fixable: true,
      status: "fixed",
      class: "os",
      type: "debian",
      aliases: ["DSA-4613-1"],
      // SeveritySource nvd: nvd's score, not redhat's 5.6.
      cvss: {
        score: 9.8,
        source: "nvd",
        version: "3",
        vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
      },
      url: "https://avd.aquasec.com/nvd/cve-2019-18224",
    });
    expect(bash).toMatchObject({
      severity: "low",
      fixable: false,
      fixedVersion: undefined,
      status: "affected",
    });
    // SeveritySource debian has no CVSS entry: fall back to nvd.
    expect(bash!.cvss).toMatchObject({ score: 7.8, source: "nvd" });
  });

  it("merges one advisory found in several targets, and keeps unknown severity and missing titles", () => {
    const parsed = parseTrivyReport(read("gomod.json.golden"));
    expect(parsed.raw).toBe(5);
    expect(parsed.findings).toHaveLength(3);
    const gms = parsed.findings.find((f) => f.id === "GMS-2022-20")!;
    expect(gms.targets).toEqual(["go.mod", "submod/go.mod", "submod2/go.mod"]);
    expect(gms).toMatchObject({
      severity: "unknown",
      fixable: true,
      url: undefined,
      class: "lang",
      type: "gomod",
    });
    expect(gms.aliases).toEqual(["GHSA-qq97-vm5h-rrhg"]);
    expect(parsed.findings.find((f) => f.id === "CVE-2021-38561")!.title).toBeUndefined();
  });
});

describe("parseTrivyReport on an image with OS and language packages", () => {
  const { findings } = parseTrivyReport(read("image-mixed.json"));

  it("orders worst first and names package paths for language packages", () => {
    expect(findings[0]).toMatchObject({ id: "CVE-2021-44228", severity: "critical", cvss: { score: 10 } });
    expect(findings[0]!.targets).toEqual(["Java: app/lib/log4j-core-2.14.1.jar"]);
    expect(findings.map((f) => f.severity)).toEqual(
      [...findings.map((f) => f.severity)].sort(
        (a, b) =>
          ["critical", "high", "medium", "low", "unknown"].indexOf(a) -
          ["critical", "high", "medium", "low", "unknown"].indexOf(b),
      ),
    );
  });

  it("keeps the same CVE in two packages apart but merges one package in two targets", () => {
    expect(findings.filter((f) => f.id === "CVE-2024-0727").map((f) => f.package)).toEqual([
      "libcrypto3",
      "libssl3",
    ]);
    const spawn = findings.filter((f) => f.id === "CVE-2024-21538");
    expect(spawn).toHaveLength(1);
    expect(spawn[0]!.targets).toEqual([
      "app/package-lock.json",
      "Node.js: usr/local/lib/node_modules/npm/node_modules/cross-spawn/package.json",
    ]);
    expect(spawn[0]!.aliases).toEqual(["GHSA-3xgq-45jj-v275"]);
  });

  it("treats will_not_fix as not fixable and a GHSA-only advisory as its own id", () => {
    expect(findings.find((f) => f.id === "CVE-2023-45853")).toMatchObject({
      fixable: false,
      severity: "critical",
    });
    expect(findings.find((f) => f.id === "GHSA-9wv6-86v2-598j")).toMatchObject({
      package: "path-to-regexp",
      fixable: true,
      cvss: undefined,
    });
  });
});

describe("parseTrivyReport errors", () => {
  it("names the file and line of a JSON syntax error", () => {
    const bad = '{\n  "SchemaVersion": 2,\n  "Results": [\n}';
    expect(() => parseTrivyReport(bad, "scan.json")).toThrowError(
      expect.objectContaining({ code: "SCAN_REPORT_INVALID", file: "scan.json", line: 4 }),
    );
  });

  it("finds the line of a stray token V8 only quotes", () => {
    const bad = '{\n  "SchemaVersion": 2,\n  "Results": [\n    { "Target": "x" }\n  ,]\n}\n';
    expect(() => parseTrivyReport(bad, "scan.json")).toThrowError(expect.objectContaining({ line: 5 }));
  });

  it("rejects reports that are not Trivy JSON v2", () => {
    expect(() => parseTrivyReport('{"version":"2.1.0","runs":[]}', "x.sarif")).toThrowError(
      /no SchemaVersion/,
    );
    expect(() => parseTrivyReport('{"SchemaVersion":1}', "old.json")).toThrowError(/SchemaVersion 1/);
    expect(() =>
      parseTrivyReport('{"SchemaVersion":2,"Results":[{"Target":"a","Vulnerabilities":[{"PkgName":"x"}]}]}'),
    ).toThrowError(/Results\[0\]\.Vulnerabilities\[0\] needs VulnerabilityID/);
  });

  it("accepts a clean image (no Results)", () => {
    expect(parseTrivyReport('{"SchemaVersion":2,"ArtifactName":"x"}').findings).toEqual([]);
  });
});
