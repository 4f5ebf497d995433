import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PlatformError } from "./errors.ts";
import { writeFileAtomic } from "./fs.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "platform-fs-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("writeFileAtomic", () => {
  it("writes the whole file, text or bytes, and leaves nothing else behind", async () => {
    const text = `${"line of output\n".repeat(50_000)}end`;
    await writeFileAtomic(join(dir, "out.txt"), text);
    expect(await readFile(join(dir, "out.txt"), "utf8")).toBe(text);

    const bytes = new Uint8Array([0, 1, 2, 255, 254]);
    await writeFileAtomic(join(dir, "out.bin"), bytes);
    expect(new Uint8Array(await readFile(join(dir, "out.bin")))).toEqual(bytes);

    expect((await readdir(dir)).sort()).toEqual(["out.bin", "out.txt"]);
  });

  it("replaces an existing file whole", async () => {
    const path = join(dir, "result.json");
    await writeFile(path, "x".repeat(10_000));
    await writeFileAtomic(path, '{"ok":true}');
    expect(await readFile(path, "utf8")).toBe('{"ok":true}');
    expect(await readdir(dir)).toEqual(["result.json"]);
  });

  it("fails with an environment PlatformError when the directory does not exist", async () => {
    const path = join(dir, "no-such-dir", "out.sarif");
    const err = await writeFileAtomic(path, "data", { input: "sarif" }).catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.code).toBe("OUTPUT_WRITE");
    expect(err.category).toBe("environment");
    expect(err.input).toBe("sarif");
    expect(err.message).toContain(path);
    expect(err.message).toContain("ENOENT");
    expect(err.hint).toBeTruthy();
    expect((err.cause as NodeJS.ErrnoException).code).toBe("ENOENT");
    expect(await readdir(dir)).toEqual([]);
  });

  it("removes its temp file when the final rename fails", async () => {
    // The target is a non-empty directory: the temp file can be written, the rename cannot.
    const target = join(dir, "report");
    await mkdir(target);
    await writeFile(join(target, "keep"), "k");
    const err = await writeFileAtomic(target, "data").catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.category).toBe("environment");
    expect(await readdir(dir)).toEqual(["report"]);
    expect(await readdir(target)).toEqual(["keep"]);
  });

  it("survives concurrent writes to the same path: the file is one writer's content, whole", async () => {
    const path = join(dir, "shared.txt");
    const contents = Array.from(
      { length: 20 },
      (_, i) => `${String(i).padStart(2, "0")}:${"x".repeat(20_000)}`,
    );
    const results = await Promise.allSettled(contents.map((c) => writeFileAtomic(path, c)));
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(contents).toContain(await readFile(path, "utf8"));
    expect(await readdir(dir)).toEqual(["shared.txt"]);
  });
});
