// Changed-only without local history (a shallow checkout): the change and the merge base's files from the
// GitHub REST API — compare (files and merge base), the base tree (blob ids, for cache digests) and blobs
// (contents of changed files at the base). Fail closed: a truncated list or tree is an error, never a
// partial selection.
import { PlatformError } from "@platform/core";
import type { GitHubClient } from "@platform/github";
import type { BaseHistory, ChangeSet } from "@platform/policy";

/** GitHub's compare lists at most 300 files: a change that reaches it cannot be narrowed from the list. */
const COMPARE_FILE_LIMIT = 300;

/** The change from `base` to `head` and a view of the merge base's files, from the REST API. */
export async function githubChanges(
  client: GitHubClient,
  where: { owner: string; repo: string; base: string; head: string },
): Promise<{ changes: ChangeSet; history: BaseHistory }> {
  const { owner, repo } = where;
  const cmp = await client.request("GET /repos/{owner}/{repo}/compare/{basehead}", {
    owner,
    repo,
    basehead: `${where.base}...${where.head}`,
    per_page: 100,
  });
  const files = cmp.data.files ?? [];
  if (files.length >= COMPARE_FILE_LIMIT)
    throw new PlatformError(
      "INPUT_INVALID",
      `changed-since: the change lists ${files.length} files, GitHub's compare limit: the change cannot be narrowed`,
      {
        input: "changed-since",
        hint: "Check out with history (actions/checkout fetch-depth: 0) so git lists every file, or check everything.",
      },
    );
  const trees = new Map<string, Promise<Map<string, string>>>();
  const history: BaseHistory = {
    blobs(rev) {
      let t = trees.get(rev);
      if (!t) {
        // The trees API takes a tree sha: the commit names it.
        t = client
          .request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", { owner, repo, commit_sha: rev })
          .then((commit) =>
            client.request("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", {
              owner,
              repo,
              tree_sha: commit.data.tree.sha,
              recursive: "1",
            }),
          )
          .then((res) => {
            if (res.data.truncated)
              throw new PlatformError("INPUT_INVALID", `changed-since: the tree of ${rev} is truncated`, {
                input: "changed-since",
                hint: "Check out with history (actions/checkout fetch-depth: 0).",
              });
            return new Map(
              res.data.tree.flatMap((e) =>
                e.type === "blob" && e.path && e.sha ? [[e.path, e.sha] as const] : [],
              ),
            );
          });
        trees.set(rev, t);
      }
      return t;
    },
    async show(rev, paths) {
      const ids = await history.blobs(rev);
      const out = new Map<string, string | undefined>();
      for (const p of paths) {
        const sha = ids.get(p);
        if (!sha) {
          out.set(p, undefined);
          continue;
        }
        const blob = await client.request("GET /repos/{owner}/{repo}/git/blobs/{file_sha}", {
          owner,
          repo,
          file_sha: sha,
        });
        out.set(
          p,
          Buffer.from(blob.data.content, blob.data.encoding === "base64" ? "base64" : "utf8").toString(
            "utf8",
          ),
        );
      }
      return out;
    },
  };
  return {
    changes: {
      since: where.base,
      base: cmp.data.merge_base_commit.sha,
      source: "github",
      files: files
        .flatMap((f) => {
          const status = f.status === "added" ? "added" : f.status === "removed" ? "deleted" : "modified";
          const renamed =
            f.status === "renamed" && f.previous_filename
              ? [{ path: f.previous_filename, status: "deleted" as const }]
              : [];
          return [
            { path: f.filename, status: f.status === "renamed" ? ("added" as const) : status } as const,
            ...renamed,
          ];
        })
        .sort((a, b) => a.path.localeCompare(b.path)),
    },
    history,
  };
}
