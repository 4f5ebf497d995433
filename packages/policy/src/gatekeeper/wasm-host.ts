// The WebAssembly host for OPA's compiled policies: instantiates a module with our host built-ins and hands it to
// `@open-policy-agent/opa-wasm`'s LoadedPolicy for the rest of the ABI (data, input, results).
// Types only: the SDK loads with the first Rego template evaluated (built-in guardrails never need it).
import type * as opaWasm from "@open-policy-agent/opa-wasm";
import { errorMessage, PlatformError } from "@platform/core/errors";
import type { Logger } from "@platform/core/log";
import { HOST_BUILTINS } from "./builtins.ts";
import { localize } from "./compile.ts";
import { field, type RegoProgram, type RegoViolation } from "./types.ts";

/** One instantiated module, shared by the templates compiled into it. */
export interface PolicyInstance {
  policy: LoadedPolicy;
  /** Built-ins the module calls out for that are implemented neither by OPA's wasm runtime nor here. */
  missingBuiltins: string[];
  /** The inventory last loaded with setData; loading is the costly part, so it happens only on change. */
  inventory: unknown;
}

const NO_DATA = Symbol("no data");

/** The program of one entrypoint (`<pkg>/violation`) of an instantiated module. */
export function program(instance: PolicyInstance, entrypoint: string, who: string): RegoProgram {
  return {
    evaluate(input, data) {
      try {
        const inventory = data?.inventory ?? NO_DATA;
        if (instance.inventory !== inventory) {
          instance.policy.setData(jsonBuffer(inventory === NO_DATA ? {} : { inventory }));
          instance.inventory = inventory;
        }
        const rs: unknown = instance.policy.evaluate(
          jsonBuffer({ review: input.review, parameters: input.parameters ?? {} }),
          entrypoint,
        );
        const set = Array.isArray(rs) ? field(rs[0], "result") : undefined;
        const violations: RegoViolation[] = [];
        for (const r of Array.isArray(set) ? set : []) {
          const msg = field(r, "msg");
          if (msg === undefined) continue;
          violations.push({
            msg: typeof msg === "string" ? msg : JSON.stringify(msg),
            details: field(r, "details") ?? {},
          });
        }
        return violations;
      } catch (err) {
        instance.inventory = NO_DATA;
        throw new PlatformError(
          "REGO_EVAL",
          `${who}: Rego evaluation failed: ${localize(errorMessage(err))}`,
          {
            category: "internal",
            hint: "the template's Rego hit a runtime error (e.g. conflicting values for a complete rule) on this object",
            cause: err,
          },
        );
      }
    },
  };
}

interface OpaExports {
  opa_malloc(size: number): number;
  opa_json_parse(addr: number, len: number): number;
  opa_json_dump(addr: number): number;
  builtins(): number;
  opa_wasm_abi_version?: { value: unknown };
  opa_wasm_abi_minor_version?: { value: unknown };
}

// The project compiles against ES2024 + Node types, which do not declare WebAssembly; this is the part used.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The SDK's class, typed by what is used here (its typings lean on DOM WebAssembly types). */
type LoadedPolicyClass = new (
  policy: { module: object; instance: { exports: unknown } },
  memory: WasmMemory,
  minorVersion: number,
) => LoadedPolicy;
type LoadedPolicy = Pick<opaWasm.LoadedPolicy, "evaluate" | "setData">;

/**
 * The SDK's loadPolicy dispatches a module's host built-ins to its own table first (its `sprintf` is
 * sprintf-js, which prints `[a, b]` as `a,b` where Go prints `["a", "b"]`), so the instance is made here with
 * our dispatch and handed to the SDK's LoadedPolicy, which does the rest of the ABI (data, input, results).
 */
export async function instantiate(wasm: Uint8Array, log?: Logger): Promise<PolicyInstance> {
  // Compiled on this thread: V8 compiles functions lazily, so this is validation (a few ms for the
  // library's module), and the asynchronous API's hand-off to a worker thread waited for a core when busy.
  const module = new wasmApi.Module(wasm);
  const memory = new wasmApi.Memory({ initial: 5 });
  let exports: OpaExports | undefined;
  let names: Record<number, string> = {};
  const call = (id: number, ...addrs: number[]): number => {
    const ex = exports as OpaExports;
    const name = names[id] ?? `#${id}`;
    const impl = HOST_BUILTINS[name];
    if (!impl) throw new Error(`built-in function ${name} is not available in WebAssembly evaluation`);
    const args = addrs.map((a) => readJson(memory, ex.opa_json_dump(a)));
    let result: unknown;
    try {
      result = impl(...args);
    } catch {
      return 0; // as in OPA's non-strict mode: a failing built-in leaves the expression undefined
    }
    return result === undefined ? 0 : writeJson(ex, memory, result);
  };
  const env = {
    memory,
    opa_abort: (addr: number) => {
      throw new Error(readCString(memory, addr));
    },
    opa_println: (addr: number) => log?.debug(`rego print: ${readCString(memory, addr)}`),
    opa_builtin0: (id: number, _ctx: number) => call(id),
    opa_builtin1: (id: number, _ctx: number, a: number) => call(id, a),
    opa_builtin2: (id: number, _ctx: number, a: number, b: number) => call(id, a, b),
    opa_builtin3: (id: number, _ctx: number, a: number, b: number, c: number) => call(id, a, b, c),
    opa_builtin4: (id: number, _ctx: number, a: number, b: number, c: number, d: number) =>
      call(id, a, b, c, d),
  };
  const instance = new wasmApi.Instance(module, { env });
  exports = instance.exports as unknown as OpaExports;
  const abi = Number(exports.opa_wasm_abi_version?.value);
  if (abi !== 1) throw new Error(`unsupported OPA wasm ABI version ${abi}`);
  const ids = readJson(memory, exports.opa_json_dump(exports.builtins())) as Record<string, number>;
  names = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
  const policy = new (await loadedPolicyClass())(
    { module, instance },
    memory,
    Number(exports.opa_wasm_abi_minor_version?.value ?? 0),
  );
  return { policy, missingBuiltins: Object.keys(ids).filter((n) => !HOST_BUILTINS[n]), inventory: NO_DATA };
}

/** The SDK's ESM entry exports LoadedPolicy only on its default export (its typings say otherwise). */
async function loadedPolicyClass(): Promise<LoadedPolicyClass> {
  const mod = (await import("@open-policy-agent/opa-wasm")) as unknown as {
    LoadedPolicy?: LoadedPolicyClass;
    default?: { LoadedPolicy?: LoadedPolicyClass };
  };
  const cls = mod.LoadedPolicy ?? mod.default?.LoadedPolicy;
  if (!cls) throw new Error("@open-policy-agent/opa-wasm exports no LoadedPolicy");
  return cls;
}

function readCString(memory: WasmMemory, addr: number): string {
  const bytes = new Uint8Array(memory.buffer);
  let end = addr;
  while (bytes[end] !== 0 && end < bytes.length) end++;
  return new TextDecoder().decode(bytes.subarray(addr, end));
}

function readJson(memory: WasmMemory, addr: number): unknown {
  return JSON.parse(readCString(memory, addr));
}

function writeJson(ex: OpaExports, memory: WasmMemory, value: unknown): number {
  const bytes = new TextEncoder().encode(toJson(value));
  const addr = ex.opa_malloc(bytes.length);
  new Uint8Array(memory.buffer).set(bytes, addr);
  const parsed = ex.opa_json_parse(addr, bytes.length);
  if (!parsed) throw new Error("OPA could not parse a built-in's result");
  return parsed;
}

const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** JSON with bigint (the YAML loader's integers) written exactly. */
function toJson(value: unknown): string {
  return (
    JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? rawJSON(v.toString()) : v)) ?? "null"
  );
}

function jsonBuffer(value: unknown): ArrayBuffer {
  const bytes = new TextEncoder().encode(toJson(value));
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
