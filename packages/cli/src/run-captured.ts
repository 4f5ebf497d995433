import { type CliIo, main } from "./main.ts";

/** Runs the CLI in-process with its output captured (for tests of the command doors). */
export async function runCaptured(
  argv: string[],
  cwd: string,
  env: Record<string, string> = {},
  extra: Partial<CliIo> = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    env,
    cwd,
    ...extra,
  });
  return { code, out, err };
}
