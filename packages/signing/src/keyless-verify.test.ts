import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { keylessPolicy, loadTrustedRoot, mergeKeyless } from "./keyless-verify.ts";

describe("keyless inputs", () => {
  const config = {
    certificateIdentityRegexp: "deliver\\.yml",
    certificateOidcIssuer: "https://token.actions.githubusercontent.com",
    trustedRoot: "config-root.json",
  };

  it("takes platform.yaml's fields where no input is given, inputs field by field", () => {
    expect(mergeKeyless({}, config)).toMatchObject(config);
    expect(mergeKeyless({ trustedRoot: "input.json" }, config)).toMatchObject({
      ...config,
      trustedRoot: "input.json",
    });
  });

  it("lets an identity input replace both identity fields of the file", () => {
    const merged = mergeKeyless(
      { certificateIdentity: "https://github.com/o/r/.github/workflows/x.yml@refs/heads/main" },
      config,
    );
    expect(merged.certificateIdentity).toMatch(/x\.yml/);
    expect(merged.certificateIdentityRegexp).toBeUndefined();
  });

  it("names the input of an uncompilable regexp", async () => {
    await expect(
      keylessPolicy({
        certificateIdentityRegexp: "(",
        certificateOidcIssuer: "https://i",
        trustedRoot: "r.json",
      }),
    ).rejects.toMatchObject({ code: "KEYLESS_IDENTITY_REGEXP", input: "certificate-identity-regexp" });
  });

  it("refuses a JSON file that is not a trusted root, or one without a CA", async () => {
    const dir = await mkdtemp(join(tmpdir(), "trusted-root-"));
    await writeFile(
      join(dir, "bundle.json"),
      JSON.stringify({ mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json" }),
    );
    await expect(loadTrustedRoot(join(dir, "bundle.json"), "bundle.json")).rejects.toMatchObject({
      code: "KEYLESS_TRUSTED_ROOT_INVALID",
      file: "bundle.json",
      hint: expect.stringMatching(/mediaType is .*bundle.*cosign trusted-root create/s),
    });
    await writeFile(
      join(dir, "empty.json"),
      JSON.stringify({ mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1" }),
    );
    await expect(loadTrustedRoot(join(dir, "empty.json"))).rejects.toMatchObject({
      hint: expect.stringMatching(/no certificate authority/),
    });
  });
});
