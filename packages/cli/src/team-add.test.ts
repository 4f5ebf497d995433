import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { parse } from "yaml";
import { runCaptured } from "./run-captured.ts";

const example = join(import.meta.dirname, "../../../examples/northwind");
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function workspace(): Promise<string> {
  const ws = await mkdtemp(join(tmpdir(), "cli-team-add-"));
  dirs.push(ws);
  await cp(join(example, "platform.yaml"), join(ws, "platform.yaml"));
  await cp(join(example, "teams"), join(ws, "teams"), { recursive: true });
  return ws;
}

/** A terminal that answers the prompts in order and records the questions. */
function terminal(answers: string[]) {
  const asked: string[] = [];
  return {
    asked,
    io: {
      interactive: true,
      ask: async (q: string) => {
        asked.push(q);
        if (!answers.length) throw new Error(`unexpected prompt: ${q}`);
        return answers.shift()!;
      },
    },
  };
}

const image = `northwindacr.azurecr.io/billing/api@sha256:${"c".repeat(64)}`;
const teamOf = async (ws: string, name: string) =>
  (parse(await readFile(join(ws, "platform.yaml"), "utf8")) as { teams: Array<{ name: string }> }).teams.find(
    (t) => t.name === name,
  );

it("team add on a terminal asks for everything the flags do not give, then writes and renders", async () => {
  const ws = await workspace();
  const t = terminal([
    "",
    "billing",
    "",
    "0a1b2c3d-0000-4000-8000-000000000001, 0a1b2c3d-0000-4000-8000-000000000002",
    `api:8080=${image}`,
    "",
  ]);
  const r = await runCaptured(["team", "add"], ws, {}, t.io);
  expect(r.code, r.err).toBe(0);
  // An empty name is asked again; Enter at the namespace takes the name.
  expect(t.asked).toEqual([
    "Team name: ",
    "Team name: ",
    "Namespace [billing]: ",
    "Owners' Entra group object ids (comma-separated, Enter for none): ",
    "  service: ",
    "  service: ",
  ]);
  expect(await teamOf(ws, "billing")).toMatchObject({
    name: "billing",
    namespace: "billing",
    owners: ["0a1b2c3d-0000-4000-8000-000000000001", "0a1b2c3d-0000-4000-8000-000000000002"],
    services: [{ name: "api", port: 8080, image }],
  });
  expect(r.out).toContain("wrote    teams/billing/api.yaml");
});

it("team add on a terminal never asks again for what a flag gave", async () => {
  const ws = await workspace();
  const t = terminal(["bill"]);
  const r = await runCaptured(
    [
      "team",
      "add",
      "--name",
      "billing",
      "--owner",
      "0a1b2c3d-0000-4000-8000-000000000001",
      "--service",
      `api=${image}`,
    ],
    ws,
    {},
    t.io,
  );
  expect(r.code, r.err).toBe(0);
  expect(t.asked).toEqual(["Namespace [billing]: "]);
  expect(await teamOf(ws, "billing")).toMatchObject({ namespace: "bill" });
});

it("team add without a terminal never prompts: a missing --name is one usage error and nothing is written", async () => {
  const ws = await workspace();
  const before = await readFile(join(ws, "platform.yaml"), "utf8");
  const r = await runCaptured(
    ["team", "add", "--owner", "x"],
    ws,
    {},
    {
      interactive: false,
      ask: () => Promise.reject(new Error("prompted without a terminal")),
    },
  );
  expect(r.code).toBe(2);
  expect(r.err).toContain("add: missing required option --name");
  expect(await readFile(join(ws, "platform.yaml"), "utf8")).toBe(before);
});

it("team add on a terminal gives up after three empty names, naming --name", async () => {
  const ws = await workspace();
  const r = await runCaptured(["team", "add"], ws, {}, terminal(["", "", ""]).io);
  expect(r.code).toBe(2);
  expect(r.err).toContain("team add needs a name [option --name]");
});
