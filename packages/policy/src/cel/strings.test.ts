import { describe, expect, it } from "vitest";
import { createCelEngine } from "./engine.ts";
import { goFormatFloatG } from "./strings.ts";

const engine = createCelEngine();
const run = (expr: string, vars: Record<string, unknown> = {}) => engine.compile(expr).eval(vars);
const all = (cases: Array<[string, unknown]>) => {
  for (const [expr, want] of cases) expect(run(expr), expr).toEqual(want);
};

describe("cel-go ext.Strings version 2", () => {
  it("runs the library's doc-comment examples", () => {
    all([
      ["'hello'.charAt(4)", "o"],
      ["'hello'.charAt(5)", ""],
      ["'hello mellow'.indexOf('')", 0n],
      ["'hello mellow'.indexOf('ello')", 1n],
      ["'hello mellow'.indexOf('jello')", -1n],
      ["'hello mellow'.indexOf('', 2)", 2n],
      ["'hello mellow'.indexOf('ello', 2)", 7n],
      ["'hello mellow'.indexOf('ello', 20)", -1n],
      ["['hello', 'mellow'].join()", "hellomellow"],
      ["['hello', 'mellow'].join(' ')", "hello mellow"],
      ["[].join()", ""],
      ["[].join('/')", ""],
      ["'hello mellow'.lastIndexOf('')", 12n],
      ["'hello mellow'.lastIndexOf('ello')", 7n],
      ["'hello mellow'.lastIndexOf('jello')", -1n],
      ["'hello mellow'.lastIndexOf('ello', 6)", 1n],
      ["'TacoCat'.lowerAscii()", "tacocat"],
      ["'TacoCÆt Xii'.lowerAscii()", "tacocÆt xii"],
      ["'TacoCat'.upperAscii()", "TACOCAT"],
      ["'TacoCÆt Xii'.upperAscii()", "TACOCÆT XII"],
      [`strings.quote('single-quote with "double quote"')`, '"single-quote with \\"double quote\\""'],
      [`strings.quote("two escape sequences \\a\\n")`, '"two escape sequences \\a\\n"'],
      ["'hello hello'.replace('he', 'we')", "wello wello"],
      ["'hello hello'.replace('he', 'we', -1)", "wello wello"],
      ["'hello hello'.replace('he', 'we', 1)", "wello hello"],
      ["'hello hello'.replace('he', 'we', 0)", "hello hello"],
      ["'hello hello hello'.split(' ')", ["hello", "hello", "hello"]],
      ["'hello hello hello'.split(' ', 0)", []],
      ["'hello hello hello'.split(' ', 1)", ["hello hello hello"]],
      ["'hello hello hello'.split(' ', 2)", ["hello", "hello hello"]],
      ["'hello hello hello'.split(' ', -1)", ["hello", "hello", "hello"]],
      ["'tacocat'.substring(4)", "cat"],
      ["'tacocat'.substring(0, 4)", "taco"],
      ["'  \\ttrim\\n    '.trim()", "trim"],
    ]);
    expect(() => run("'hello'.charAt(-1)")).toThrow("index out of range: -1");
    expect(() => run("'hello mellow'.lastIndexOf('ello', -1)")).toThrow("index out of range: -1");
    expect(() => run("'tacocat'.substring(-1)")).toThrow("index out of range: -1");
    expect(() => run("'tacocat'.substring(2, 1)")).toThrow("invalid substring range. start: 2, end: 1");
  });

  it("indexes by code point and trims Go's Unicode spaces, unlike the engine's built-ins", () => {
    all([
      ["'😀a'.indexOf('a')", 1n],
      ["'😀a😀'.lastIndexOf('😀')", 2n],
      ["'😀abc'.substring(1, 3)", "ab"],
      ["'😀abc'.charAt(0)", "😀"],
      ["'a😀b'.split('')", ["a", "😀", "b"]],
      ["'abc'.replace('', '-')", "-a-b-c-"],
      ["'abc'.replace('', '-', 2)", "-a-bc"],
      ["'\\u0085x\\u0085'.trim()", "x"],
      ["'\\ufeffx'.trim()", "\ufeffx"],
      ["'ÄbC'.lowerAscii()", "Äbc"],
    ]);
    expect(() => run("'abc'.indexOf(1)")).toThrow(/no matching overload for 'string.indexOf\(int\)'/);
  });

  it("formats like cel-go's version-1 formatter with the en_US locale (formatting_test.go)", () => {
    all([
      ["'str is %s and some more'.format(['filler'])", "str is filler and some more"],
      ["'%% and also %%'.format([])", "% and also %"],
      ["'%%%s%%'.format(['text'])", "%text%"],
      ["'%d %d %d, %s %s %s'.format([1, 2, 3, 'A', 'B', 'C'])", "1 2 3, A B C"],
      ["'%.3f'.format([1.2345])", "1.234"],
      ["'this is 5 in binary: %b'.format([5])", "this is 5 in binary: 101"],
      ["'%b'.format([-5])", "-101"],
      ["'%b'.format([uint(64)])", "1000000"],
      ["'%b'.format([true])", "1"],
      ["'%o'.format([11])", "13"],
      ["'%o'.format([-11])", "-13"],
      ["'%x is 30 in hexadecimal'.format([30])", "1e is 30 in hexadecimal"],
      ["'%X'.format([30])", "1E"],
      ["'%x'.format([-30])", "-1e"],
      ["'%x'.format(['Hello world!'])", "48656c6c6f20776f726c6421"],
      ["'%X'.format([b'byte string'])", "6279746520737472696E67"],
      ["'%.6e'.format([1052.032911275])", "1.052033\u202f\u00d7\u202f10\u2070\u00b3"],
      ["'%f'.format([2.71828])", "2.718280"],
      ["'%e'.format([2.71828])", "2.718280\u202f\u00d7\u202f10\u2070\u2070"],
      ["'%s'.format([2.71])", "2.71"],
      ["'%s'.format([[2.71]])", "[2.710000]"],
      ["'%s'.format([0.000000002])", "2e-09"],
      ["'%f'.format(['NaN'])", "NaN"],
      ["'%f'.format(['Infinity'])", "∞"],
      ["'%s'.format([double('Inf')])", "+Inf"],
      ["'%d'.format([uint(64)])", "64"],
      ["'null: %s'.format([null])", "null: null"],
      ["'%s'.format([999999999999])", "999999999999"],
      ["'some bytes: %s'.format([b'xyz'])", "some bytes: xyz"],
      ["'type is %s'.format([type('test string')])", "type is string"],
      ["'%s'.format([timestamp('2023-02-03T23:31:20+00:00')])", "2023-02-03T23:31:20Z"],
      ["'%s'.format([duration('1h45m47s')])", "6347s"],
      [
        "'%s'.format([['abc', 3.14, null, [9, 8, 7, 6], timestamp('2023-02-03T23:31:20Z')]])",
        '["abc", 3.140000, null, [9, 8, 7, 6], timestamp("2023-02-03T23:31:20Z")]',
      ],
      ["'%s'.format([{'b': 1, 'a': 'x'}])", '{"a":"x", "b":1}'],
      ["'%f'.format([1234567.5])", "1,234,567.500000"],
    ]);
    expect(() => run("'%d %d'.format([1])")).toThrow("index 1 out of range");
    expect(() => run("'%d'.format(['x'])")).toThrow(
      /decimal clause can only be used on integers, was given string/,
    );
    expect(() => run("'%z'.format([1])")).toThrow(/unrecognized formatting clause "z"/);
  });

  it("prints doubles for %s as Go's strconv 'g' does", () => {
    expect(goFormatFloatG(1234567)).toBe("1.234567e+06");
    expect(goFormatFloatG(100000)).toBe("100000");
    expect(goFormatFloatG(0.0001)).toBe("0.0001");
    expect(goFormatFloatG(0.00001)).toBe("1e-05");
    expect(goFormatFloatG(1e21)).toBe("1e+21");
  });
});
