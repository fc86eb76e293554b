/**
 * `npm run lint` runs this after Biome: the layering rules of docs/conventions (README "Where things happen") that a
 * formatter cannot see. Exits 1 with each violation's file and line.
 *
 * - Route files (src/routes, src/console/routes) reach bindings only through `c.var.services`: no `c.env`, no
 *   drizzle or src/db imports, no binding types, no non-null assertions on inputs.
 * - Services never import the app or the request context (a service is callable from a queue consumer or a test).
 * - No source file over 300 lines; no Durable Object class file over 250.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Generated or data files, exempt from the size rule. */
const GENERATED = new Set(["clients/typescript/src/schema.ts", "src/console/assets/generated.ts", "models/index.ts"]);
const DURABLE_OBJECT_CLASSES = [
  "src/durable-objects/job-broker.ts",
  "src/durable-objects/account-ledger.ts",
  "src/durable-objects/workflow-run.ts",
  "src/durable-objects/endpoint.ts",
];

const ROUTE_RULES: [RegExp, string][] = [
  [/\bc\.env\b/, "reads c.env (use c.var.services)"],
  [/from "drizzle-orm/, "imports drizzle (queries belong in a service)"],
  [/from "(\.\.\/)+db\//, "imports src/db (queries belong in a service)"],
  [/\b(D1Database|DurableObjectNamespace|R2Bucket|KVNamespace)\b/, "names a binding type"],
  [/\bimport[^;]*\bEnv\b[^;]*from "[./]*env\.ts"/, "imports the Env bindings type"],
  [/\.(param|query|header)\([^)]*\)!/, "non-null assertion on a request input"],
];
const SERVICE_RULES: [RegExp, string][] = [
  [/from "(\.\.\/)+(app|context)\.ts"/, "a service imports the app or the request context"],
];

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (name === "node_modules" || name === "dist") continue;
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|tsx|mjs)$/.test(name) && !name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

export function checkLayers(root = ROOT): string[] {
  const problems: string[] = [];
  const rel = (p: string) => path.relative(root, p).split(path.sep).join("/");
  const sources = ["src", "schemas", "gpu-agent/src", "clients/typescript/src", "scripts", "stripe-standin"]
    .map((d) => path.join(root, d))
    .flatMap((d) => {
      try {
        return walk(d);
      } catch {
        return [];
      }
    });
  for (const file of sources) {
    const r = rel(file);
    const text = readFileSync(file, "utf8");
    const lines = text.split("\n");
    const rules = /^src\/(routes|console\/routes)\//.test(r)
      ? ROUTE_RULES
      : /^src\/(services|console\/services)\//.test(r)
        ? SERVICE_RULES
        : [];
    lines.forEach((line, i) => {
      for (const [re, why] of rules) if (re.test(line)) problems.push(`${r}:${i + 1}: ${why}`);
    });
    const max = DURABLE_OBJECT_CLASSES.includes(r) ? 250 : 300;
    if (!GENERATED.has(r) && lines.length > max) problems.push(`${r}: ${lines.length} lines (at most ${max})`);
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = checkLayers();
  for (const p of problems) console.error(p);
  if (problems.length) {
    console.error(`check-layers: ${problems.length} problem(s)`);
    process.exit(1);
  }
  console.log("check-layers: ok");
}
