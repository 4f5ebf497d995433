// Helpers for the tests of this package and the CLI's (not exported from index.ts).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";

/** A temporary folder for the suite (removed after it) and `write(files)`: a fresh sub-folder holding them. */
export function fixtureFolders(prefix: string): (files: Record<string, string>) => Promise<string> {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return async (files) => {
    const sub = await mkdtemp(join(dir, "t-"));
    for (const [name, text] of Object.entries(files)) {
      await mkdir(join(sub, name, ".."), { recursive: true });
      await writeFile(join(sub, name), text);
    }
    return sub;
  };
}

export { privateEndpointBicep } from "./bicep-fixtures.ts";
