import { readFile } from "node:fs/promises";
import { PlatformError } from "@platform/core";

/** Reads a text file an input names; a failure is a PlatformError naming the input and its path. */
export async function readInputFile(
  path: string,
  display: string,
  what: { code: string; label: string; input: string; hint: string },
): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new PlatformError(what.code, `cannot read ${what.label} ${display}`, {
      input: what.input,
      hint: what.hint,
      cause: err,
    });
  }
}
