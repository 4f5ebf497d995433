import { join } from "node:path";
import { ExitCode, PlatformError } from "@platform/core/errors";
import type { Command } from "commander";
import { demoBuildScan } from "./build-scan.ts";
import { demoBump } from "./bump.ts";
import { demoCanary } from "./canary.ts";
import { type Cli, examples } from "./cli.ts";
import { renderRuleCounts, runPolicyCheck } from "./policy.ts";
import { demoSign } from "./sign.ts";
import { regoCompiler } from "./tools.ts";
import { demoUpgrade } from "./upgrade.ts";

/** Registers `platform demo`: every capability on the bundled Northwind example, offline. */
export function registerDemo(program: Command, cli: Cli): void {
  const demo = program
    .command("demo")
    .description("run the policy check on the bundled Northwind sample config repo");
  examples(demo, "$ platform demo", "$ npm run demo            # the same, from a clone");
  demo.action(async () => {
    const root = cli.repoRoot;
    if (!root)
      throw new PlatformError("DEMO_MISSING", "the bundled example is not next to this CLI", {
        category: "environment",
        hint: "Run the demo from a clone of the platform repository: npm run demo.",
      });
    const example = join(root, "examples", "northwind");
    cli.out(
      "Northwind Traders: checking the GitOps config repo (kustomize overlays, a Helm chart, plain YAML)\nagainst the platform guardrails and the cluster's own policies (a ValidatingAdmissionPolicy with\nparams, a Gatekeeper template, a Kyverno ValidatingPolicy), with the team's waivers.\n\n",
    );
    const r = await runPolicyCheck(
      ["config-repo"],
      {
        render: "auto",
        policies: ["builtin", "policies"],
        values: [],
        waivers: "config-repo/platform/waivers.yaml",
        mode: "enforce",
        sarif: undefined,
        config: "platform.yaml",
        configExplicit: true,
        root: example,
        json: false,
        color: cli.color,
      },
      {
        out: cli.out,
        log: cli.log,
        env: cli.env,
        repoRoot: root,
        version: cli.version,
        rego: await regoCompiler(cli.env, root, cli.log),
      },
    );
    cli.out(
      `\n${await renderRuleCounts(r.result)}\n\nRendered: ${r.result.units.map((u) => `${u.path} (${u.kind}, ${u.objects} objects)`).join("; ")}\n`,
    );
    cli.out(
      `\nThe same check in CI: uses: org/platform/actions/policy-dry-run@v1 (see README). Exit code would be ${r.code}.\n`,
    );
    // The picture is demo-only and brings @platform/tenancy: loaded here, not at start-up.
    const { recordDelivery } = await import("./picture.ts");
    const delivery = recordDelivery(cli);
    await demoBuildScan(example, cli);
    await demoBump(example, cli);
    await demoCanary(cli);
    await demoSign(cli);
    await demoUpgrade(example, cli);
    await delivery.picture(example);
    cli.done(ExitCode.ok);
  });
}
