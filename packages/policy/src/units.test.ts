import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readUnitCache, type UnitRecord } from "./units.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const record = (over: Record<string, unknown> = {}): UnitRecord =>
  ({
    kind: "kustomize",
    digest: "a".repeat(64),
    objects: 2,
    namespaces: ["t1"],
    context: [
      {
        file: "base/sa.yaml",
        line: 1,
        via: "apps/a",
        obj: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "s", namespace: "t1" }, x: 1 },
      },
    ],
    ...over,
  }) as UnitRecord;

async function read(units: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const dir = await mkdtemp(join(tmpdir(), "units-"));
  dirs.push(dir);
  await writeFile(join(dir, "c.json"), JSON.stringify({ version: 1, units, ...extra }));
  return readUnitCache(join(dir, "c.json"));
}

describe("readUnitCache", () => {
  it("reads a well-formed file as it is, and one with unknown keys as the schema strips it", async () => {
    const good = { a: record({ previous: record({ digest: "b".repeat(64) }) }) };
    expect(Object.fromEntries((await read(good))!)).toEqual(good);
    const extra = await read(
      { a: { ...record(), junk: 1, previous: { ...record(), previous: record() } } },
      { x: 1 },
    );
    expect(extra?.get("a")).toEqual({ ...record(), previous: record() });
  });

  it("refuses a file the schema refuses", async () => {
    for (const bad of [
      record({ digest: "xyz" }),
      record({ objects: -1 }),
      record({ objects: 1.5 }),
      record({ kind: "plain" }),
      record({ namespaces: [1] }),
      record({ context: [{ file: "f", line: 1, obj: { apiVersion: "v1", kind: "Namespace" } }] }),
      record({
        context: [{ file: "f", line: "1", obj: { apiVersion: "v1", kind: "Namespace", metadata: {} } }],
      }),
    ])
      expect(await read({ a: bad })).toBeUndefined();
    expect(await read({ a: record() }, { version: 2 })).toBeUndefined();
  });
});
