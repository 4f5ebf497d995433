import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PolicyResult } from "./types.ts";
import { applyWaivers, loadWaivers } from "./waivers.ts";

const fail = (over: Partial<PolicyResult> = {}): PolicyResult => ({
  policy: "PLAT007/read-only-root-filesystem",
  kind: "Deployment",
  namespace: "payments",
  name: "api",
  verdict: "fail",
  message: "m",
  file: "d.yaml",
  line: 3,
  severity: "error",
  ...over,
});

async function file(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "waivers-"));
  await writeFile(join(dir, "w.yaml"), text);
  return join(dir, "w.yaml");
}

describe("waivers", () => {
  it("loads waivers with their line numbers", async () => {
    const p = await file(
      "waivers:\n  - rule: PLAT007\n    namespace: payments\n    object: Deployment/api\n    reason: cache dir until 2.5\n    owner: '@team'\n    expires: 2027-01-31\n",
    );
    const [w] = await loadWaivers(p, "w.yaml");
    expect(w).toMatchObject({
      rule: "PLAT007",
      object: "Deployment/api",
      expires: "2027-01-31",
      file: "w.yaml",
      line: 2,
    });
  });

  it("rejects a waiver without a reason or with a bad date, naming file:line", async () => {
    const p = await file(
      "waivers:\n  - rule: PLAT007\n    reason: short\n    owner: x\n    expires: 2027-01-31\n",
    );
    await expect(loadWaivers(p, "w.yaml")).rejects.toMatchObject({
      code: "WAIVERS_INVALID",
      file: "w.yaml",
      line: 3,
    });
    const q = await file(
      "waivers:\n  - rule: PLAT007\n    reason: long enough reason\n    owner: x\n    expires: next week\n",
    );
    await expect(loadWaivers(q, "w.yaml")).rejects.toMatchObject({
      message: expect.stringContaining("YYYY-MM-DD"),
      line: 5,
    });
  });

  it.each(["2099-02-31", "2027-02-29", "2027-13-01", "2027-04-31", "'2099-02-30'"])(
    "rejects a waiver expiring on the impossible date %s",
    async (date) => {
      const p = await file(
        `waivers:\n  - rule: PLAT007\n    reason: long enough reason\n    owner: x\n    expires: ${date}\n`,
      );
      await expect(loadWaivers(p, "w.yaml")).rejects.toMatchObject({
        code: "WAIVERS_INVALID",
        message: expect.stringContaining("is not a real date"),
        line: 5,
      });
    },
  );

  it("accepts a leap day that exists", async () => {
    const p = await file(
      "waivers:\n  - rule: PLAT007\n    reason: long enough reason\n    owner: x\n    expires: 2028-02-29\n",
    );
    expect((await loadWaivers(p, "w.yaml"))[0]!.expires).toBe("2028-02-29");
  });

  const base = { namespace: "payments", reason: "because of reasons", owner: "@o", file: "w.yaml", line: 2 };

  it("turns a matching failure into a skip that records the waiver", () => {
    const out = applyWaivers(
      [fail()],
      [{ ...base, rule: "read-only-root-filesystem", object: "Deployment/api", expires: "2027-01-01" }],
      new Date("2026-11-25"),
    );
    expect(out).toEqual([
      expect.objectContaining({
        verdict: "skip",
        waiver: expect.objectContaining({ owner: "@o", expires: "2027-01-01" }),
      }),
    ]);
  });

  it("matches by rule id, name or full policy, namespace and object globs", () => {
    const w = { ...base, expires: "2027-01-01" };
    const day = new Date("2026-11-25");
    expect(applyWaivers([fail()], [{ ...w, rule: "PLAT007", object: "api" }], day)[0]!.verdict).toBe("skip");
    expect(
      applyWaivers(
        [fail()],
        [{ ...w, rule: "PLAT007/read-only-root-filesystem", object: "Deploy*/a*" }],
        day,
      )[0]!.verdict,
    ).toBe("skip");
    expect(applyWaivers([fail()], [{ ...w, rule: "PLAT008", object: "*" }], day)[0]!.verdict).toBe("fail");
    expect(
      applyWaivers([fail()], [{ ...w, namespace: "other", rule: "PLAT007", object: "*" }], day)[0]!.verdict,
    ).toBe("fail");
    expect(
      applyWaivers([fail({ name: "apix" })], [{ ...w, rule: "PLAT007", object: "api" }], day)[0]!.verdict,
    ).toBe("fail");
  });

  it("an expired waiver waives nothing and is itself a failure at its own line", () => {
    const out = applyWaivers(
      [fail()],
      [{ ...base, rule: "PLAT007", object: "*", expires: "2026-11-24" }],
      new Date("2026-11-25"),
    );
    expect(out.map((r) => `${r.policy}:${r.verdict}`)).toEqual([
      "PLAT007/read-only-root-filesystem:fail",
      "waiver/expired:fail",
    ]);
    expect(out[1]).toMatchObject({ file: "w.yaml", line: 2 });
  });

  it("a waiver expiring today still applies", () => {
    expect(
      applyWaivers(
        [fail()],
        [{ ...base, rule: "PLAT007", object: "*", expires: "2026-11-25" }],
        new Date("2026-11-25T18:00:00Z"),
      )[0]!.verdict,
    ).toBe("skip");
  });
});
