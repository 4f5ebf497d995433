// An in-memory Git object store for the GitHub fake. Object ids are real Git SHA-1s (same bytes as
// `git hash-object`), so a client that computes blob ids locally agrees with the fake.
import { createHash } from "node:crypto";

export interface Signature {
  name: string;
  email: string;
  date: string;
}

export interface TreeEntry {
  name: string;
  /** As the GitHub API spells it: 100644, 100755, 120000, 040000, 160000. */
  mode: string;
  type: "blob" | "tree" | "commit";
  sha: string;
}

export type GitObject =
  | { type: "blob"; data: Buffer }
  | { type: "tree"; entries: TreeEntry[] }
  | {
      type: "commit";
      tree: string;
      parents: string[];
      message: string;
      author: Signature;
      committer: Signature;
      /** Whether GitHub would show the commit as Verified (signed by GitHub for an App token). */
      verified: boolean;
    };

export type CommitObject = Extract<GitObject, { type: "commit" }>;

/** One file of a flattened tree. */
export interface FileEntry {
  mode: string;
  type: "blob" | "commit";
  sha: string;
}

/** A change to apply to a tree: a path and its new entry, or null to delete it. */
export interface TreeChange {
  path: string;
  entry: { mode: string; type: "blob" | "tree" | "commit"; sha: string } | null;
}

export class GitStore {
  readonly objects = new Map<string, GitObject>();

  has(sha: string): boolean {
    return this.objects.has(sha);
  }

  get(sha: string): GitObject | undefined {
    return this.objects.get(sha);
  }

  commit(sha: string): CommitObject | undefined {
    const o = this.objects.get(sha);
    return o?.type === "commit" ? o : undefined;
  }

  putBlob(data: Buffer | string): string {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    return this.put("blob", bytes, { type: "blob", data: bytes });
  }

  putTree(entries: TreeEntry[]): string {
    const sorted = [...entries].sort((a, b) => compareNames(sortKey(a), sortKey(b)));
    const body = Buffer.concat(
      sorted.map((e) =>
        Buffer.concat([
          Buffer.from(`${e.mode.replace(/^0+/, "")} ${e.name}\0`, "utf8"),
          Buffer.from(e.sha, "hex"),
        ]),
      ),
    );
    return this.put("tree", body, { type: "tree", entries: sorted });
  }

  putCommit(c: Omit<CommitObject, "type">): string {
    const lines = [`tree ${c.tree}`, ...c.parents.map((p) => `parent ${p}`)];
    lines.push(`author ${signatureLine(c.author)}`, `committer ${signatureLine(c.committer)}`, "", c.message);
    return this.put("commit", Buffer.from(lines.join("\n"), "utf8"), { type: "commit", ...c });
  }

  /** Every file (blob or submodule) under a tree, by slash-separated path. */
  flatten(treeSha: string, prefix = "", out = new Map<string, FileEntry>()): Map<string, FileEntry> {
    const tree = this.objects.get(treeSha);
    if (tree?.type !== "tree") throw new Error(`not a tree: ${treeSha}`);
    for (const e of tree.entries) {
      const path = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.type === "tree") this.flatten(e.sha, path, out);
      else out.set(path, { mode: e.mode, type: e.type, sha: e.sha });
    }
    return out;
  }

  /** Applies path changes on top of a tree (or an empty tree) and returns the new root tree id. */
  applyChanges(baseTree: string | undefined, changes: TreeChange[]): string {
    const base = baseTree ? this.objects.get(baseTree) : undefined;
    const entries = new Map<string, TreeEntry>(
      base?.type === "tree" ? base.entries.map((e) => [e.name, e]) : [],
    );
    const nested = new Map<string, TreeChange[]>();
    for (const change of changes) {
      const slash = change.path.indexOf("/");
      if (slash < 0) {
        if (change.entry) entries.set(change.path, { name: change.path, ...change.entry });
        else entries.delete(change.path);
        continue;
      }
      const dir = change.path.slice(0, slash);
      const list = nested.get(dir) ?? [];
      list.push({ path: change.path.slice(slash + 1), entry: change.entry });
      nested.set(dir, list);
    }
    for (const [dir, list] of nested) {
      const existing = entries.get(dir);
      const sub = this.applyChanges(existing?.type === "tree" ? existing.sha : undefined, list);
      const subTree = this.objects.get(sub) as Extract<GitObject, { type: "tree" }>;
      if (subTree.entries.length === 0) entries.delete(dir);
      else entries.set(dir, { name: dir, mode: "040000", type: "tree", sha: sub });
    }
    return this.putTree([...entries.values()]);
  }

  /** The text of a file at a commit, or undefined when the path is not a blob there. */
  readFile(commitSha: string, path: string): string | undefined {
    const commit = this.commit(commitSha);
    if (!commit) return undefined;
    const entry = this.flatten(commit.tree).get(path);
    if (entry?.type !== "blob") return undefined;
    return (this.objects.get(entry.sha) as { data: Buffer }).data.toString("utf8");
  }

  /** Every commit reachable from `sha` (itself included). */
  ancestors(sha: string): Set<string> {
    const seen = new Set<string>();
    const stack = [sha];
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (seen.has(s)) continue;
      seen.add(s);
      stack.push(...(this.commit(s)?.parents ?? []));
    }
    return seen;
  }

  isAncestor(ancestor: string, of: string): boolean {
    return this.ancestors(of).has(ancestor);
  }

  /** The nearest common ancestor, searching breadth-first from `b`. */
  mergeBase(a: string, b: string): string | undefined {
    const fromA = this.ancestors(a);
    const queue = [b];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const s = queue.shift()!;
      if (seen.has(s)) continue;
      seen.add(s);
      if (fromA.has(s)) return s;
      queue.push(...(this.commit(s)?.parents ?? []));
    }
    return undefined;
  }

  private put(type: string, body: Buffer, object: GitObject): string {
    const sha = createHash("sha1")
      .update(Buffer.from(`${type} ${body.length}\0`, "utf8"))
      .update(body)
      .digest("hex");
    if (!this.objects.has(sha)) this.objects.set(sha, object);
    return sha;
  }
}

/** Git orders tree entries by name, comparing a directory as if its name ended in "/". */
function sortKey(e: TreeEntry): string {
  return e.type === "tree" ? `${e.name}/` : e.name;
}

function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function signatureLine(s: Signature): string {
  const seconds = Math.floor(Date.parse(s.date) / 1000);
  return `${s.name} <${s.email}> ${seconds} +0000`;
}

/** The Git blob id of some bytes, as `git hash-object` computes it. */
export function blobSha(data: Buffer | string): string {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}
