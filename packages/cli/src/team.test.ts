import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { runCaptured } from "./run-captured.ts";

const example = join(import.meta.dirname, "../../../examples/northwind");
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const cli = (argv: string[], cwd: string) => runCaptured(argv, cwd);

it("team check passes on the committed Northwind render, fails with a diff on drift; render repairs it", async () => {
  const ws = await mkdtemp(join(tmpdir(), "cli-team-"));
  dirs.push(ws);
  await cp(join(example, "platform.yaml"), join(ws, "platform.yaml"));
  await cp(join(example, "teams"), join(ws, "teams"), { recursive: true });
  expect((await cli(["team", "check"], ws)).code).toBe(0);

  const config = await readFile(join(ws, "platform.yaml"), "utf8");
  await writeFile(
    join(ws, "platform.yaml"),
    config.replace("calledBy: [storefront/web, worker]", "calledBy: [worker]"),
  );
  const drift = await cli(["team", "check"], ws);
  expect(drift.code).toBe(1);
  expect(drift.out).toContain("--- a/orders/api.yaml\n+++ b/orders/api.yaml");
  expect(drift.out).toContain("-              - cluster.local/ns/storefront/sa/web");
  expect(drift.err).toContain("orders/api.yaml");

  const render = await cli(["team", "render", "--json"], ws);
  expect(render.code).toBe(0);
  expect(JSON.parse(render.out)).toMatchObject({ out: "teams", written: ["orders/api.yaml"], removed: [] });
  expect((await cli(["team", "check"], ws)).code).toBe(0);
});

it("team render reports bad input at file:line with exit 2, and writes nothing", async () => {
  const ws = await mkdtemp(join(tmpdir(), "cli-team-"));
  dirs.push(ws);
  await writeFile(
    join(ws, "p.yaml"),
    "teams:\n  - name: a\n    namespace: a\n    services:\n      - name: api\n        image: northwindacr.azurecr.io/a@sha256:" +
      "b".repeat(64) +
      "\n        calledBy: [ghost]\n",
  );
  const r = await cli(["team", "render", "--config", "p.yaml", "--out", "rendered"], ws);
  expect(r.code).toBe(2);
  expect(r.err).toContain(
    'p.yaml:7:20: teams[0].services[0].calledBy[0]: caller "ghost" of "a/api" is not a declared service',
  );
  await expect(readFile(join(ws, "rendered", "a", "namespace.yaml"))).rejects.toThrow();
});

it("team add appends a team to platform.yaml and renders it; a bad team changes nothing", async () => {
  const ws = await mkdtemp(join(tmpdir(), "cli-team-"));
  dirs.push(ws);
  await cp(join(example, "platform.yaml"), join(ws, "platform.yaml"));
  await cp(join(example, "teams"), join(ws, "teams"), { recursive: true });
  const before = await readFile(join(ws, "platform.yaml"), "utf8");
  const image = `northwindacr.azurecr.io/loyalty/api@sha256:${"d".repeat(64)}`;
  const owner = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
  const bad = await cli(["team", "add", "--name", "loyalty", "--namespace", "orders", "--owner", owner], ws);
  expect(bad.code).toBe(2);
  expect(bad.err).toContain(`namespace "orders" is already team "orders"'s`);
  expect(await readFile(join(ws, "platform.yaml"), "utf8")).toBe(before);

  const r = await cli(
    ["team", "add", "--name", "loyalty", "--owner", owner, "--service", `api:8081=${image}`],
    ws,
  );
  expect(r.code).toBe(0);
  expect(r.out).toContain("wrote    teams/loyalty/api.yaml");
  expect(await readFile(join(ws, "teams/loyalty/namespace.yaml"), "utf8")).toContain("name: loyalty");
  expect((await cli(["team", "check"], ws)).code).toBe(0);
});

it("team check accepts a digest bump of the committed render; render keeps it and says so", async () => {
  const ws = await mkdtemp(join(tmpdir(), "cli-team-"));
  dirs.push(ws);
  await cp(join(example, "platform.yaml"), join(ws, "platform.yaml"));
  await cp(join(example, "teams"), join(ws, "teams"), { recursive: true });
  const file = join(ws, "teams/orders/api.yaml");
  const text = await readFile(file, "utf8");
  const bumped = text.replace(/(orders\/api@sha256:)[0-9a-f]{64}/, `$1${"e".repeat(64)}`);
  expect(bumped).not.toBe(text);
  await writeFile(file, bumped);
  expect((await cli(["team", "check"], ws)).code).toBe(0);
  const render = await cli(["team", "render"], ws);
  expect(render.code).toBe(0);
  expect(render.err).toContain("kept from the committed render");
  expect(await readFile(file, "utf8")).toBe(bumped);
  // A tag in its place is not a bump: drift.
  await writeFile(file, text.replace(/(orders\/api)@sha256:[0-9a-f]{64}/, "$1:latest"));
  expect((await cli(["team", "check"], ws)).code).toBe(1);
});
