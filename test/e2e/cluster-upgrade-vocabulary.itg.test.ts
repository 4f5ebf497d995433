// issue 17's one vocabulary for cluster-upgrade, through the bundled action: subscription-id (azure/login's name)
// and plan-file in both modes (apply reads the file the plan run wrote); the old names still work, with a warning.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { northwind, startSignIn, windowAround } from "../aks/helpers.ts";
import { startAksFake } from "../fakes/aks.ts";
import { runBundledAction } from "../harness/run-action.ts";

const SUB = "00000000-0000-0000-0000-000000000001";
let signIn: Awaited<ReturnType<typeof startSignIn>>;
let ws: string;
beforeAll(async () => {
  signIn = await startSignIn();
  ws = await mkdtemp(join(tmpdir(), "cluster-upgrade-vocab-"));
});
afterAll(async () => {
  await signIn.close();
  await rm(ws, { recursive: true, force: true });
});

async function withFake(
  body: (run: (inputs: Record<string, string>) => ReturnType<typeof runBundledAction>) => Promise<void>,
) {
  const aks = await startAksFake({ clusters: [northwind({ maintenance: windowAround(new Date(), true) })] });
  try {
    await writeFile(join(ws, "ca.pem"), `${signIn.entra.ca}\n${aks.arm.ca}\n`);
    const env = { ...signIn.env, NODE_EXTRA_CA_CERTS: join(ws, "ca.pem") };
    const common = {
      "resource-group": "rg-northwind-prod",
      cluster: "aks-northwind-prod",
      "arm-endpoint": aks.url,
      "authority-host": signIn.entra.url,
      "poll-interval": "0.05",
    };
    await body((inputs) =>
      runBundledAction("cluster-upgrade", { ...common, ...inputs }, { workspace: ws, env }),
    );
    expect(aks.arm.mismatches).toEqual([]);
  } finally {
    await aks.close();
  }
}

it("subscription-id and plan-file: the plan run writes plan-file, the apply run reads the same input", async () => {
  await withFake(async (run) => {
    const plan = await run({ mode: "plan", "subscription-id": SUB, "plan-file": "p.json" });
    expect(plan.code, plan.stdout).toBe(0);
    const apply = await run({
      mode: "apply",
      "subscription-id": SUB,
      "plan-file": "p.json",
      state: "s.json",
    });
    expect(apply.code, apply.stdout).toBe(0);
    expect(apply.outputs.status).toBe("succeeded");
    expect(plan.stdout + apply.stdout).not.toContain("deprecated");
  });
});

it("the old names subscription and plan still work, each with a deprecation warning", async () => {
  await withFake(async (run) => {
    const plan = await run({ mode: "plan", subscription: SUB, "plan-file": "old.json" });
    expect(plan.code, plan.stdout).toBe(0);
    expect(plan.stdout).toContain("the subscription input is deprecated: use subscription-id");
    const apply = await run({ mode: "apply", subscription: SUB, plan: "old.json", state: "old-state.json" });
    expect(apply.code, apply.stdout).toBe(0);
    expect(apply.outputs.status).toBe("succeeded");
    expect(apply.stdout).toContain("the plan input is deprecated: use plan-file");
  });
});

it("a missing plan file in apply mode names plan-file", async () => {
  await withFake(async (run) => {
    const r = await run({ mode: "apply", "subscription-id": SUB, "plan-file": "nope.json" });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/Cannot read the plan file[^\n]*nope\.json/);
    expect(r.stdout).toContain("plan-file");
  });
});
