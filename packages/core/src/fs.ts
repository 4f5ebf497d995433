import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import { PlatformError } from "./errors.ts";

/** Writes a file whole or not at all: a temp file beside it, then rename (readers never see half a file). */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: { input?: string } = {},
): Promise<void> {
  // Unique per call: two writes of the same path in the same millisecond must not share a temp file.
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw new PlatformError(
      "OUTPUT_WRITE",
      `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      {
        input: opts.input,
        category: "environment",
        hint: "Check that the directory exists and is writable.",
        cause: err,
      },
    );
  }
}
