/**
 * `node scripts/check-cycles.ts` (part of `npm run lint`): finds import cycles among the project's own modules and
 * exits 1 when there is one. Type-only imports count: a cycle of types still ties the modules into one unit that
 * cannot be read, tested or moved apart. Every static `import` and `export … from` with a relative specifier is an
 * edge (a bare `import "./x.ts"` too); dynamic `import()` is not, since a lazy load is the usual way to break a cycle
 * on purpose. Modules outside the roots are followed when a root module imports them (models/, for one).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

export const ROOTS = ["src", "schemas", "gpu-agent/src", "clients/typescript/src"];
const EXTENSIONS = [".ts", ".tsx", ".mts"];

export interface Edge {
  to: string;
  /** `import type …` or `export type … from`: erased at runtime, but a dependency all the same */
  typeOnly: boolean;
}

/** The relative imports of one module, resolved to files; specifiers that resolve to nothing are skipped. */
export function importsOf(file: string): Edge[] {
  const text = readFileSync(file, "utf8");
  const kind = file.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, kind);
  const edges: Edge[] = [];
  for (const st of sf.statements) {
    let spec: ts.Expression | undefined;
    let typeOnly = false;
    if (ts.isImportDeclaration(st)) {
      spec = st.moduleSpecifier;
      typeOnly = st.importClause?.isTypeOnly ?? false;
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier) {
      spec = st.moduleSpecifier;
      typeOnly = st.isTypeOnly;
    } else if (
      ts.isImportEqualsDeclaration(st) &&
      ts.isExternalModuleReference(st.moduleReference) &&
      st.moduleReference.expression
    ) {
      spec = st.moduleReference.expression;
      typeOnly = st.isTypeOnly;
    }
    if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith(".")) continue;
    const to = resolve(path.dirname(file), spec.text);
    if (to) edges.push({ to, typeOnly });
  }
  return edges;
}

function isFile(p: string): boolean {
  return existsSync(p) && statSync(p).isFile();
}

function resolve(dir: string, spec: string): string | null {
  const base = path.resolve(dir, spec);
  if (isFile(base) && EXTENSIONS.includes(path.extname(base))) return base;
  // `./x.js` written for a `./x.ts`, or an extensionless specifier
  const stem = base.replace(/\.(m?js|jsx)$/, "");
  for (const ext of EXTENSIONS) if (isFile(stem + ext)) return stem + ext;
  for (const ext of EXTENSIONS) if (isFile(path.join(base, `index${ext}`))) return path.join(base, `index${ext}`);
  return null;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of ts.sys.readDirectory(dir, EXTENSIONS, ["**/node_modules/**", "**/*.d.ts"], ["**/*"])) {
    out.push(path.resolve(e));
  }
  return out;
}

/** The import graph of every module under `roots` and of every module they reach. */
export function buildGraph(roots: string[]): Map<string, Edge[]> {
  const graph = new Map<string, Edge[]>();
  const todo = roots.flatMap((r) => (existsSync(r) ? sourceFiles(r) : []));
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (graph.has(f)) continue;
    const edges = importsOf(f);
    graph.set(f, edges);
    for (const e of edges) if (!graph.has(e.to)) todo.push(e.to);
  }
  return graph;
}

export interface Cycle {
  /** every module of one strongly connected component */
  members: string[];
  /** one shortest cycle through it, first module repeated at the end */
  path: string[];
  /** whether each edge of `path` is type-only */
  typeOnly: boolean[];
}

/** The strongly connected components with more than one module (or a module importing itself), as cycles. */
export function findCycles(graph: Map<string, Edge[]>): Cycle[] {
  // Tarjan's algorithm, iterative so a deep import chain cannot overflow the stack.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const sccs: string[][] = [];
  let next = 0;
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue;
    const work: { v: string; i: number }[] = [{ v: start, i: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const edges = graph.get(top.v) ?? [];
      if (top.i < edges.length) {
        const w = edges[top.i++]!.to;
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.v, Math.min(low.get(parent.v)!, low.get(top.v)!));
      if (low.get(top.v) === index.get(top.v)) {
        const scc: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          scc.push(w);
        } while (w !== top.v);
        const selfLoop = (graph.get(top.v) ?? []).some((e) => e.to === top.v);
        if (scc.length > 1 || selfLoop) sccs.push(scc.sort());
      }
    }
  }
  return sccs.map((members) => ({ members, ...shortestCycle(graph, members) }));
}

/** A shortest cycle through the component's first module, by breadth-first search inside the component. */
function shortestCycle(graph: Map<string, Edge[]>, members: string[]): { path: string[]; typeOnly: boolean[] } {
  const inside = new Set(members);
  const start = members[0]!;
  const prev = new Map<string, { from: string; typeOnly: boolean }>();
  const queue = [start];
  for (let q = 0; q < queue.length; q++) {
    const v = queue[q]!;
    for (const e of graph.get(v) ?? []) {
      if (!inside.has(e.to)) continue;
      if (e.to === start) {
        const path = [start];
        const typeOnly = [e.typeOnly];
        for (let u = v; u !== start; u = prev.get(u)!.from) {
          path.unshift(u);
          typeOnly.unshift(prev.get(u)!.typeOnly);
        }
        path.unshift(start);
        return { path, typeOnly };
      }
      if (!prev.has(e.to)) {
        prev.set(e.to, { from: v, typeOnly: e.typeOnly });
        queue.push(e.to);
      }
    }
  }
  return { path: [start, start], typeOnly: [false] };
}

/** Cycles as text: each component's modules, then one cycle with `-(type)->` on type-only edges. */
export function report(cycles: Cycle[], root: string): string {
  const rel = (f: string) => path.relative(root, f);
  return cycles
    .map((c, i) => {
      const steps = c.path.map((f, j) => (j === 0 ? rel(f) : `${c.typeOnly[j - 1] ? "-(type)->" : "->"} ${rel(f)}`));
      return `cycle ${i + 1} (${c.members.length} modules): ${c.members.map(rel).join(", ")}\n  ${steps.join("\n  ")}`;
    })
    .join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const graph = buildGraph(ROOTS.map((r) => path.join(root, r)));
  const cycles = findCycles(graph);
  if (cycles.length === 0) {
    console.log(`check-cycles: no import cycles among ${graph.size} modules`);
  } else {
    console.error(report(cycles, root));
    console.error(`check-cycles: ${cycles.length} import cycle(s) among ${graph.size} modules`);
    process.exit(1);
  }
}
