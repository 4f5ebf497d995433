// What every action's main.ts runs (`@platform/github/action`). Its imports are the start-up of each action: they
// load no zod (types only), no config loader and no YAML parser; the input schema and the run's code load after
// the required inputs are checked (issue 18).
import { appendFileSync } from "node:fs";
import * as core from "@actions/core";
import { errorMessage, PlatformError } from "@platform/core/errors";
import { createLogger, type Logger, Masker } from "@platform/core/log";
import type { z } from "zod";
import {
  type CamelKeys,
  checkRequired,
  coreBoolean,
  givenInput,
  inputEnvName,
  inputError,
  parseInputs,
  readRawInputs,
} from "./raw-inputs.ts";
import { SummaryBuilder } from "./summary.ts";

export interface Annotation {
  level: "error" | "warning" | "notice";
  message: string;
  title?: string;
  file?: string;
  line?: number;
  column?: number;
}

/** Facts about the run, as plain data (domain code never reads the environment itself). */
export interface GitHubRunInfo {
  repository?: string;
  sha?: string;
  ref?: string;
  runId?: string;
  serverUrl: string;
  eventName?: string;
  /** Link to this workflow run, when known. */
  runUrl?: string;
}

export interface ActionContext {
  log: Logger;
  workspace: string;
  runnerTemp: string;
  env: NodeJS.ProcessEnv;
  github: GitHubRunInfo;
  summary: SummaryBuilder;
  annotate(annotation: Annotation): void;
}

/** What an action's run returns: its named outputs, the `result` JSON, and an optional gate failure. */
export interface ActionOutcome {
  outputs: Record<string, string | number | boolean>;
  result: unknown;
  /** A verdict (the gate failed): outputs and summary are still written, then the step fails. */
  failure?: PlatformError;
}

export interface ActionDefinition<S extends z.ZodObject> {
  name: string;
  /**
   * The input schema, or a loader for it (main.ts: a dynamic import of inputs.ts), called once `required`
   * and `precheck` pass: a step missing an input fails before zod and the schema are parsed.
   */
  inputs: S | (() => Promise<S>);
  /**
   * Inputs a run cannot start without, each with what it is: checked on the raw values before the schema
   * loads, with the messages of the schema's `requiredString(what)` (use the same words for both).
   */
  required?: Readonly<Partial<Record<keyof z.input<S> & string, string>>>;
  /**
   * Checks on the raw inputs that need no schema (one of two inputs given, say), after `required` and before
   * the schema loads; `given(name)` is the trimmed value, or undefined when unset or blank. Throws to fail.
   */
  precheck?(given: (name: keyof z.input<S> & string) => string | undefined): void;
  /** Inputs holding secrets: masked as soon as they are read, and never echoed. */
  secretInputs?: ReadonlyArray<keyof z.input<S> & string>;
  run(inputs: CamelKeys<z.output<S>>, ctx: ActionContext): Promise<ActionOutcome>;
}

/** GitHub shows at most 10 annotations of each level per step; more only clutter the log. */
const MAX_ANNOTATIONS_PER_LEVEL = 50;

/** Runs an action definition against an environment, as the GitHub runner would; never exits the process. */
export async function runAction<S extends z.ZodObject>(
  def: ActionDefinition<S>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const masker = new Masker();
  masker.onAdd((s) => core.setSecret(s));
  const debug = env.RUNNER_DEBUG === "1" || env.ACTIONS_STEP_DEBUG === "true";
  const log = createLogger(
    {
      write(level, line) {
        if (level === "debug") core.debug(line);
        else if (level === "warn") core.warning(line);
        else if (level === "error") core.error(line);
        else core.info(line);
      },
    },
    masker,
  );
  const summary = new SummaryBuilder();
  const counts = { error: 0, warning: 0, notice: 0 };
  const annotate = (a: Annotation) => {
    counts[a.level]++;
    if (counts[a.level] > MAX_ANNOTATIONS_PER_LEVEL) return;
    const props = { title: a.title, file: a.file, startLine: a.line, startColumn: a.column };
    const msg = masker.mask(a.message);
    if (a.level === "error") core.error(msg, props);
    else if (a.level === "warning") core.warning(msg, props);
    else core.notice(msg, props);
  };
  for (const name of def.secretInputs ?? []) {
    const raw = env[inputEnvName(name)];
    masker.add(raw);
    // The schema trims inputs, so the value the run sees is the trimmed one.
    masker.add(raw?.trim());
  }

  let code = 0;
  let writeSummary = true;
  try {
    // Read first and on its own, so that `summary: false` holds even when another input is invalid
    // (summaryInput's rule, without the schema).
    const summarySwitch = env[inputEnvName("summary")];
    const summaryOn = coreBoolean(summarySwitch, true);
    if (summaryOn === undefined) throw inputError("summary", "must be true or false", summarySwitch);
    writeSummary = summaryOn;
    if (def.required) checkRequired(def.required, env);
    def.precheck?.((name) => givenInput(name, env));
    const schema = typeof def.inputs === "function" ? await def.inputs() : def.inputs;
    const raw = readRawInputs(Object.keys(schema.shape), env);
    const inputs = parseInputs(schema, raw);
    const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
    const serverUrl = env.GITHUB_SERVER_URL ?? "https://github.com";
    const github: GitHubRunInfo = {
      repository: env.GITHUB_REPOSITORY,
      sha: env.GITHUB_SHA,
      ref: env.GITHUB_REF,
      runId: env.GITHUB_RUN_ID,
      serverUrl,
      eventName: env.GITHUB_EVENT_NAME,
      runUrl:
        env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
          ? `${serverUrl}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
          : undefined,
    };
    const outcome = await def.run(inputs, {
      log,
      workspace,
      runnerTemp: env.RUNNER_TEMP ?? workspace,
      env,
      github,
      summary,
      annotate,
    });
    for (const [k, v] of Object.entries(outcome.outputs)) core.setOutput(k, masker.mask(String(v)));
    core.setOutput("result", masker.mask(JSON.stringify(outcome.result)));
    if (outcome.failure) code = fail(outcome.failure, log, masker, debug);
  } catch (err) {
    code = fail(err, log, masker, debug);
    summary
      .verdict("fail", `${def.name} failed`)
      .paragraph(masker.mask(err instanceof PlatformError ? err.describe() : errorMessage(err)), 0);
  } finally {
    for (const level of ["error", "warning", "notice"] as const) {
      if (counts[level] > MAX_ANNOTATIONS_PER_LEVEL) {
        core.info(
          `${counts[level] - MAX_ANNOTATIONS_PER_LEVEL} more ${level} annotation(s) not shown; see the job summary and SARIF.`,
        );
      }
    }
    const path = env.GITHUB_STEP_SUMMARY;
    if (path && writeSummary) {
      try {
        appendFileSync(path, masker.mask(summary.render()));
      } catch (err) {
        core.warning(`could not write the job summary: ${errorMessage(err)}`);
      }
    }
  }
  process.exitCode = code;
  return code;
}

function fail(err: unknown, log: Logger, masker: Masker, debug: boolean): number {
  if (err instanceof PlatformError) {
    const where = { file: err.file, startLine: err.line, startColumn: err.column, title: err.code };
    core.error(masker.mask(`${err.message}${err.input ? ` (input: ${err.input})` : ""}`), where);
    if (err.hint) core.info(masker.mask(`hint: ${err.hint}`));
    // One annotation per failure: this is what setFailed would print, but with the file, line and code.
    process.exitCode = 1;
  } else {
    core.setFailed(masker.mask(`unexpected error: ${errorMessage(err)}`));
    if (err instanceof Error && err.stack) log.debug(err.stack);
  }
  if (debug && err instanceof Error && err.cause) log.debug(`cause: ${errorMessage(err.cause)}`);
  return 1;
}

/** Declares an action and runs it now with the process environment; `main.ts` is this one call. */
export function defineAction<S extends z.ZodObject>(def: ActionDefinition<S>): Promise<number> {
  return runAction(def, process.env);
}
