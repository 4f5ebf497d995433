import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryLogger } from "@platform/core";
import { expect, it } from "vitest";
import { copyImage, formatBytes } from "./copy.ts";
import { OciLayout } from "./layout.ts";
import { describeBytes, encodeJson, MediaType } from "./types.ts";

it("a push logs each uploaded blob with its size and the running total, and the total at the end", async () => {
  const dir = await mkdtemp(join(tmpdir(), "copy-progress-"));
  try {
    const src = await OciLayout.create(join(dir, "src"));
    const layer = new Uint8Array(2_500_000).fill(7);
    const config = encodeJson({ architecture: "amd64", os: "linux" });
    await src.writeBlob(layer);
    await src.writeBlob(config);
    await src.addManifest(
      encodeJson({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: describeBytes(config, MediaType.ociConfig),
        layers: [describeBytes(layer, MediaType.ociLayer)],
      }),
      MediaType.ociManifest,
      "v1",
    );
    const log = memoryLogger();
    await copyImage({ layout: join(dir, "src"), reference: "v1" }, { layout: join(dir, "dst") }, { log });
    const lines = log.lines.map((l) => l.line);
    const total = layer.byteLength + config.byteLength;
    const uploads = lines.filter((l) => l.startsWith("uploaded sha256:"));
    expect(uploads).toHaveLength(2);
    expect(uploads.some((l) => l.includes("(2.5 MB;"))).toBe(true);
    expect(uploads.at(-1)).toContain(`${formatBytes(total)} in 2 blob(s) so far`);
    expect(lines.at(-1)).toContain(`2 uploaded (${formatBytes(total)})`);
    // A second push finds every blob there: no upload lines, nothing counted.
    const again = memoryLogger();
    await copyImage(
      { layout: join(dir, "src"), reference: "v1" },
      { layout: join(dir, "dst") },
      { log: again },
    );
    expect(again.lines.filter((l) => l.line.startsWith("uploaded "))).toEqual([]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it("formatBytes prints SI units like docker and oras", () => {
  expect([0, 999, 1000, 1234, 2_500_000, 3_200_000_000].map(formatBytes)).toEqual([
    "0 B",
    "999 B",
    "1.0 kB",
    "1.2 kB",
    "2.5 MB",
    "3.2 GB",
  ]);
});
