import { expect, it } from "vitest";
import { stringify } from "yaml";
import { emitYaml } from "./emit.ts";

const TRICKY = [
  "true",
  "False",
  "yes",
  "NO",
  "on",
  "null",
  "~",
  "",
  " lead",
  "trail ",
  "1",
  "1.5",
  "-2",
  "+3",
  "1e5",
  ".5",
  "0x1F",
  "0o17",
  "1_000",
  ".inf",
  ".NaN",
  "a: b",
  "a:b",
  "key:",
  "#x",
  "x #y",
  "x#y",
  "-a",
  "- a",
  "?",
  "? a",
  "*a",
  "&a",
  "!a",
  "%x",
  "@x",
  "`x",
  "'x",
  '"x',
  "a\tb",
  "é",
  "multi\nline\n",
  "multi\nline",
  " multi\nline\n",
  "a\n\nb\n",
  "$" + "{X}",
  "{a}",
  "[a]",
  "a, b",
  "/path",
  "./x",
  "(x)",
  "a=b",
  "2026-12-07",
  "12:30",
  "cluster.local/ns/a/sa/b",
  "k8s:io.x",
  "Azure Role",
];

it("writes exactly what the yaml package writes, for tricky strings as values, keys and list items", () => {
  for (const s of TRICKY) {
    const value = { k: s, [s || "empty"]: 1, list: [s, { a: s, b: [s] }], nested: { deep: { v: s } } };
    expect(emitYaml(value), JSON.stringify(s)).toBe(stringify(value, { sortMapEntries: true, lineWidth: 0 }));
  }
});

it("handles empty collections, numbers, booleans and lists of lists like the yaml package", () => {
  const value = {
    a: {},
    b: [],
    c: 0,
    d: -1.5,
    e: true,
    f: [[1, 2], [], {}],
    g: [{ x: {} }, { y: [] }],
    h: { i: [{}] },
  };
  expect(emitYaml(value)).toBe(stringify(value, { sortMapEntries: true, lineWidth: 0 }));
});
