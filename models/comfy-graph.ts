/** Checks of ComfyUI API-format graphs against the node definitions in comfy-nodes.ts. */
import { CORE_NODES } from "./comfy-nodes.ts";

export type ApiWorkflow = Record<string, { class_type: string; inputs: Record<string, unknown>; _meta?: unknown }>;

export interface GraphProblem {
  /** JSON pointer into the workflow (e.g. `/7/inputs/clip`) */
  pointer: string;
  message: string;
}

const isLink = (v: unknown): v is [string, number] =>
  Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && typeof v[1] === "number";
const esc = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

const VALUE_TYPES = new Set(["INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"]);

/** What is wrong with one input's value given the type the node declares for it, or null. */
function linkProblem(graph: ApiWorkflow, type: string | undefined, v: unknown): string | null {
  const wantsLink = type !== undefined && /^[A-Z_]+$/.test(type) && !VALUE_TYPES.has(type);
  if (!isLink(v)) return wantsLink ? `expects a link to a ${type} output` : null;
  const src = graph[v[0]];
  if (!src) return `links to node '${v[0]}', which is not in the graph`;
  const srcDef = CORE_NODES[src.class_type];
  if (!srcDef) return null;
  if (v[1] < 0 || v[1] >= srcDef.outputs.length) return `${src.class_type} has no output slot ${v[1]}`;
  const got = srcDef.outputs[v[1]];
  if (wantsLink && got !== type) return `expects ${type}, linked to ${src.class_type} output ${v[1]} (${got})`;
  return null;
}

/**
 * Checks a graph in ComfyUI's API format as ComfyUI's validation would before running it: known node types,
 * required inputs present, links to existing nodes and output slots of the right type, at least one output node.
 * Node types in `extraTypes` (custom nodes) are accepted without input checks.
 */
export function checkGraph(graph: ApiWorkflow, extraTypes: Iterable<string> = []): GraphProblem[] {
  const extra = new Set(extraTypes);
  const problems: GraphProblem[] = [];
  let outputs = 0;
  for (const [id, node] of Object.entries(graph)) {
    const at = `/${esc(id)}`;
    if (!node || typeof node !== "object" || typeof node.class_type !== "string") {
      problems.push({ pointer: at, message: "a node needs a class_type and inputs" });
      continue;
    }
    const def = CORE_NODES[node.class_type];
    if (!def) {
      if (extra.has(node.class_type)) continue;
      problems.push({ pointer: `${at}/class_type`, message: `unknown node type '${node.class_type}'` });
      continue;
    }
    if (def.output_node) outputs++;
    const inputs = node.inputs ?? {};
    for (const name of Object.keys(def.required)) {
      if (name in inputs) continue;
      problems.push({ pointer: `${at}/inputs/${esc(name)}`, message: `${node.class_type} requires input '${name}'` });
    }
    for (const [name, v] of Object.entries(inputs)) {
      const message = linkProblem(graph, def.required[name] ?? def.optional?.[name], v);
      if (message) problems.push({ pointer: `${at}/inputs/${esc(name)}`, message });
    }
  }
  if (outputs === 0 && problems.length === 0 && ![...Object.values(graph)].some((n) => extra.has(n.class_type))) {
    problems.push({ pointer: "", message: "the graph has no output node (SaveImage, SaveAnimatedWEBP, ...)" });
  }
  return problems;
}

/** The model files a graph loads: `{folder, file}` from every loader input (`ckpt_name`, `unet_name`, ...). */
export function graphFiles(graph: ApiWorkflow): { folder: string; file: string }[] {
  const out: { folder: string; file: string }[] = [];
  for (const node of Object.values(graph)) {
    const files = CORE_NODES[node.class_type]?.files ?? {};
    for (const [input, folder] of Object.entries(files)) {
      const v = node.inputs?.[input];
      if (typeof v === "string") out.push({ folder, file: v });
    }
  }
  return out;
}
