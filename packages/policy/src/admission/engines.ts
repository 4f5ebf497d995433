import type { Logger } from "@platform/core/log";
import type { CelEngine } from "../cel/engine.ts";
import { compileRegoTemplates, type RegoCompileOptions, regoSource } from "../gatekeeper/rego.ts";
import {
  type ConstraintTemplateDoc,
  gatekeeperCel,
  type TemplateEngine,
  templateKind,
} from "./gatekeeper.ts";

/** Compiles Rego-only templates; absent when Rego support is not wanted (templates are then reported as not evaluable). */
export type RegoCompiler = (templates: Array<{ kind: string; rego: string; libs: string[] }>) => Promise<
  Map<
    string,
    | {
        ok: true;
        run: (
          input: { review: unknown; parameters: unknown },
          data: { inventory: unknown },
        ) => Array<{ msg: string }>;
      }
    | { ok: false; reason: string }
  >
>;

/**
 * Chooses the engine per template as Gatekeeper ≥3.18 does: the CEL (K8sNativeValidation) code when the
 * template has it, otherwise its Rego through OPA; a template neither can run says why.
 */
export async function templateEngines(
  templates: ConstraintTemplateDoc[],
  engine: CelEngine,
  rego: RegoCompiler | undefined,
  log?: Logger,
): Promise<Map<string, TemplateEngine>> {
  const out = new Map<string, TemplateEngine>();
  const regoOnly: Array<{ kind: string; rego: string; libs: string[] }> = [];
  for (const t of templates) {
    const kind = templateKind(t);
    const cel = gatekeeperCel(t, engine);
    if (cel) {
      out.set(kind, { engine: "cel", validation: cel });
      continue;
    }
    const src = regoSource(t.obj);
    if (!src)
      out.set(kind, {
        engine: "none",
        reason: `template ${kind} has neither K8sNativeValidation nor Rego code`,
      });
    else regoOnly.push({ kind, rego: src.rego, libs: src.libs ?? [] });
  }
  if (regoOnly.length) {
    if (!rego) {
      for (const r of regoOnly)
        out.set(r.kind, {
          engine: "none",
          reason: `template ${r.kind} has only Rego code and Rego evaluation is not available in this build`,
        });
    } else {
      log?.info(`compiling ${regoOnly.length} Rego-only template(s) with OPA`);
      const compiled = await rego(regoOnly);
      for (const r of regoOnly) {
        const c = compiled.get(r.kind);
        out.set(
          r.kind,
          c?.ok
            ? { engine: "rego", run: c.run }
            : { engine: "none", reason: c && !c.ok ? c.reason : `template ${r.kind} was not compiled` },
        );
      }
    }
  }
  return out;
}

/** Rego through OPA compiled to WebAssembly: the `opa` CLI builds (cached on disk), opa-wasm evaluates in-process. */
export function opaRegoCompiler(opts: RegoCompileOptions): RegoCompiler {
  return async (templates) => {
    const compiled = await compileRegoTemplates(templates, opts);
    const out: Awaited<ReturnType<RegoCompiler>> = new Map();
    for (const [kind, c] of compiled) {
      out.set(
        kind,
        c.ok
          ? { ok: true, run: (input, data) => c.program.evaluate(input, data) }
          : { ok: false, reason: `${c.reason} (${c.hint})` },
      );
    }
    return out;
  };
}
