import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { type Logger, PlatformError } from "@platform/core";
import { type Descriptor, encodeJson, MediaType, OciLayout } from "@platform/oci";
import { type Exec, tail } from "./exec.ts";

export type Builder = "auto" | "buildx" | "buildah";

/**
 * The build options docker/build-push-action users pass, with its input names' meaning: each list item is
 * one value (`KEY=VALUE` for build-args, labels and secrets; a buildx cache spec or a repository for caches).
 */
export interface BuildOptions {
  buildArgs: string[];
  labels: string[];
  target?: string;
  /** os/arch[/variant]; two or more make an image index. */
  platforms: string[];
  /** id=value: mounted at /run/secrets/<id> for `RUN --mount=type=secret,id=<id>`, never a build arg. */
  secrets: string[];
  cacheFrom: string[];
  cacheTo: string[];
}

export const NO_BUILD_OPTIONS: BuildOptions = {
  buildArgs: [],
  labels: [],
  platforms: [],
  secrets: [],
  cacheFrom: [],
  cacheTo: [],
};

const KEY_VALUE = /^([^=\s]+)=([\s\S]*)$/;
const BUILD_ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;
const SECRET_ID = /^[A-Za-z0-9_.-]+$/;

function optionError(input: string, message: string, hint: string): PlatformError {
  return new PlatformError("BUILD_OPTION_INVALID", message, { input, hint });
}

/** Checks every option before anything runs; an option that would be dropped is an error, never ignored. */
export function validateBuildOptions(o: BuildOptions): void {
  for (const a of o.buildArgs) {
    const m = KEY_VALUE.exec(a);
    if (!m || !BUILD_ARG_NAME.test(m[1]!))
      throw optionError(
        "build-args",
        `build-args entry "${a.split("=")[0]}" is not NAME=value`,
        "One NAME=value per line, NAME a Dockerfile ARG name.",
      );
  }
  for (const l of o.labels)
    if (!KEY_VALUE.test(l))
      throw optionError(
        "labels",
        `labels entry "${l}" is not key=value`,
        "One key=value per line, e.g. org.opencontainers.image.source=https://github.com/o/r.",
      );
  for (const p of o.platforms)
    if (!PLATFORM.test(p))
      throw optionError(
        "platforms",
        `platforms entry "${p}" is not os/arch[/variant]`,
        "Use e.g. linux/amd64,linux/arm64.",
      );
  for (const sec of o.secrets) {
    const m = KEY_VALUE.exec(sec);
    // The value is never named in the message: only the id, or that the entry has none.
    if (!m || !SECRET_ID.test(m[1]!))
      throw optionError(
        "secrets",
        "a secrets entry is not id=value",
        "One id=value per line; the build reads it from /run/secrets/<id>.",
      );
  }
  if (o.target !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(o.target))
    throw optionError(
      "target",
      `target "${o.target}" is not a build stage name`,
      "Name a stage of the Dockerfile (FROM … AS <name>).",
    );
}

function hasBuildOptions(o: BuildOptions): boolean {
  return (
    o.buildArgs.length +
      o.labels.length +
      o.platforms.length +
      o.secrets.length +
      o.cacheFrom.length +
      o.cacheTo.length >
      0 || o.target !== undefined
  );
}

/**
 * buildah reads a cache as a bare repository; buildx specs of type registry carry one in `ref=`. Other types
 * (gha, local, s3…) exist only in buildx: refused with the reason rather than built without a cache.
 */
function buildahCache(spec: string, input: string): string {
  if (!spec.includes("=")) return spec;
  const fields = Object.fromEntries(spec.split(",").map((kv) => kv.split("=", 2) as [string, string]));
  if (fields.type === "registry" && fields.ref) return fields.ref;
  throw optionError(
    input,
    `${input} "${spec}" needs docker buildx (buildah reads only registry caches)`,
    "Use type=registry,ref=<repo> (or a bare repository), or builder: buildx.",
  );
}

/** The flags both builders share; secrets are written to 0600 files in the scratch dir, never put on argv. */
async function commonFlags(o: BuildOptions, scratch: string, log: Logger): Promise<string[]> {
  const flags: string[] = [];
  for (const a of o.buildArgs) flags.push("--build-arg", a);
  for (const l of o.labels) flags.push("--label", l);
  if (o.target) flags.push("--target", o.target);
  if (o.platforms.length) flags.push("--platform", o.platforms.join(","));
  if (o.secrets.length) {
    const dir = await mkdtemp(join(scratch, "secrets-"));
    for (const [i, sec] of o.secrets.entries()) {
      const [, id, value] = KEY_VALUE.exec(sec)!;
      log.secret(value!);
      const file = join(dir, String(i));
      await writeFile(file, value!, { mode: 0o600 });
      flags.push("--secret", `id=${id},src=${file}`);
    }
  }
  return flags;
}

export interface BuildInput {
  /** Build context directory (absolute). */
  context: string;
  /** Dockerfile (absolute); default <context>/Dockerfile. */
  file?: string;
  builder: Builder;
  /** A pre-built image instead of a build: an OCI layout directory or a docker archive (.tar). */
  from?: string;
  /** Scratch space for the layout and builder state. */
  tempDir: string;
  env: NodeJS.ProcessEnv;
  /** build-push-action's options (build args, labels, target, platforms, secrets, caches). */
  options?: BuildOptions;
}

export interface BuiltImage {
  /** OCI image layout holding the image (one manifest). */
  layout: string;
  /** How it got there: buildx, buildah, an OCI layout or a docker archive. */
  via: "buildx" | "buildah" | "oci-layout" | "docker-archive";
}

const LAYOUT_REF = "build";

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/** buildx is usable when the CLI plugin answers and a daemon (or remote builder) is reachable. */
async function buildxWorks(exec: Exec, env: NodeJS.ProcessEnv): Promise<boolean> {
  const version = await exec("docker", ["buildx", "version"], { env, timeoutMs: 15_000 });
  if (version.code !== 0) return false;
  const info = await exec("docker", ["info", "--format", "{{.ServerVersion}}"], { env, timeoutMs: 15_000 });
  return info.code === 0 && info.stdout.trim() !== "";
}

/** Which builder `auto` picks: docker buildx where it works (GitHub runners), else buildah. */
export async function pickBuilder(
  builder: Builder,
  exec: Exec,
  env: NodeJS.ProcessEnv,
): Promise<"buildx" | "buildah"> {
  if (builder !== "auto") return builder;
  return (await buildxWorks(exec, env)) ? "buildx" : "buildah";
}

function buildFailed(tool: string, stderr: string, code: number): PlatformError {
  return new PlatformError(
    code === 127 ? "BUILD_TOOL_MISSING" : "BUILD_FAILED",
    code === 127
      ? `${tool} is not installed on this runner`
      : `${tool} build failed (exit ${code}):\n${tail(stderr)}`,
    {
      category: code === 127 ? "environment" : "verdict",
      input: code === 127 ? "builder" : "file",
      hint:
        code === 127
          ? "Install it (GitHub runners have docker buildx; Debian: apt-get install buildah), or pass a pre-built image with `from`."
          : "Fix the Dockerfile or the build context; the tool's output is above.",
    },
  );
}

/** Builds (or loads) the image into an OCI layout under tempDir; nothing is pushed yet. */
export async function buildImage(input: BuildInput, deps: { exec: Exec; log: Logger }): Promise<BuiltImage> {
  const options = input.options ?? NO_BUILD_OPTIONS;
  validateBuildOptions(options);
  const layoutDir = await mkdtemp(join(input.tempDir, "image-"));
  if (input.from) {
    if (hasBuildOptions(options))
      throw new PlatformError(
        "BUILD_OPTIONS_WITH_FROM",
        "build options apply to a build, and `from` pushes a pre-built image",
        {
          input: "from",
          hint: "Drop build-args, labels, target, platforms, secrets and cache-from/cache-to, or build instead of `from`.",
        },
      );
    return loadPrebuilt(input.from, layoutDir, deps);
  }
  const file = input.file ?? join(input.context, "Dockerfile");
  if (!(await isDir(input.context)))
    throw new PlatformError("BUILD_CONTEXT_MISSING", `build context ${input.context} is not a directory`, {
      input: "context",
      hint: "Set `context` to the directory the Dockerfile's COPY paths are relative to.",
    });
  if (!(await stat(file).catch(() => undefined))?.isFile())
    throw new PlatformError("BUILD_FILE_MISSING", `Dockerfile ${file} does not exist`, {
      input: "file",
      hint: "Set `file` to the Dockerfile path (relative to the workspace).",
    });
  const tool = await pickBuilder(input.builder, deps.exec, input.env);
  deps.log.info(
    `building ${relative(input.context, file) || file} with ${tool}${options.platforms.length ? ` for ${options.platforms.join(", ")}` : ""}`,
  );
  const flags = await commonFlags(options, input.tempDir, deps.log);
  if (tool === "buildx") {
    // The OCI exporter writes a layout directory (tar=false); the docker-container driver supports it.
    const r = await deps.exec(
      "docker",
      [
        "buildx",
        "build",
        "--file",
        file,
        ...flags,
        ...options.cacheFrom.flatMap((c) => ["--cache-from", c]),
        ...options.cacheTo.flatMap((c) => ["--cache-to", c]),
        "--output",
        `type=oci,dest=${layoutDir},tar=false,name=${LAYOUT_REF}`,
        input.context,
      ],
      { env: input.env },
    );
    if (r.code !== 0) throw buildFailed("docker buildx", r.stderr, r.code);
    return { layout: layoutDir, via: "buildx" };
  }
  // buildah without privileges: vfs storage and chroot isolation, with its own storage under tempDir so
  // concurrent jobs never share state.
  const store = await mkdtemp(join(input.tempDir, "buildah-"));
  const globals = ["--root", join(store, "root"), "--runroot", join(store, "run"), "--storage-driver", "vfs"];
  const env = { ...input.env, BUILDAH_ISOLATION: "chroot", STORAGE_DRIVER: "vfs" };
  const name = `localhost/build-scan:${Date.now().toString(36)}`;
  const caches = [
    ...options.cacheFrom.flatMap((c) => ["--cache-from", buildahCache(c, "cache-from")]),
    ...options.cacheTo.flatMap((c) => ["--cache-to", buildahCache(c, "cache-to")]),
  ];
  // Several platforms make a manifest list (pushed with --all); one makes a plain image.
  const multi = options.platforms.length > 1;
  const bud = await deps.exec(
    "buildah",
    [
      ...globals,
      "bud",
      "--isolation",
      "chroot",
      // buildah caches through intermediate layers only.
      caches.length ? "--layers=true" : "--layers=false",
      ...flags,
      ...caches,
      "-f",
      file,
      ...(multi ? ["--manifest", name] : ["-t", name]),
      input.context,
    ],
    { env },
  );
  if (bud.code !== 0) throw buildFailed("buildah", bud.stderr, bud.code);
  const push = await deps.exec(
    "buildah",
    [
      ...globals,
      ...(multi ? ["manifest", "push", "--all"] : ["push"]),
      name,
      `oci:${layoutDir}:${LAYOUT_REF}`,
    ],
    { env },
  );
  if (push.code !== 0) throw buildFailed("buildah push", push.stderr, push.code);
  return { layout: layoutDir, via: "buildah" };
}

async function loadPrebuilt(
  from: string,
  layoutDir: string,
  deps: { exec: Exec; log: Logger },
): Promise<BuiltImage> {
  const info = await stat(from).catch(() => undefined);
  if (!info)
    throw new PlatformError("BUILD_FROM_MISSING", `${from} does not exist`, {
      input: "from",
      hint: "Point `from` at an OCI layout directory or a `docker save` archive.",
    });
  if (info.isDirectory()) {
    await OciLayout.open(from);
    return { layout: from, via: "oci-layout" };
  }
  // A docker archive (`docker save`): unpack with tar (argv, no shell), then read it as an OCI layout
  // (Docker 25+ writes one inside the archive) or convert its manifest.json.
  const dir = join(layoutDir, "..", `${layoutDir.split(sep).pop()}-archive`);
  await mkdir(dir, { recursive: true });
  const r = await deps.exec("tar", ["-xf", from, "-C", dir, "--no-same-owner"]);
  if (r.code !== 0)
    throw new PlatformError(
      "BUILD_FROM_INVALID",
      `${from} is not a readable tar archive: ${tail(r.stderr, 3)}`,
      {
        input: "from",
        hint: "Pass `docker save -o image.tar <image>` output or an OCI layout directory.",
      },
    );
  const entries = await readdir(dir);
  if (entries.includes("oci-layout") && entries.includes("index.json"))
    return { layout: dir, via: "docker-archive" };
  if (!entries.includes("manifest.json"))
    throw new PlatformError(
      "BUILD_FROM_INVALID",
      `${from} has neither an OCI layout nor a docker manifest.json`,
      {
        input: "from",
        hint: "Pass `docker save -o image.tar <image>` output or an OCI layout directory.",
      },
    );
  await dockerArchiveToLayout(dir, layoutDir);
  return { layout: layoutDir, via: "docker-archive" };
}

/** Converts an unpacked `docker save` archive (manifest.json + config + layer tars) into an OCI layout. */
async function dockerArchiveToLayout(dir: string, layoutDir: string): Promise<void> {
  const inside = (p: string) => {
    const full = resolve(dir, p);
    if (!full.startsWith(resolve(dir) + sep))
      throw new PlatformError("BUILD_FROM_INVALID", `docker archive entry ${p} points outside the archive`, {
        input: "from",
      });
    return full;
  };
  const manifests = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as Array<{
    Config: string;
    Layers: string[];
  }>;
  const first = manifests[0];
  if (manifests.length !== 1 || !first)
    throw new PlatformError(
      "BUILD_FROM_INVALID",
      `the docker archive holds ${manifests.length} images; save exactly one`,
      {
        input: "from",
      },
    );
  const layout = await OciLayout.create(layoutDir);
  // Each blob is hashed once, by writeBlob; its descriptor takes that digest.
  const store = async (path: string, mediaType: (bytes: Uint8Array) => string): Promise<Descriptor> => {
    const bytes = new Uint8Array(await readFile(inside(path)));
    return { mediaType: mediaType(bytes), digest: await layout.writeBlob(bytes), size: bytes.byteLength };
  };
  const config = await store(first.Config, () => MediaType.ociConfig);
  const layers: Descriptor[] = [];
  for (const l of first.Layers)
    layers.push(
      // Layers in docker archives are uncompressed tars (gzip is detected by its magic bytes).
      await store(l, (b) => (b[0] === 0x1f && b[1] === 0x8b ? MediaType.ociLayerGzip : MediaType.ociLayer)),
    );
  const manifest = encodeJson({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers });
  await layout.addManifest(manifest, MediaType.ociManifest, LAYOUT_REF);
}
