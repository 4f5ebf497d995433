import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@platform/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attestationSigstore, createGitHubAttestation } from "./github-attestation.ts";

describe("attestationSigstore", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "attest-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const event = async (payload: unknown) => {
    const file = join(dir, `${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, typeof payload === "string" ? payload : JSON.stringify(payload));
    return { GITHUB_EVENT_PATH: file };
  };

  it("uses the public-good instance only for an explicitly public repository", async () => {
    expect(attestationSigstore(await event({ repository: { visibility: "public" } }))).toBe("public-good");
  });
  it("keeps private, internal, unknown and unreadable events on GitHub's instance", async () => {
    for (const payload of [
      { repository: { visibility: "private" } },
      { repository: { visibility: "internal" } },
      { repository: {} },
      {},
      "not json",
    ])
      expect(attestationSigstore(await event(payload))).toBe("github");
    expect(attestationSigstore({})).toBe("github");
    expect(attestationSigstore({ GITHUB_EVENT_PATH: join(dir, "missing.json") })).toBe("github");
  });
});

describe("createGitHubAttestation", () => {
  it("outside GitHub Actions (no OIDC) is an error naming the input, and nothing is uploaded", async () => {
    let uploads = 0;
    const err = await createGitHubAttestation({
      name: "r.example/app",
      digest: `sha256:${"a".repeat(64)}`,
      env: { GITHUB_REPOSITORY: "o/r" },
      log: createLogger({ write: () => {} }),
      upload: async () => ++uploads,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ATTESTATION_NOT_IN_ACTIONS", input: "github-attestation" });
    expect(uploads).toBe(0);
  });
});
