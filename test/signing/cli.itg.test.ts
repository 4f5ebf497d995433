// `platform sign` / `platform verify` through the CLI entry point, on an OCI layout (no registry).
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../packages/cli/src/main.ts";
import { identityOnDisk, layoutWithImages } from "./helpers.ts";

async function cli(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s), env: {}, cwd });
  return { code, out, err };
}

describe("platform sign / verify", () => {
  it("signs an image in an OCI layout, verifies it, and exits 1 for an unsigned one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cli-sign-"));
    const {
      digests: [signedDigest, unsigned],
    } = await layoutWithImages(join(dir, "layout"), ["app:1", "app:2"]);
    const id = await identityOnDisk();
    const ref = `reg.example/team/app@${signedDigest}`;
    const sign = await cli(
      [
        "sign",
        "--image-ref",
        ref,
        "--key",
        id.keyFile,
        "--certificate-chain",
        id.chainFile,
        "--layout",
        "layout",
        "--json",
      ],
      dir,
    );
    expect(sign.code, sign.err).toBe(0);
    expect(JSON.parse(sign.out).signatures.map((s: { kind: string }) => s.kind)).toEqual([
      "notation",
      "cosign-bundle",
      "cosign-legacy",
    ]);
    const verifyArgs = [
      "--trust-policy",
      id.policyFile,
      "--trust-store",
      id.trustStoreDir,
      "--layout",
      "layout",
    ];
    const ok = await cli(["verify", "--image-ref", ref, ...verifyArgs], dir);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/✅ Verified/);
    const bad = await cli(
      ["verify", "--image-ref", `reg.example/team/app@${unsigned}`, ...verifyArgs, "--json"],
      dir,
    );
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).reasons[0]).toMatch(/^no signature/);
    const tag = await cli(
      ["sign", "--image-ref", "reg.example/team/app:1", "--key", id.keyFile, "--layout", "layout"],
      dir,
    );
    expect(tag.code).toBe(2);
    expect(tag.err).toMatch(/has no digest/);
  });
});
