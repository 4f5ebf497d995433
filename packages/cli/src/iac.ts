import { resolve } from "node:path";
import { PlatformError } from "@platform/core/errors";
import type { CheckResult } from "@platform/iac";
import type { Command } from "commander";
import { type Cli, examples, withOutput, withRoot } from "./cli.ts";

export interface IacCheckOptions {
  parameters?: string | string[];
  env?: string;
  sarif?: string;
  summary?: string;
  root: string;
  json: boolean;
  failOnUnknown: boolean;
  color: boolean;
}

/** `platform iac check`: static Bicep checks; prints a table (or JSON), writes SARIF; returns the exit code. */
export async function runIacCheck(
  paths: string[],
  o: IacCheckOptions,
  io: { out: (s: string) => void; env: NodeJS.ProcessEnv; version: string },
): Promise<{ code: number; result: CheckResult }> {
  const { checkBicep, countFindings, isBlocking, renderIacMarkdown, renderIacTable, toIacSarif } =
    await import("@platform/iac");
  const root = resolve(o.root);
  const started = performance.now();
  const result = await checkBicep(paths, {
    root,
    ...(o.parameters?.length ? { parameters: o.parameters } : {}),
    ...(o.env ? { environment: o.env } : {}),
  });
  const ms = Math.round(performance.now() - started);
  if (result.resources.length === 0 && result.findings.length === 0)
    throw new PlatformError("IAC_NO_FILES", `no .bicep files under ${paths.join(", ")}`, {
      category: "usage",
      hint: "Pass .bicep files or folders that contain them (relative to --root).",
    });
  if (o.env && result.parameterFiles.length === 0)
    throw new PlatformError(
      "IAC_NO_PARAMETERS",
      `no parameters/${o.env}.bicepparam next to any checked main.bicep`,
      {
        category: "usage",
        input: "env",
        hint: "Pass an environment that has parameters/<env>.bicepparam beside each layer's main.bicep, or use --parameters <file>.",
      },
    );
  const blocking = result.findings.filter((f) => isBlocking(f, { failOnUnknown: o.failOnUnknown }));
  const { writeFileAtomic } = await import("@platform/core");
  if (o.sarif)
    await writeFileAtomic(
      resolve(root, o.sarif),
      `${JSON.stringify(toIacSarif(result.findings, { version: io.version }), null, 2)}\n`,
      { input: "sarif" },
    );
  // The GitHub job summary, when asked for or when running in Actions.
  const summary = o.summary ?? io.env.GITHUB_STEP_SUMMARY;
  if (summary) {
    const { appendFile } = await import("node:fs/promises");
    await appendFile(resolve(root, summary), renderIacMarkdown(result, { failOnUnknown: o.failOnUnknown }));
  }
  if (o.json) {
    io.out(
      `${JSON.stringify(
        {
          findings: result.findings,
          resources: result.resources.map((r) => ({
            type: r.type,
            apiVersion: r.apiVersion,
            name: typeof r.name === "string" ? r.name : null,
            file: r.file,
            line: r.line,
            condition: r.condition,
            existing: r.existing,
          })),
          summary: {
            passed: blocking.length === 0,
            ...(o.env ? { environment: o.env } : {}),
            parameterFiles: result.parameterFiles,
            resources: result.resources.length,
            rulesEvaluated: result.rulesEvaluated,
            ...countFindings(result.findings),
            ms,
          },
        },
        null,
        2,
      )}\n`,
    );
  } else {
    io.out(`${renderIacTable(result, { color: o.color, failOnUnknown: o.failOnUnknown })} (${ms} ms)\n`);
  }
  return { code: blocking.length === 0 ? 0 : 1, result };
}

/** Registers `iac check`. */
export function registerIac(program: Command, cli: Cli): void {
  const iac = program.command("iac").description("check infrastructure as code (Bicep) statically");
  const check = iac
    .command("check")
    .description(
      "check .bicep files (and the modules they use) against the landing zone's controls, without a Bicep compiler",
    )
    .argument("<paths...>", ".bicep files or directories")
    .option(
      "--parameters <file>",
      "a .bicepparam (applies to the file it is `using`) or ARM parameters JSON file (repeatable)",
      (v: string, p: string[] = []) => [...p, v],
      [],
    )
    .option("--env <name>", "check each <dir>/main.bicep with <dir>/parameters/<name>.bicepparam")
    .option("--sarif <file>", "write SARIF 2.1.0 here")
    .option("--summary <file>", "append a Markdown summary here (default: $GITHUB_STEP_SUMMARY)")
    .option("--fail-on-unknown", "also fail on controls that cannot be proven statically", false);
  withOutput(withRoot(check), "findings");
  examples(
    check,
    "$ platform iac check infra-bicep/",
    "$ platform iac check infra-bicep/ --env prod --sarif iac.sarif",
    "$ platform iac check main.bicep --parameters parameters/dev.bicepparam -o json",
  );
  check.action(async (paths: string[], o) => {
    const r = await runIacCheck(paths, { ...o, color: cli.color }, cli);
    cli.done(r.code);
  });
}
