// How much of a file an edit changed outside the digests: both texts with every digest masked, then a
// line diff (LCS); the bytes of removed and added lines are the bytes changed outside digests.
const DIGEST = /sha256:[0-9a-f]{64}/g;
const mask = (text) => text.replace(DIGEST, "sha256:<digest>");

/** Bytes changed outside digests between two versions of a file (0 when only digests differ). */
export function bytesOutsideDigests(before, after) {
  const a = mask(before);
  const b = mask(after);
  if (a === b) return 0;
  const x = a.split(/(?<=\n)/);
  const y = b.split(/(?<=\n)/);
  // LCS table over lines: config files are small, so O(n·m) is fine.
  const n = x.length;
  const m = y.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  let i = 0;
  let j = 0;
  let bytes = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) bytes += Buffer.byteLength(y[j++]);
    else bytes += Buffer.byteLength(x[i++]);
  }
  return bytes;
}
