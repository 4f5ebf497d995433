import { appendFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Logger } from "@platform/core";
import { ExitCode, PlatformError } from "@platform/core/errors";
import { type Command, Option } from "commander";
import { examples, withOutput, withRoot } from "./cli.ts";

/** What `platform dr` needs from the CLI (a subset of every command family's context). */
export interface DrIo {
  out: (s: string) => void;
  log: Logger;
  env: NodeJS.ProcessEnv;
  cwd: string;
  done: (code: number) => void;
}

interface DrillOptions {
  plan?: boolean;
  apply?: boolean;
  config: string;
  state: string;
  report?: string;
  summary?: string;
  armEndpoint?: string;
  authorityHost?: string;
  root?: string;
  json?: boolean;
}

// @platform/dr (the Azure pipeline and poller) loads when a drill runs, not at CLI start-up.
const dr = () => import("@platform/dr");

/** `platform dr drill`: prints the failover plan, or runs it through ARM and reports the RTO per step. */
export async function runDrDrill(o: DrillOptions, io: DrIo): Promise<number> {
  if (o.plan && o.apply) {
    throw new PlatformError("DR_MODE", "give --plan or --apply, not both", {
      input: "apply",
      hint: "Run --plan to review the steps, then --apply to run them.",
    });
  }
  const { planDrill, planText, createArmClient, fileStateStore, runDrill, resultTable, resultMarkdown } =
    await dr();
  const root = resolve(io.cwd, o.root ?? ".");
  const { loadConfig, writeFileAtomic } = await import("@platform/core");
  const { lazyAzureCredential } = await import("@platform/azure");
  const { config } = await loadConfig(resolve(root, o.config), { explicit: true });
  const plan = planDrill(config.dr);
  if (!o.apply) {
    io.out(o.json ? `${JSON.stringify(plan, null, 2)}\n` : planText(plan));
    return ExitCode.ok;
  }
  // Signs in on the first ARM request; the token stays in the pipeline and the logger's masker.
  const credential = lazyAzureCredential({ env: io.env, log: io.log, authorityHost: o.authorityHost });
  const arm = createArmClient(credential, { armEndpoint: o.armEndpoint, log: io.log });
  const result = await runDrill(plan, {
    arm,
    state: fileStateStore(resolve(root, o.state)),
    log: io.log,
    onStep: (step, phase, detail) => io.log.info(`${step}: ${phase}${detail ? ` — ${detail}` : ""}`),
  });
  if (o.report) {
    await writeFileAtomic(resolve(root, o.report), `${JSON.stringify(result, null, 2)}\n`, {
      input: "report",
    });
  }
  const summary = o.summary ?? io.env.GITHUB_STEP_SUMMARY;
  if (summary) await appendFile(resolve(root, summary), `${resultMarkdown(result, plan)}\n`);
  io.out(o.json ? `${JSON.stringify(result, null, 2)}\n` : resultTable(result));
  // A failover that did not make it (a step failed or ran over) is a verdict; Azure refusing or unreachable is not.
  if (result.status === "succeeded") return ExitCode.ok;
  const category = result.failed?.category ?? "verdict";
  return category === "verdict"
    ? ExitCode.verdict
    : category === "usage"
      ? ExitCode.usage
      : ExitCode.environment;
}

/** Registers `platform dr drill`. */
export function registerDr(program: Command, io: DrIo): void {
  const cmd = program.command("dr").description("disaster-recovery game days on the warm standby");
  const drill = cmd
    .command("drill")
    .description(
      "fail over to the standby region: Front Door priorities, Flux resume, Kustomizations Ready, ACR replica",
    )
    .option("--plan", "print the ordered steps with their ARM calls and RTO budgets (the default)")
    .option("--apply", "run the steps through ARM, resumable from --state, and report the measured RTO")
    .addOption(
      new Option("--config <file>", "platform.yaml with the dr section (default: ./platform.yaml)").default(
        "platform.yaml",
        "",
      ),
    )
    .option(
      "--state <file>",
      "resume state of --apply: a re-run continues where it stopped",
      "dr-drill-state.json",
    )
    .option("--report <file>", "write the result JSON here")
    .option("--summary <file>", "append the Markdown report here (default: $GITHUB_STEP_SUMMARY when set)")
    .option("--arm-endpoint <url>", "Azure Resource Manager endpoint (sovereign clouds)")
    .option("--authority-host <url>", "Microsoft Entra authority host (sovereign clouds)");
  examples(
    withOutput(withRoot(drill), "the plan or the result"),
    "$ platform dr drill --plan --config examples/northwind/platform.yaml",
    "$ platform dr drill --apply --state dr-drill-state.json --report dr-drill.json   # re-run to resume",
  ).action(async (o: DrillOptions) => io.done(await runDrDrill(o, io)));
}
