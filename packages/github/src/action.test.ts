import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PlatformError } from "@platform/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { type ActionContext, type ActionDefinition, type ActionOutcome, runAction } from "./action.ts";
import { enumInput, optionalString, requiredString, summaryInput } from "./inputs.ts";
import type { CamelKeys } from "./raw-inputs.ts";

const TOKEN = "ghs_Sup3rS3cretT0kenValue42";
const TOKEN_B64 = Buffer.from(TOKEN).toString("base64");

const inputs = z.object({
  manifests: z.string(),
  "fail-on": enumInput(["critical", "high"], "high"),
  token: optionalString(),
});

interface Run {
  code: number;
  stdout: string;
  commands: Array<{ name: string; props: Record<string, string>; message: string }>;
  outputs: Record<string, string>;
  summary: string;
}

let dir: string;
let savedEnv: NodeJS.ProcessEnv;
let savedExitCode: typeof process.exitCode;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "platform-action-"));
  savedEnv = { ...process.env };
  savedExitCode = process.exitCode;
});

afterEach(async () => {
  vi.restoreAllMocks();
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
  process.exitCode = savedExitCode;
  await rm(dir, { recursive: true, force: true });
});

/** Undoes the runner's escaping of workflow command data and properties. */
function unescapeCommand(s: string): string {
  return s
    .replace(/%0D/g, "\r")
    .replace(/%0A/g, "\n")
    .replace(/%3A/g, ":")
    .replace(/%2C/g, ",")
    .replace(/%25/g, "%");
}

function parseCommands(stdout: string): Run["commands"] {
  const out: Run["commands"] = [];
  for (const line of stdout.split("\n")) {
    const m = /^::([a-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!m) continue;
    const props: Record<string, string> = {};
    for (const kv of (m[2] ?? "").split(",").filter(Boolean)) {
      const i = kv.indexOf("=");
      props[kv.slice(0, i)] = unescapeCommand(kv.slice(i + 1));
    }
    out.push({ name: m[1]!, props, message: unescapeCommand(m[3]!) });
  }
  return out;
}

/** Parses GITHUB_OUTPUT's `name<<delimiter` heredoc blocks, checking each block is well formed. */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === "") continue;
    const m = /^([^<]+)<<(ghadelimiter_[0-9a-f-]+)$/.exec(lines[i]!);
    if (!m) throw new Error(`malformed GITHUB_OUTPUT line ${i + 1}: ${lines[i]}`);
    const end = lines.indexOf(m[2]!, i + 1);
    if (end < 0) throw new Error(`unterminated output ${m[1]}`);
    out[m[1]!] = lines.slice(i + 1, end).join("\n");
    i = end;
  }
  return out;
}

/** Runs an action in-process the way the runner would: INPUT_* and file commands in process.env. */
async function run<S extends z.ZodObject>(
  def: ActionDefinition<S>,
  rawInputs: Record<string, string>,
  extraEnv: Record<string, string> = {},
): Promise<Run> {
  const outputFile = join(dir, "output.txt");
  const summaryFile = join(dir, "summary.md");
  await writeFile(outputFile, "");
  await writeFile(summaryFile, "");
  for (const k of Object.keys(process.env)) if (k.startsWith("INPUT_")) delete process.env[k];
  Object.assign(process.env, {
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_WORKSPACE: dir,
    RUNNER_TEMP: join(dir, "tmp"),
    GITHUB_REPOSITORY: "northwind/shop",
    GITHUB_RUN_ID: "1234",
    GITHUB_SHA: "0123abcd",
    GITHUB_SERVER_URL: "https://github.example.com",
    ...extraEnv,
  });
  for (const [k, v] of Object.entries(rawInputs)) process.env[`INPUT_${k.toUpperCase()}`] = v;

  const chunks: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return true;
  });
  let code: number;
  try {
    code = await runAction(def, process.env);
  } finally {
    vi.mocked(process.stdout.write).mockRestore();
  }
  const stdout = chunks.join("");
  return {
    code,
    stdout,
    commands: parseCommands(stdout),
    outputs: parseOutputs(await readFile(outputFile, "utf8")),
    summary: await readFile(summaryFile, "utf8").catch(() => ""),
  };
}

function define(
  body: (i: CamelKeys<z.output<typeof inputs>>, ctx: ActionContext) => Promise<ActionOutcome>,
): ActionDefinition<typeof inputs> {
  return { name: "policy-dry-run", inputs, secretInputs: ["token"], run: body };
}

describe("runAction", () => {
  it("passes typed camelCase inputs and run facts, writes outputs, result and summary", async () => {
    let seen: { inputs: unknown; ctx: ActionContext } | undefined;
    const r = await run(
      define(async (i, ctx) => {
        seen = { inputs: i, ctx };
        ctx.summary.heading("Policy dry-run: passed", 2, 0).table(["rule", "count"], [["no-latest", 0]]);
        return {
          outputs: { violations: 0, "sarif-file": "out.sarif", passed: true, multi: "line one\nline two" },
          result: { passed: true, counts: { fail: 0 } },
        };
      }),
      { manifests: "k8s/", "FAIL-ON": "critical" },
    );
    expect(r.code).toBe(0);
    expect(process.exitCode ?? 0).toBe(0);
    expect(seen!.inputs).toEqual({ manifests: "k8s/", failOn: "critical", token: undefined });
    expect(seen!.ctx.workspace).toBe(dir);
    expect(seen!.ctx.runnerTemp).toBe(join(dir, "tmp"));
    expect(seen!.ctx.github).toMatchObject({
      repository: "northwind/shop",
      runId: "1234",
      sha: "0123abcd",
      runUrl: "https://github.example.com/northwind/shop/actions/runs/1234",
    });
    expect(r.outputs).toEqual({
      violations: "0",
      "sarif-file": "out.sarif",
      passed: "true",
      multi: "line one\nline two",
      result: JSON.stringify({ passed: true, counts: { fail: 0 } }),
    });
    expect(JSON.parse(r.outputs.result!)).toEqual({ passed: true, counts: { fail: 0 } });
    expect(r.summary).toContain("## Policy dry-run: passed");
    expect(r.summary).toContain("| no-latest | 0 |");
    expect(r.commands.filter((c) => c.name === "error")).toEqual([]);
  });

  it("appends to an existing step summary rather than replacing it", async () => {
    const summaryFile = join(dir, "summary.md");
    const def = define(async (_, ctx) => {
      ctx.summary.paragraph("ours");
      return { outputs: {}, result: null };
    });
    const first = await run(def, { manifests: "x" });
    expect(first.summary).toContain("ours");
    await writeFile(summaryFile, "earlier step\n");
    process.env.INPUT_MANIFESTS = "x";
    vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    await runAction(def, process.env);
    expect(await readFile(summaryFile, "utf8")).toBe("earlier step\nours\n");
  });

  it("writes no job summary with summary: false, also when the run fails; outputs are still set", async () => {
    const def = define(async (_, ctx) => {
      ctx.summary.verdict("pass", "Policy dry-run passed");
      return { outputs: { violations: 0 }, result: null };
    });
    const off = await run(def, { manifests: "x", summary: "false" });
    expect(off.code).toBe(0);
    expect(off.summary).toBe("");
    expect(off.outputs.violations).toBe("0");
    const failed = await run(def, { manifests: "x", "fail-on": "nope", summary: "False" });
    expect(failed.code).toBe(1);
    expect(failed.summary).toBe("");
    const on = await run(def, { manifests: "x", summary: "true" });
    expect(on.summary).toBe("## ✅ Policy dry-run passed\n");
    const bad = await run(def, { manifests: "x", summary: "no" });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/input "summary" must be true or false/);
    expect(bad.summary).toMatch(/^## ❌ policy-dry-run failed/);
  });

  it("emits annotations with file, line and column", async () => {
    const r = await run(
      define(async (_, ctx) => {
        ctx.annotate({
          level: "warning",
          message: "uses :latest",
          title: "no-latest",
          file: "k8s/a.yaml",
          line: 7,
          column: 14,
        });
        ctx.annotate({ level: "notice", message: "fyi" });
        return { outputs: {}, result: {} };
      }),
      { manifests: "x" },
    );
    expect(r.code).toBe(0);
    expect(r.commands).toContainEqual({
      name: "warning",
      props: { title: "no-latest", file: "k8s/a.yaml", line: "7", col: "14" },
      message: "uses :latest",
    });
    expect(r.commands).toContainEqual({ name: "notice", props: {}, message: "fyi" });
  });

  it("caps annotations per level and says how many it left out", async () => {
    const r = await run(
      define(async (_, ctx) => {
        for (let i = 0; i < 60; i++) ctx.annotate({ level: "error", message: `finding ${i}` });
        return { outputs: {}, result: {} };
      }),
      { manifests: "x" },
    );
    expect(r.commands.filter((c) => c.name === "error")).toHaveLength(50);
    expect(r.stdout).toContain("10 more error annotation(s) not shown");
  });

  it("turns a verdict into exit code 1 after writing outputs and summary, with an error at file:line", async () => {
    const r = await run(
      define(async (_, ctx) => {
        ctx.summary.heading("Policy dry-run: failed", 2, 0);
        return {
          outputs: { violations: 2 },
          result: { passed: false },
          failure: new PlatformError("POLICY_VIOLATIONS", "2 violation(s)", {
            category: "verdict",
            file: "k8s/deploy.yaml",
            line: 12,
            hint: "Fix the manifests or add a waiver.",
          }),
        };
      }),
      { manifests: "x" },
    );
    expect(r.code).toBe(1);
    expect(process.exitCode).toBe(1);
    expect(r.outputs.violations).toBe("2");
    expect(JSON.parse(r.outputs.result!)).toEqual({ passed: false });
    expect(r.summary).toContain("Policy dry-run: failed");
    expect(r.commands).toContainEqual({
      name: "error",
      props: { title: "POLICY_VIOLATIONS", file: "k8s/deploy.yaml", line: "12" },
      message: "2 violation(s)",
    });
    // Exactly one error annotation for the failure (setFailed would add a second, without file/line).
    expect(r.commands.filter((c) => c.name === "error")).toHaveLength(1);
    expect(r.stdout).toContain("hint: Fix the manifests or add a waiver.");
  });

  it("fails with the input named when an input is invalid, and never calls run", async () => {
    const body = vi.fn(async () => ({ outputs: {}, result: {} }));
    const r = await run(define(body), { manifests: "x", "FAIL-ON": "severe" });
    expect(r.code).toBe(1);
    expect(body).not.toHaveBeenCalled();
    const error = r.commands.find((c) => c.name === "error" && c.props.title === "INPUT_INVALID");
    expect(error?.message).toBe(
      'input "fail-on" must be one of: critical, high (got "severe") (input: fail-on)',
    );
    expect(r.summary).toContain("policy-dry-run failed");
    expect(r.summary).toContain("fail-on");
    expect(r.outputs).toEqual({});
  });

  it("turns an unknown throw into setFailed, with the stack only in debug output", async () => {
    const r = await run(
      define(async () => {
        throw new TypeError("cannot read properties of undefined");
      }),
      { manifests: "x" },
    );
    expect(r.code).toBe(1);
    expect(process.exitCode).toBe(1);
    expect(r.commands).toContainEqual({
      name: "error",
      props: {},
      message: "unexpected error: cannot read properties of undefined",
    });
    const debug = r.commands.filter((c) => c.name === "debug").map((c) => c.message);
    expect(debug.join("\n")).toContain("TypeError: cannot read properties of undefined\n    at ");
    expect(r.summary).toContain("cannot read properties of undefined");
  });

  it("turns a thrown non-Error into a failure too", async () => {
    const r = await run(
      define(async () => {
        throw "plain string";
      }),
      { manifests: "x" },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("::error::unexpected error: plain string");
  });

  it("keeps going when the summary cannot be written, with a warning", async () => {
    const notAFile = join(dir, "summary-dir");
    await mkdir(notAFile);
    const r = await run(
      define(async (_, ctx) => {
        ctx.summary.paragraph("x");
        return { outputs: { a: 1 }, result: {} };
      }),
      { manifests: "x" },
      { GITHUB_STEP_SUMMARY: notAFile },
    );
    expect(r.code).toBe(0);
    expect(r.outputs.a).toBe("1");
    expect(
      r.commands.some((c) => c.name === "warning" && c.message.startsWith("could not write the job summary")),
    ).toBe(true);
  });

  describe("secret inputs", () => {
    const leaky = define(async (i, ctx) => {
      const token = String(i.token);
      ctx.log.debug(`debug ${token}`);
      ctx.log.info(`info ${token}`);
      ctx.log.warn(`warn ${token}`);
      ctx.log.error(`error ${Buffer.from(token).toString("base64")}`);
      ctx.log.info(`basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`);
      ctx.log.info(`url https://x.example/?t=${encodeURIComponent(token)}`);
      ctx.annotate({ level: "warning", message: `annotated ${token}`, title: "t" });
      ctx.summary.paragraph(`summary ${token}`).table(["k"], [[token], [{ raw: `raw ${token}` }]]);
      return {
        outputs: { echoed: token },
        result: { token },
        failure: new PlatformError("GATE", `failed with ${token}`, {
          category: "verdict",
          hint: `hint ${token}`,
        }),
      };
    });

    function expectNoLeak(r: Run, secret: string) {
      const forms = [secret, Buffer.from(secret).toString("base64"), encodeURIComponent(secret)];
      const visible = r.stdout
        .split("\n")
        .filter((l) => !l.startsWith("::add-mask::"))
        .join("\n");
      for (const form of forms) {
        expect(visible).not.toContain(form);
        expect(r.summary).not.toContain(form);
        expect(JSON.stringify(r.outputs)).not.toContain(form);
      }
      // And the middle of the secret does not survive in plain text either.
      expect(visible + r.summary + JSON.stringify(r.outputs)).not.toContain(secret.slice(4, -4));
    }

    it("registers the secret (and its encodings) with ::add-mask:: before anything else is printed", async () => {
      const r = await run(leaky, { manifests: "x", token: TOKEN }, { RUNNER_DEBUG: "1" });
      const masks = r.commands.filter((c) => c.name === "add-mask").map((c) => c.message);
      expect(masks).toContain(TOKEN);
      expect(masks).toContain(TOKEN_B64);
      expect(masks).toContain(encodeURIComponent(TOKEN));
      const firstOther = r.stdout.split("\n").findIndex((l) => l !== "" && !l.startsWith("::add-mask::"));
      const lastMask = r.stdout.split("\n").findLastIndex((l) => l.startsWith("::add-mask::"));
      expect(lastMask).toBeLessThan(firstOther);
    });

    it("never shows the secret in logs, annotations, outputs, result, errors or the summary", async () => {
      const r = await run(leaky, { manifests: "x", token: TOKEN }, { RUNNER_DEBUG: "1" });
      expect(r.code).toBe(1);
      // The run really did print all of those things, masked.
      expect(r.stdout).toContain("info ***");
      expect(r.stdout).toContain("::debug::debug ***");
      expect(r.stdout).toContain("::warning title=t::annotated ***");
      expect(r.stdout).toContain("::error title=GATE::failed with ***");
      expect(r.stdout).toContain("hint: hint ***");
      expect(r.outputs.echoed).toBe("***");
      expect(JSON.parse(r.outputs.result!)).toEqual({ token: "***" });
      expect(r.summary).toContain("summary ***");
      expect(r.summary).toContain("raw ***");
      expectNoLeak(r, TOKEN);
    });

    it("masks a secret thrown in an error message, with its stack", async () => {
      const r = await run(
        define(async (i) => {
          throw new Error(`auth failed for ${i.token}`);
        }),
        { manifests: "x", token: TOKEN },
        { RUNNER_DEBUG: "1" },
      );
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("unexpected error: auth failed for ***");
      expectNoLeak(r, TOKEN);
    });

    it("masks a secret input that is itself invalid", async () => {
      const strict = z.object({ token: z.string().regex(/^ghp_/, "must be a classic PAT") });
      const r = await run(
        {
          name: "x",
          inputs: strict,
          secretInputs: ["token"],
          run: async () => ({ outputs: {}, result: {} }),
        },
        { token: TOKEN },
      );
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("must be a classic PAT");
      expectNoLeak(r, TOKEN);
    });

    it("masks the trimmed value the run receives when the input has surrounding whitespace", async () => {
      const r = await run(leaky, { manifests: "x", token: `  ${TOKEN}\n` });
      expect(r.outputs.echoed).toBe("***");
      expectNoLeak(r, TOKEN);
    });

    it("registers nothing for an unset or empty secret input", async () => {
      const quiet = define(async () => ({ outputs: {}, result: {} }));
      expect((await run(quiet, { manifests: "x" })).commands.filter((c) => c.name === "add-mask")).toEqual(
        [],
      );
      expect(
        (await run(quiet, { manifests: "x", token: "" })).commands.filter((c) => c.name === "add-mask"),
      ).toEqual([]);
    });

    it("masks secrets the run registers itself through ctx.log.secret", async () => {
      const minted = "eyJhbGciOiJSUzI1NiJ9.minted-token-payload.sig";
      const r = await run(
        define(async (_, ctx) => {
          ctx.log.info(`got ${ctx.log.secret(minted)}`);
          return { outputs: { t: minted }, result: {} };
        }),
        { manifests: "x" },
      );
      expect(r.commands.filter((c) => c.name === "add-mask").map((c) => c.message)).toContain(minted);
      expect(r.stdout).toContain("got ***");
      expectNoLeak(r, minted);
    });
  });

  describe("required inputs and prechecks, before the schema loads", () => {
    const lazyInputs = z.object({
      "image-ref": requiredString("the image to sign, by digest"),
      key: requiredString("a key"),
      mode: enumInput(["plan", "apply"], "plan"),
      summary: summaryInput(),
    });
    const required = { "image-ref": "the image to sign, by digest", key: "a key" } as const;
    const lazy = (extra: Partial<ActionDefinition<typeof lazyInputs>> = {}) => {
      const load = vi.fn(async () => lazyInputs);
      const body = vi.fn(async (_i: unknown, _ctx: ActionContext) => ({
        outputs: { ok: "yes" },
        result: {},
      }));
      return { load, body, def: { name: "sign", inputs: load, required, run: body, ...extra } };
    };
    const inputErrors = (r: Run) => r.commands.filter((c) => c.name === "error").map((c) => c.message);

    it.each<[string, Record<string, string>, string]>([
      ["unset", {}, "image-ref"],
      ["empty", { "IMAGE-REF": "" }, "image-ref"],
      ["blank", { "IMAGE-REF": "  ", KEY: "k" }, "image-ref"],
      ["the second one unset", { "IMAGE-REF": "example.io/app@sha256:ab" }, "key"],
    ])(
      "a required input %s fails before the schema loads, with the schema's own message",
      async (_, raw, name) => {
        const { load, body, def } = lazy();
        const r = await run(def, raw);
        expect(r.code).toBe(1);
        expect(load).not.toHaveBeenCalled();
        expect(body).not.toHaveBeenCalled();
        // The schema, given the same inputs, says the same.
        const eager = await run({ ...def, inputs: lazyInputs, required: undefined }, raw);
        expect(inputErrors(r)).toEqual(inputErrors(eager));
        expect(inputErrors(r)).toHaveLength(1);
        expect(inputErrors(r)[0]).toMatch(new RegExp(`^input "${name}" is required`));
        expect(r.summary).toContain("sign failed");
      },
    );

    it("loads the schema once the required inputs are given, and validates every input with it", async () => {
      const { load, body, def } = lazy();
      const ok = await run(def, { "IMAGE-REF": " example.io/app@sha256:ab ", KEY: "k" });
      expect(ok.code).toBe(0);
      expect(load).toHaveBeenCalledOnce();
      expect(body.mock.calls[0]?.[0]).toMatchObject({ imageRef: "example.io/app@sha256:ab", mode: "plan" });
      expect(ok.outputs.ok).toBe("yes");
      const bad = await run(def, { "IMAGE-REF": "x", KEY: "k", MODE: "destroy" });
      expect(bad.code).toBe(1);
      expect(inputErrors(bad)).toEqual([
        'input "mode" must be one of: plan, apply (got "destroy") (input: mode)',
      ]);
    });

    it("runs the precheck on trimmed raw values (undefined when blank) after the required inputs", async () => {
      const seen: Array<string | undefined> = [];
      const { load, def } = lazy({
        precheck(given) {
          seen.push(given("mode"), given("key"));
          if (given("mode") !== "plan") throw new PlatformError("NOT_PLAN", "only plan");
        },
      });
      const r = await run(def, { "IMAGE-REF": "x", KEY: "   ", MODE: " apply " });
      // A blank required input is reported first; the precheck never ran.
      expect(seen).toEqual([]);
      expect(inputErrors(r)).toEqual(['input "key" is required (got "   ") (input: key)']);
      const p = await run(def, { "IMAGE-REF": "x", KEY: "k", MODE: " apply " });
      expect(seen).toEqual(["apply", "k"]);
      expect(p.code).toBe(1);
      expect(load).not.toHaveBeenCalled();
      expect(p.commands.find((c) => c.name === "error")?.props.title).toBe("NOT_PLAN");
    });

    it("reads summary: false before anything else, and refuses a summary value that is not a boolean", async () => {
      const { def } = lazy();
      const off = await run(def, { SUMMARY: " False " });
      expect(off.code).toBe(1);
      expect(off.summary).toBe("");
      const bad = await run(def, { SUMMARY: "no", "IMAGE-REF": "x", KEY: "k" });
      const eager = await run(
        { ...def, inputs: lazyInputs, required: undefined },
        { SUMMARY: "no", "IMAGE-REF": "x", KEY: "k" },
      );
      expect(inputErrors(bad)).toEqual(['input "summary" must be true or false (got "no") (input: summary)']);
      expect(inputErrors(eager)).toEqual(inputErrors(bad));
    });
  });
});
