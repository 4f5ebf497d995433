// The judges of a corpus case: the anchor (the real `notation verify` / `cosign verify`), our library
// (verifyImage) and our bundled action (actions/verify/dist run as GitHub runs it).
import { execFile } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { PlatformError } from "@platform/core";
import type { RegistryClient } from "@platform/oci";
import {
  loadTrustStore,
  parseTrustPolicy,
  type VerifyCheckName,
  type VerifyOptions,
  verifyImage,
} from "@platform/signing";
import { runBundledAction } from "../../harness/run-action.ts";
import type { BuiltCase, Case } from "./corpus.ts";

const run = promisify(execFile);

export interface Verdict {
  accepted: boolean;
  /** The tool's message (anchor) or our reasons / error code and message. */
  message: string;
  /** Our PlatformError code when the library threw one. */
  code?: string;
}

const oneLine = (s: string, max = 600) => {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
};

/** The lines of a tool's output that carry its verdict and why (notation --verbose logs every step). */
function distil(out: string): string {
  const lines = out
    .split("\n")
    .filter((l) => /error|fail|invalid|success|verified|warn/i.test(l) && !/level=info/.test(l));
  return oneLine((lines.length ? lines : [out]).join(" | "), 1500);
}

/** Runs the anchor tool for a case; never throws for a rejection. */
export async function anchorVerdict(
  c: Case,
  built: BuiltCase,
  bin: Record<string, string>,
  home: string,
): Promise<Verdict> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: home };
  let file: string;
  let args: string[];
  if (c.anchor === "notation") {
    file = bin.notation!;
    args = ["verify", "--insecure-registry", "--verbose", built.ref];
    env.XDG_CONFIG_HOME = built.xdg!;
  } else {
    file = bin.cosign!;
    args = ["verify", "--key", built.cosign!.pubFile, "--insecure-ignore-tlog=true", "--allow-http-registry"];
    if (built.cosign!.legacy) args.push("--new-bundle-format=false");
    args.push(built.ref);
  }
  try {
    const { stdout, stderr } = await run(file, args, { env, timeout: 60_000 });
    return { accepted: true, message: distil(stdout + stderr) };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message?: string };
    return { accepted: false, message: distil(`${e.stdout ?? ""}${e.stderr ?? ""}` || String(e.message)) };
  }
}

/** Our library verdict; `disabled` switches checks off (mutation testing). */
export async function libraryVerdict(
  built: BuiltCase,
  client: RegistryClient,
  disabled?: ReadonlySet<VerifyCheckName>,
): Promise<Verdict> {
  try {
    const opts: VerifyOptions = { imageRef: built.ref, client, disabledChecks: disabled };
    if (built.xdg) {
      const file = join(built.xdg, "notation", "trustpolicy.json");
      opts.notation = {
        policy: parseTrustPolicy(await readFile(file, "utf8"), file, { disabledChecks: disabled }),
        store: await loadTrustStore(join(built.xdg, "notation", "truststore")),
      };
    }
    if (built.cosign) {
      opts.cosignKeys = [
        { name: "cosign.pub", key: createPublicKey(await readFile(built.cosign.pubFile, "utf8")) },
      ];
    }
    const r = await verifyImage(opts);
    const detail = r.checks.filter((k) => !k.ok && k.reason).map((k) => `[${k.format}] ${k.reason}`);
    return { accepted: r.verified, message: oneLine([...r.reasons, ...detail].join(" | ")) };
  } catch (err) {
    if (err instanceof PlatformError) {
      return { accepted: false, code: err.code, message: oneLine(`${err.code}: ${err.message}`) };
    }
    // Not a PlatformError: a crash, which is a rejection but not a reason (the case's cause check fails).
    return { accepted: false, code: "UNEXPECTED", message: oneLine(`UNEXPECTED ${String(err)}`) };
  }
}

/** The bundled verify action over the case folder as its workspace. */
export async function actionVerdict(built: BuiltCase, workspace: string): Promise<Verdict> {
  const inputs: Record<string, string> = { "image-ref": built.ref };
  if (built.xdg) {
    inputs["trust-policy"] = relative(workspace, join(built.xdg, "notation", "trustpolicy.json"));
    inputs["trust-store"] = relative(workspace, join(built.xdg, "notation", "truststore"));
  }
  if (built.cosign) inputs["cosign-key"] = relative(workspace, built.cosign.pubFile);
  const r = await runBundledAction("verify", inputs, { workspace });
  const said = r.annotations.map((a) => `${a.title ? `${a.title}: ` : ""}${a.message}`).join(" | ");
  return {
    accepted: r.code === 0 && r.outputs.verified === "true",
    message: oneLine(said || r.stdout + r.stderr),
  };
}
