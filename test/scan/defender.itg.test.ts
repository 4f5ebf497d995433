// Defender for Containers findings through Azure Resource Graph, with the real @azure/arm-resourcegraph
// client against the swagger-checked ARM fake: request and answer follow the Resource Graph spec the SDK's
// api-version names, every row served is a SecuritySubAssessment per the Microsoft.Security spec, rows are
// the Learn-documented MDVM shape and the swagger's own example, pages follow $skipToken, and a 429 with
// Retry-After is waited out.
import { join } from "node:path";
import { memoryLogger } from "@platform/core";
import { evaluateGate, queryDefenderFindings, resourceGraphClient } from "@platform/scan";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ArmFake, SPECS_ROOT, startArmFake } from "../fakes/arm/index.ts";
import { mdvmRow, queriedDigest, RG_SPEC, type Row, SEC_SPEC, SUB, swaggerExample } from "./defender-rows.ts";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const OTHER = `sha256:${"cd".repeat(32)}`;
const credential = {
  getToken: async () => ({ token: "fake-arm-token", expiresOnTimestamp: Date.now() + 3_600_000 }),
};

const table: Row[] = [
  ...Array.from({ length: 5 }, (_, i) =>
    mdvmRow(i, DIGEST, {
      id: `CVE-2025-${1000 + i}`,
      pkg: "openssl",
      version: "3.0.13-1~deb12u1",
      fixed: i % 2 ? "3.0.15-1~deb12u1" : "",
      severity: i === 0 ? "Critical" : "Medium",
      category: "OS",
    }),
  ),
  mdvmRow(10, DIGEST, {
    id: "CVE-2022-42969",
    pkg: "py",
    version: "1.11.0.0",
    fixed: "1.11.1",
    severity: "High",
    category: "Language",
  }),
  mdvmRow(11, DIGEST, {
    id: "CVE-2024-9999",
    pkg: "zlib",
    version: "1.2.13",
    fixed: "",
    severity: "Low",
    category: "OS",
    code: "Healthy",
  }),
  mdvmRow(12, OTHER, {
    id: "CVE-2023-0001",
    pkg: "bash",
    version: "5.2",
    fixed: "5.3",
    severity: "High",
    category: "OS",
  }),
  // The swagger example's Qualys-era row, bound to our digest (only imageDigest changes).
  (() => {
    const row: Row = structuredClone(swaggerExample.responses["200"].body.value[0]);
    row.properties.additionalData.imageDigest = DIGEST;
    return row;
  })(),
];

describe("Defender findings via Resource Graph", () => {
  let fake: ArmFake;
  const served: Row[] = [];

  beforeAll(async () => {
    fake = await startArmFake({
      specs: [RG_SPEC, SEC_SPEC],
      routes: {
        // A page of 2 rows per request; the skip token is the next offset, as an opaque string.
        Resources: (req) => {
          const body = req.body as { query: string; options?: { $skipToken?: string; $top?: number } };
          const digest = queriedDigest(body);
          const rows = table.filter(
            (r) =>
              (r.properties.additionalData.artifactDetails?.digest ??
                r.properties.additionalData.imageDigest) === digest,
          );
          const offset = Number(Buffer.from(body.options?.$skipToken ?? "MA==", "base64").toString());
          const page = rows.slice(offset, offset + 2);
          served.push(...page);
          const next =
            offset + 2 < rows.length ? Buffer.from(String(offset + 2)).toString("base64") : undefined;
          return {
            status: 200,
            body: {
              totalRecords: rows.length,
              count: page.length,
              resultTruncated: "false",
              ...(next ? { $skipToken: next } : {}),
              data: page,
            },
          };
        },
      },
    });
  });
  // After every test: the fake saw nothing its spec does not describe (cleared so a failure names its test).
  afterEach(() => expect(fake?.mismatches.splice(0)).toEqual([]));
  afterAll(async () => {
    await fake?.close();
  });

  it("reads every page, keeps unhealthy rows of this digest only, and follows both specs", async () => {
    fake.inject({ operationId: "Resources", status: 429, retryAfter: 1, times: 1 });
    const started = Date.now();
    const log = memoryLogger();
    const result = await queryDefenderFindings(
      { digest: DIGEST, subscriptions: [SUB] },
      { graph: resourceGraphClient(credential, { endpoint: fake.url, ca: fake.ca }), log },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // Retry-After: 1 was honoured
    expect(fake.count("Resources")).toBe(5); // the 429, then 4 pages of 2 rows
    expect(result).toMatchObject({ rows: 8, pages: 4 });
    expect(result.findings.map((f) => `${f.id} ${f.package} ${f.severity}`)).toEqual([
      "CVE-2025-1000 openssl critical",
      "CVE-2019-12345 'Back Orifice' Backdoor high",
      "CVE-2022-42969 py high",
      "CVE-2025-1001 openssl medium",
      "CVE-2025-1002 openssl medium",
      "CVE-2025-1003 openssl medium",
      "CVE-2025-1004 openssl medium",
    ]);
    const py = result.findings.find((f) => f.package === "py")!;
    expect(py).toMatchObject({
      source: "defender",
      class: "lang",
      fixedVersion: "1.11.1",
      fixable: true,
      aliases: ["GHSA-w596-4wvx-j9j6"],
      cvss: { score: 7.5, version: "3", vector: "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H" },
      url: "https://nvd.nist.gov/vuln/detail/CVE-2022-42969",
    });
    expect(result.findings.find((f) => f.id === "CVE-2025-1000")).toMatchObject({
      fixable: false,
      class: "os",
    });
    // The gate works the same on Defender findings.
    const gate = evaluateGate(result.findings, {
      failOn: "high",
      onlyFixed: true,
      waivers: [],
      today: new Date(),
    });
    expect(gate.failing.map((f) => f.id)).toEqual(["CVE-2019-12345", "CVE-2022-42969"]);

    expect(fake.mismatches).toEqual([]);
    const sent = fake.requests
      .filter((r) => r.status === 200)
      .map((r) => r.body as { subscriptions: string[]; options: Record<string, unknown> });
    expect(sent[0]).toMatchObject({ subscriptions: [SUB], options: { $top: 1000 } });
    // The second page was asked for with the token the first answer carried (the offset 2, opaque).
    expect(sent[1]!.options.$skipToken).toBe(Buffer.from("2").toString("base64"));
    const catalog = fake.catalog;
    const file = join(SPECS_ROOT, SEC_SPEC);
    for (const row of served)
      expect(catalog.validateDefinition(file, "SecuritySubAssessment", row)).toEqual([]);
  });

  it("an unscanned digest is an error, never a pass", async () => {
    const graph = resourceGraphClient(credential, { endpoint: fake.url, ca: fake.ca });
    await expect(
      queryDefenderFindings(
        { digest: `sha256:${"ef".repeat(32)}`, subscriptions: [SUB] },
        { graph, log: memoryLogger() },
      ),
    ).rejects.toMatchObject({ code: "SCAN_NOT_SCANNED", category: "environment" });
  });

  it("403 names the role; a bad digest never reaches the query", async () => {
    fake.inject({
      operationId: "Resources",
      status: 403,
      code: "AuthorizationFailed",
      message: "no access",
      times: 1,
    });
    const graph = resourceGraphClient(credential, { endpoint: fake.url, ca: fake.ca });
    await expect(
      queryDefenderFindings({ digest: DIGEST, subscriptions: [SUB] }, { graph, log: memoryLogger() }),
    ).rejects.toMatchObject({ code: "SCAN_DEFENDER_FORBIDDEN", hint: expect.stringMatching(/Reader/) });
    const before = fake.requests.length;
    await expect(
      queryDefenderFindings(
        { digest: 'sha256:x" or 1==1', subscriptions: [SUB] },
        { graph, log: memoryLogger() },
      ),
    ).rejects.toMatchObject({ code: "SCAN_DIGEST_INVALID" });
    expect(fake.requests.length).toBe(before);
    expect(fake.mismatches).toEqual([]);
  });
});
