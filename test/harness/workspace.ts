import { mkdir, mkdtemp, realpath, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh temporary folder (real path) holding `files` (relative path → text); the caller removes it. */
export async function writeWorkspace(files: Record<string, string>, prefix = "ws-"): Promise<string> {
  const root = await realpath(await mkdtemp(join(tmpdir(), prefix)));
  for (const [p, text] of Object.entries(files)) {
    await mkdir(join(root, p, ".."), { recursive: true });
    await writeFile(join(root, p), text);
  }
  return root;
}
