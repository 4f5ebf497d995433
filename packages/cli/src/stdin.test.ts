import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { runCaptured } from "./run-captured.ts";

const pod = `apiVersion: v1
kind: Pod
metadata: { name: web, namespace: team-a }
spec: { containers: [{ name: c, image: nginx }] }
`;

it("policy check - reads the manifests from stdin, names them <stdin>, and leaves no file behind", async () => {
  const ws = await mkdtemp(join(tmpdir(), "cli-stdin-"));
  const stdin = () => Promise.resolve(pod);
  const r = await runCaptured(["policy", "check", "-", "-o", "json"], ws, {}, { stdin });
  expect(r.code, r.err).toBe(1);
  const { results } = JSON.parse(r.out) as {
    results: Array<{ file: string; verdict: string; name: string }>;
  };
  expect(results.filter((x) => x.verdict === "fail").length).toBeGreaterThan(3);
  expect(new Set(results.map((x) => x.file))).toEqual(new Set(["<stdin>"]));
  expect(results[0]!.name).toBe("web");
  const table = await runCaptured(["policy", "check", "-"], ws, {}, { stdin });
  expect(table.out).toMatch(/FAIL +<stdin>:\d+/);
  expect(table.out).not.toContain(".platform-stdin-");
  expect(await readdir(ws)).toEqual([]);
  // Nothing on stdin is nothing checked: an error, never a pass.
  const empty = await runCaptured(["policy", "check", "-"], ws, {}, { stdin: () => Promise.resolve("") });
  expect(empty.code).not.toBe(0);
  expect(await readdir(ws)).toEqual([]);
});

it("upgrade plan --description - plans from a cluster description on stdin", async () => {
  const example = join(import.meta.dirname, "../../../examples/northwind/cluster");
  const text = await readFile(join(example, "aks-northwind-prod.json"), "utf8");
  const ws = await mkdtemp(join(tmpdir(), "cli-stdin-"));
  const r = await runCaptured(
    ["upgrade", "plan", "--description", "-", "-o", "json"],
    ws,
    {},
    {
      stdin: () => Promise.resolve(text),
    },
  );
  expect(r.code, r.err).toBe(0);
  expect(JSON.parse(r.out).cluster.name).toBe("aks-northwind-prod");
});

it("- without a readable stdin is a clear usage error", async () => {
  const ws = await mkdtemp(join(tmpdir(), "cli-stdin-"));
  const r = await runCaptured(["policy", "check", "-"], ws);
  expect(r.code).toBe(2);
  expect(r.err).toContain("started without a readable stdin");
  expect(await readdir(ws)).toEqual([]);
});

it("upgrade plan --description with text that is not JSON is an input error naming the flag (also from stdin)", async () => {
  const ws = await mkdtemp(join(tmpdir(), "cli-stdin-"));
  const r = await runCaptured(
    ["upgrade", "plan", "--description", "-"],
    ws,
    {},
    {
      stdin: () => Promise.resolve("cluster: not json"),
    },
  );
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/^error: <stdin>: <stdin>: not JSON: .* \[option --description\]/m);
  const missing = await runCaptured(["upgrade", "plan", "--description", "nope.json"], ws);
  expect(missing.code).toBe(2);
  expect(missing.err).toContain("nope.json: cannot read it (ENOENT) [option --description]");
});
