// The few git facts a changed-only check needs, read with the git CLI (argv only, never a shell): what
// changed since a ref, and the blob ids of files at the merge base and in the work tree (cache digests).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, realpath } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { errorMessage, PlatformError } from "@platform/core";

const MAX_GIT_OUTPUT = 512 * 1024 * 1024;
/** More paths than this: list the whole tree rather than pass them on a command line. */
const MAX_PATH_ARGS = 1000;
/** Index modes of regular files (others: symlinks 120000, submodules 160000). */
export const REGULAR = /^100(644|755)$/;

/** One file a change touched, relative to the workspace root (POSIX separators). */
export interface ChangedFile {
  path: string;
  status: "added" | "modified" | "deleted";
}

/** One index entry: `mode` as git prints it (100644, 100755, 120000 a symlink, 160000 a submodule). */
export interface IndexEntry {
  mode: string;
  id: string;
  /** Whether git compares the work-tree file with it (false: assume-unchanged, skip-worktree, conflicted). */
  tracked: boolean;
}

/** What a pull request (or a local branch) changed, and against what. */
export interface ChangeSet {
  /** The ref the user named (`origin/main`, a sha), for the summary. */
  since: string;
  /** The merge-base commit the diff starts from, when git history was available. */
  base?: string;
  /** Where the list came from: the local git history or the GitHub API's pull-request files. */
  source: "git" | "github";
  files: ChangedFile[];
}

/** The merge base's files, from git or from the GitHub API (a shallow checkout has no history). */
export interface BaseHistory {
  /**
   * Blob ids of every file at a commit (workspace-relative paths); with `only`, at least those files' (a
   * path missing from the map does not exist at the commit).
   */
  blobs(rev: string, only?: ReadonlyArray<string>): Promise<Map<string, string>>;
  /** Contents of files at a commit; a missing path maps to undefined. */
  show(rev: string, paths: string[]): Promise<Map<string, string | undefined>>;
}

function git(cwd: string, args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    execFile("git", args, { cwd, maxBuffer: MAX_GIT_OUTPUT, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) fail(new Error((stderr || err.message).trim().split("\n")[0]));
      else done(stdout);
    });
  });
}

function gitError(what: string, err: unknown, hint: string): PlatformError {
  return new PlatformError("INPUT_INVALID", `changed-since: ${what}: ${errorMessage(err)}`, {
    input: "changed-since",
    hint,
  });
}

/** Git blob id of some bytes (what `git hash-object` prints): compares work-tree files with history. */
export function blobId(bytes: Uint8Array): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/** A git repository the workspace lives in: its top, and path conversion between the two. */
export class GitRepo implements BaseHistory {
  readonly top: string;
  readonly root: string;
  private constructor(top: string, root: string) {
    this.top = top;
    this.root = root;
  }

  /** The repository `root` is inside, or undefined when it is not in a git work tree (or git is absent). */
  static async open(root: string): Promise<GitRepo | undefined> {
    const top = await git(root, ["rev-parse", "--show-toplevel"]).catch(() => undefined);
    if (!top) return undefined;
    return new GitRepo(await realpath(top.trim()), await realpath(root));
  }

  /** The workspace's path in the repository (`a/b/`), "" when it is the top. */
  private get prefix(): string {
    this.workspacePrefix ??=
      this.top === this.root ? "" : `${relative(this.top, this.root).split(sep).join("/")}/`;
    return this.workspacePrefix;
  }
  private workspacePrefix: string | undefined;

  /**
   * Workspace-relative path of a repository path, or undefined when it lies outside the workspace. Git prints
   * normalised paths (no `.` or `..` segments), so a prefix test decides; called for every listed file.
   */
  private toWorkspace(listed: string): string | undefined {
    const repoPath = listed.endsWith("/") ? listed.slice(0, -1) : listed;
    const prefix = this.prefix;
    if (prefix === "") return repoPath === "" ? undefined : repoPath;
    return repoPath.startsWith(prefix) && repoPath.length > prefix.length
      ? repoPath.slice(prefix.length)
      : undefined;
  }

  /**
   * Files changed between the merge base of `ref` and HEAD, plus uncommitted and untracked work: what a
   * pull request from this work tree would change. Renames count as a delete and an add.
   */
  async changedSince(ref: string): Promise<ChangeSet> {
    if (ref.startsWith("-"))
      throw gitError(`"${ref}" is not a ref`, "refs never start with -", "Name a branch, tag or commit.");
    const base = await git(this.root, ["merge-base", ref, "HEAD"])
      .then((s) => s.trim())
      .catch((err) => {
        throw gitError(
          `no merge base between ${ref} and HEAD`,
          err,
          "Fetch the base branch with history (actions/checkout with fetch-depth: 0, or git fetch origin main), or check everything without --changed-since.",
        );
      });
    const [diff, untracked] = await Promise.all([
      git(this.root, ["diff", "--name-status", "-z", "--no-renames", base, "--"]),
      git(this.root, ["ls-files", "-z", "--others", "--exclude-standard"]),
    ]);
    const files = new Map<string, ChangedFile>();
    const parts = diff.split("\0");
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const status = parts[i]!;
      const path = this.toWorkspace(parts[i + 1]!);
      if (path === undefined) continue;
      files.set(path, {
        path,
        status: status.startsWith("A") ? "added" : status.startsWith("D") ? "deleted" : "modified",
      });
    }
    for (const p of untracked.split("\0")) {
      const path = p ? this.toWorkspace(p) : undefined;
      if (path !== undefined) files.set(path, { path, status: "added" });
    }
    return {
      since: ref,
      base,
      source: "git",
      files: [...files.values()].sort((a, b) => a.path.localeCompare(b.path)),
    };
  }

  /**
   * Blob ids of every file at a commit (`rev`), or in the index when `rev` is undefined; workspace paths.
   * With `only` (a few paths), just those: the listing of a big tree is most of a changed-only run's git time.
   */
  async blobs(rev?: string, only?: ReadonlyArray<string>): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (rev) {
      const paths = only && only.length <= MAX_PATH_ARGS ? only.map((p) => `${this.prefix}${p}`) : undefined;
      if (paths?.length === 0) return out;
      const text = await git(this.top, [
        // Paths as written, never as patterns.
        ...(paths ? ["--literal-pathspecs"] : []),
        "ls-tree",
        "-r",
        "-z",
        "--full-tree",
        rev,
        ...(paths ? ["--", ...paths] : []),
      ]);
      for (const line of text.split("\0")) {
        // <mode> SP <type> SP <object> TAB <path>
        const tab = line.indexOf("\t");
        if (tab < 0) continue;
        const [, type, id] = line.slice(0, tab).split(" ");
        const path = this.toWorkspace(line.slice(tab + 1));
        if (type === "blob" && id && path !== undefined) out.set(path, id);
      }
      return out;
    }
    for (const [path, e] of await this.index()) out.set(path, e.id);
    return out;
  }

  /**
   * The index's entries (workspace paths): mode, blob id, and whether git vouches that the work-tree file
   * matches it. Not for an entry marked assume-unchanged or skip-worktree (git stops comparing those), nor
   * for a conflicted one (stages 1–3): their work-tree bytes must be read.
   */
  async index(): Promise<Map<string, IndexEntry>> {
    const out = new Map<string, IndexEntry>();
    const text = await git(this.top, ["ls-files", "-s", "-v", "-z"]);
    for (const line of text.split("\0")) {
      // <tag> SP <mode> SP <object> SP <stage> TAB <path>
      const tab = line.indexOf("\t");
      if (tab < 0) continue;
      const [tag, mode, id, stage] = line.slice(0, tab).split(" ");
      const path = this.toWorkspace(line.slice(tab + 1));
      if (!id || !mode || path === undefined) continue;
      const tracked = tag === "H" && stage === "0" && out.get(path)?.tracked !== false;
      out.set(path, { mode, id, tracked });
    }
    return out;
  }

  /** Work-tree files that differ from the index (modified or untracked): their index blob id is stale. */
  async dirty(): Promise<Set<string>> {
    const text = await git(this.top, [
      "ls-files",
      "-z",
      "--modified",
      "--deleted",
      "--others",
      "--exclude-standard",
    ]);
    return new Set(
      text
        .split("\0")
        .filter(Boolean)
        .flatMap((p) => this.toWorkspace(p) ?? []),
    );
  }

  /** Ignored files and directories (a directory ends with `/`), workspace-relative. */
  async ignored(): Promise<string[]> {
    const text = await git(this.root, [
      "ls-files",
      "-z",
      "--others",
      "--ignored",
      "--exclude-standard",
      "--directory",
    ]);
    // ls-files run in the workspace prints paths relative to it.
    return text.split("\0").filter(Boolean);
  }

  /** Contents of files at a commit (workspace paths); a missing path maps to undefined. */
  async show(rev: string, paths: string[]): Promise<Map<string, string | undefined>> {
    const out = new Map<string, string | undefined>();
    for (const p of paths) {
      const repoPath = relative(this.top, join(this.root, p)).split(sep).join("/");
      out.set(p, await git(this.top, ["show", `${rev}:${repoPath}`]).catch(() => undefined));
    }
    return out;
  }
}

/** What git says of a work tree in three listings: the index, the paths that differ from it, ignored paths. */
export interface WorkTreeListing {
  /** Index entries, workspace-relative. */
  index: Map<string, IndexEntry>;
  /** Modified, deleted and untracked files, and index entries git does not compare (see `IndexEntry`). */
  dirty: Set<string>;
  /** Ignored files and directories (a directory ends with `/`), workspace-relative. */
  ignored: string[];
}

/**
 * Blob ids of work-tree files: from the index where the file is clean, else hashed from disk. In a git work
 * tree a path that is neither in the index, nor modified or untracked, nor under an ignored path does not
 * exist, so asking about it costs no file-system call (kustomize trees name many paths that are not there).
 */
export class WorkTreeBlobs {
  private readonly root: string;
  /** The listing, or undefined outside git (then every path is read). */
  readonly listing: WorkTreeListing | undefined;
  private constructor(root: string, listing: WorkTreeListing | undefined) {
    this.root = root;
    this.listing = listing;
  }

  /** Uses git's index when the workspace is a git work tree; otherwise every file is read and hashed. */
  static async open(root: string, repo: GitRepo | undefined): Promise<WorkTreeBlobs> {
    if (!repo) return new WorkTreeBlobs(root, undefined);
    const [index, dirty, ignored] = await Promise.all([repo.index(), repo.dirty(), repo.ignored()]);
    // A symlink's blob is its target's name, not the bytes read through it: read those like dirty files.
    for (const [p, e] of index) if (!e.tracked || !REGULAR.test(e.mode)) dirty.add(p);
    return new WorkTreeBlobs(root, { index, dirty, ignored });
  }

  private mayExistOffIndex(path: string): boolean {
    const l = this.listing;
    if (!l || l.dirty.has(path)) return true;
    return l.ignored.some((i) => (i.endsWith("/") ? path.startsWith(i) : path === i));
  }

  /**
   * Blob id of a workspace-relative file, or undefined when it does not exist (or is not a file). Known from
   * the listing, it is returned at once (digests ask for tens of thousands); read from disk, as a promise.
   */
  id(path: string): string | undefined | Promise<string | undefined> {
    const l = this.listing;
    if (l && !l.dirty.has(path)) {
      const known = l.index.get(path)?.id;
      if (known) return known;
    }
    if (!this.mayExistOffIndex(path)) return undefined;
    return readFile(join(this.root, path)).then(blobId, () => undefined);
  }
}

/** The change since `ref` in the git work tree holding `root` (the error names the input when it is none). */
export async function gitChangesSince(root: string, ref: string): Promise<ChangeSet> {
  const repo = await GitRepo.open(root);
  if (!repo)
    throw new PlatformError("INPUT_INVALID", `changed-since: ${root} is not inside a git work tree`, {
      input: "changed-since",
      hint: "Run in a git checkout (actions/checkout with fetch-depth: 0), or drop changed-since to check everything.",
    });
  return repo.changedSince(ref);
}
