// The ARM fake's own machinery: operation matching, request and response checks against a Swagger file,
// long-running operations and injected faults. The spec below is a test input for the checker itself
// (it references the real common-types file); the service fakes load real azure-rest-api-specs extracts.
import { mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ArmFake, SPECS_ROOT, startArmFake } from "./index.ts";

const TYPES = join(SPECS_ROOT, "common-types", "resource-management", "v6", "types.json");
const SUB = "00000000-0000-0000-0000-000000000001";
const WIDGET = `/subscriptions/${SUB}/resourceGroups/rg1/providers/Test.Widgets/widgets/w1`;

function spec(): string {
  const dir = mkdtempSync(join(tmpdir(), "arm-spec-"));
  const ref = (p: string) => ({ $ref: `${TYPES}#/${p}` });
  const file = join(dir, "widgets.json");
  writeFileSync(
    file,
    JSON.stringify({
      swagger: "2.0",
      info: { title: "widgets", version: "2030-01-01" },
      paths: {
        "/oauth2/exchange": {
          post: {
            operationId: "Tokens_Exchange",
            consumes: ["application/x-www-form-urlencoded"],
            parameters: [
              { name: "grant_type", in: "formData", required: true, type: "string", enum: ["access_token"] },
              { name: "service", in: "formData", required: true, type: "string" },
            ],
            responses: {
              200: { schema: { type: "object", properties: { refresh_token: { type: "string" } } } },
            },
          },
        },
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Test.Widgets/widgets/{name}":
          {
            get: {
              operationId: "Widgets_Get",
              parameters: [
                ref("parameters/ApiVersionParameter"),
                ref("parameters/SubscriptionIdParameter"),
                ref("parameters/ResourceGroupNameParameter"),
                { name: "name", in: "path", required: true, type: "string", pattern: "^[a-z0-9]+$" },
              ],
              responses: {
                200: { schema: { $ref: "#/definitions/Widget" } },
                default: { schema: ref("definitions/ErrorResponse") },
              },
            },
            put: {
              operationId: "Widgets_CreateOrUpdate",
              "x-ms-long-running-operation": true,
              parameters: [
                ref("parameters/ApiVersionParameter"),
                ref("parameters/SubscriptionIdParameter"),
                ref("parameters/ResourceGroupNameParameter"),
                { name: "name", in: "path", required: true, type: "string" },
                { name: "widget", in: "body", required: true, schema: { $ref: "#/definitions/Widget" } },
              ],
              responses: {
                200: { schema: { $ref: "#/definitions/Widget" } },
                201: { schema: { $ref: "#/definitions/Widget" } },
                default: { schema: ref("definitions/ErrorResponse") },
              },
            },
          },
      },
      definitions: {
        Widget: {
          type: "object",
          allOf: [ref("definitions/TrackedResource")],
          properties: {
            properties: {
              type: "object",
              required: ["size"],
              properties: {
                size: { type: "integer" },
                provisioningState: { type: "string", enum: ["Succeeded", "Updating", "Failed"] },
              },
            },
          },
        },
      },
    }),
  );
  return file;
}

function call(
  fake: ArmFake,
  method: string,
  path: string,
  body?: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are read field by field in the assertions
): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
  const url = new URL(path, fake.url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, ca: fake.ca, headers: { "content-type": "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text ? JSON.parse(text) : undefined,
          });
        });
      },
    );
    req.on("error", reject);
    if (typeof body === "string") req.setHeader("content-type", "application/x-www-form-urlencoded");
    req.end(body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body));
  });
}

describe("ARM fake", () => {
  let fake: ArmFake;
  let state: { size: number; provisioningState: string } | undefined;
  let badAnswer = false;
  let badResult = false;

  beforeAll(async () => {
    fake = await startArmFake({
      specs: [spec()],
      routes: {
        Tokens_Exchange: () => ({ status: 200, body: { refresh_token: "r" } }),
        Widgets_Get: (req, ctx) => {
          if (!state) return ctx.error(404, "ResourceNotFound", `widget ${req.params.name} not found`);
          const properties = badAnswer ? { provisioningState: state.provisioningState } : state;
          return {
            status: 200,
            body: { id: req.path, name: req.params.name, location: "westeurope", properties },
          };
        },
        Widgets_CreateOrUpdate: (req, ctx) => {
          const size = (req.body as { properties: { size: number } }).properties.size;
          state = { size: state?.size ?? 0, provisioningState: "Updating" };
          return ctx.longRunning({
            status: 201,
            polls: 2,
            body: { id: req.path, name: req.params.name, location: "westeurope", properties: state },
            onDone: () => {
              state = { size, provisioningState: "Succeeded" };
            },
            // The final result at Location: a Widget, or (badResult) one without its required location.
            result: () => (badResult ? { properties: { size } } : undefined),
          });
        },
      },
    });
  });
  afterAll(() => fake.close());

  it("refuses a path no spec declares and records it", async () => {
    const r = await call(
      fake,
      "GET",
      `/subscriptions/${SUB}/providers/Test.Widgets/gadgets?api-version=2030-01-01`,
    );
    expect(r.status).toBe(404);
    expect(fake.mismatches.pop()).toMatch(/no operation in the specs/);
  });

  it("checks the api-version and path parameter patterns", async () => {
    const r = await call(fake, "GET", `${WIDGET}?api-version=2020-01-01`);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("FakeSpecMismatch");
    expect(fake.mismatches.pop()).toMatch(/api-version 2020-01-01 is not the spec's 2030-01-01/);
    const bad = await call(fake, "GET", `${WIDGET.replace("w1", "W_1")}?api-version=2030-01-01`);
    expect(bad.status).toBe(400);
    expect(fake.mismatches.pop()).toMatch(/does not match/);
  });

  it("validates a request body against the schema (through allOf and common-types)", async () => {
    const r = await call(fake, "PUT", `${WIDGET}?api-version=2030-01-01`, { properties: { size: 3 } });
    expect(r.status).toBe(400);
    expect(fake.mismatches.splice(0).join("\n")).toMatch(/location/);
    const wrongType = await call(fake, "PUT", `${WIDGET}?api-version=2030-01-01`, {
      location: "westeurope",
      properties: { size: "three" },
    });
    expect(wrongType.status).toBe(400);
    expect(fake.mismatches.splice(0).join("\n")).toMatch(/size.*must be integer/);
  });

  it("runs a long-running operation one step per status poll, then applies it", async () => {
    const put = await call(fake, "PUT", `${WIDGET}?api-version=2030-01-01`, {
      location: "westeurope",
      properties: { size: 3 },
    });
    expect(put.status).toBe(201);
    expect(put.body.properties.provisioningState).toBe("Updating");
    const monitor = new URL(String(put.headers["azure-asyncoperation"])).pathname;
    const statuses: string[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(fake, "GET", monitor)).body.status);
    expect(statuses).toEqual(["InProgress", "InProgress", "Succeeded"]);
    const get = await call(fake, "GET", `${WIDGET}?api-version=2030-01-01`);
    expect(get.body.properties).toEqual({ size: 3, provisioningState: "Succeeded" });
    expect(fake.mismatches).toEqual([]);
  });

  it("checks a long-running operation's final result against the starting operation's 200", async () => {
    badResult = true;
    const put = await call(fake, "PUT", `${WIDGET}?api-version=2030-01-01`, {
      location: "westeurope",
      properties: { size: 4 },
    });
    const monitor = new URL(String(put.headers["azure-asyncoperation"])).pathname;
    for (let i = 0; i < 3; i++) await call(fake, "GET", monitor);
    expect(fake.mismatches).toEqual([]); // the status answers follow OperationStatusResult
    const result = await call(fake, "GET", new URL(String(put.headers.location)).pathname);
    badResult = false;
    expect(result.status).toBe(200);
    expect(fake.mismatches.splice(0).join("\n")).toMatch(
      /final result: Widgets_CreateOrUpdate response 200: .*location/,
    );
  });

  it("records an answer that departs from the spec", async () => {
    badAnswer = true;
    await call(fake, "GET", `${WIDGET}?api-version=2030-01-01`);
    badAnswer = false;
    expect(fake.mismatches.splice(0).join("\n")).toMatch(/Widgets_Get response 200: .*size/);
  });

  it("injects 429 with Retry-After for a chosen operation, then recovers", async () => {
    fake.inject({ operationId: "Widgets_Get", status: 429, retryAfter: 2 });
    const throttled = await call(fake, "GET", `${WIDGET}?api-version=2030-01-01`);
    expect(throttled.status).toBe(429);
    expect(throttled.headers["retry-after"]).toBe("2");
    expect(throttled.body.error.code).toBe("TooManyRequests");
    expect((await call(fake, "GET", `${WIDGET}?api-version=2030-01-01`)).status).toBe(200);
    expect(fake.requests.filter((r) => r.injected)).toHaveLength(1);
  });

  it("checks form-encoded fields: required, enum, undeclared", async () => {
    const ok = await call(fake, "POST", "/oauth2/exchange", "grant_type=access_token&service=r.example");
    expect(ok.status).toBe(200);
    expect(fake.mismatches).toEqual([]);
    const bad = await call(fake, "POST", "/oauth2/exchange", "grant_type=password&tenant=t");
    expect(bad.status).toBe(400);
    const found = fake.mismatches.splice(0).join("\n");
    expect(found).toMatch(/"grant_type"=password is not one of access_token/);
    expect(found).toMatch(/required form field "service" is missing/);
    expect(found).toMatch(/form field "tenant" is not in the spec/);
  });
});
