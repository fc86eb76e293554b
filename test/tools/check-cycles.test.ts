import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildGraph, findCycles } from "../../scripts/check-cycles.ts";

let dir: string;
/** Writes a throwaway source tree: file name → contents. */
function tree(files: Record<string, string>): string {
  dir = mkdtempSync(path.join(tmpdir(), "cycles-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}
const rel = (files: string[]) => files.map((f) => path.relative(dir, f));

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("check-cycles", () => {
  it("finds a cycle closed by a type-only import and marks that edge", () => {
    const root = tree({
      "src/a.ts": `import { b } from "./b.ts";\nexport const a = b + 1;\n`,
      "src/b.ts": `import type { C } from "./lib/c.ts";\nexport const b = 1;\nexport type B = C;\n`,
      "src/lib/c.ts": `export type { A } from "../a.ts";\nexport type C = number;\n`,
    });
    const cycles = findCycles(buildGraph([path.join(root, "src")]));
    expect(cycles).toHaveLength(1);
    expect(rel(cycles[0]!.members)).toEqual(["src/a.ts", "src/b.ts", "src/lib/c.ts"]);
    expect(rel(cycles[0]!.path)).toEqual(["src/a.ts", "src/b.ts", "src/lib/c.ts", "src/a.ts"]);
    expect(cycles[0]!.typeOnly).toEqual([false, true, true]);
  });

  it("follows index files and modules outside the roots; a dynamic import() is not an edge", () => {
    const root = tree({
      "src/a.ts": `import { x } from "../shared";\nexport const a = x;\n`,
      "shared/index.ts": `import "../src/a.ts";\nexport const x = 1;\n`,
      "src/lazy.ts": `export const load = () => import("./late.ts");\n`,
      "src/late.ts": `import { load } from "./lazy.ts";\nexport const late = load;\n`,
    });
    const cycles = findCycles(buildGraph([path.join(root, "src")]));
    expect(cycles.map((c) => rel(c.members))).toEqual([["shared/index.ts", "src/a.ts"]]);
  });

  it("a self-import is a cycle; an acyclic tree has none", () => {
    const root = tree({
      "src/self.ts": `export * from "./self.ts";\n`,
      "src/x.ts": `import { y } from "./y.ts";\nexport const x = y;\n`,
      "src/y.ts": `export const y = 1;\n`,
    });
    expect(findCycles(buildGraph([path.join(root, "src")])).map((c) => rel(c.members))).toEqual([["src/self.ts"]]);
    rmSync(path.join(root, "src/self.ts"));
    expect(findCycles(buildGraph([path.join(root, "src")]))).toEqual([]);
  });
});
