import type { ComfyRequirements, CustomModelInput, GpuClass, Pricing } from "../../schemas/index.ts";
import { CORE_NODES, IMAGE_INPUT_NODES, KNOWN_CUSTOM_NODES } from "../../models/comfy-nodes.ts";
import { checkGraph, graphFiles, type ApiWorkflow } from "../../models/comfy-graph.ts";

/** One problem of a submitted graph or mapping, at a JSON pointer into the request body. */
export interface Problem {
  path: string;
  message: string;
  code: string;
}

export interface GraphBody {
  workflow: Record<string, { class_type: string; inputs: Record<string, unknown> }>;
  inputs: Record<string, CustomModelInput>;
  gpu_classes: GpuClass[];
  pricing?: Pricing;
}

const VALUE_TYPES = new Set(["INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"]);
const esc = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

function defaultFits(m: CustomModelInput): boolean {
  const v = m.default;
  if (m.type === "integer") return Number.isInteger(v);
  if (m.type === "number") return typeof v === "number";
  if (m.type === "boolean") return typeof v === "boolean";
  return typeof v === "string";
}

/** The problems of one field's mapping: its node and input must exist and take what the field sends. */
function mappingProblems(graph: ApiWorkflow, field: string, m: CustomModelInput): Problem[] {
  const at = `/inputs/${esc(field)}`;
  if (field === "base64") {
    return [{ path: at, message: "'base64' is reserved: it asks for the output inline", code: "reserved" }];
  }
  const node = graph[m.node];
  if (!node) return [{ path: `${at}/node`, message: `node '${m.node}' is not in the workflow`, code: "missing_node" }];
  const def = CORE_NODES[node.class_type];
  const type = def?.required[m.input] ?? def?.optional?.[m.input];
  const name = `${node.class_type}.${m.input}`;
  if (!(m.input in (node.inputs ?? {})) && type === undefined) {
    const message = `node '${m.node}' (${node.class_type}) has no input '${m.input}'`;
    return [{ path: `${at}/input`, message, code: "missing_input" }];
  }
  const out: Problem[] = [];
  const isImageTarget = IMAGE_INPUT_NODES[node.class_type] === m.input;
  if (m.type === "image" && !isImageTarget) {
    const message = `an image field must fill a LoadImage or LoadImageMask 'image' input, not ${name}`;
    out.push({ path: `${at}/type`, message, code: "type_mismatch" });
  } else if (m.type !== "image" && isImageTarget) {
    const message = `${name} takes an uploaded image: declare the field as type 'image'`;
    out.push({ path: `${at}/type`, message, code: "type_mismatch" });
  } else if (Array.isArray(node.inputs?.[m.input]) || (type !== undefined && !VALUE_TYPES.has(type))) {
    out.push({ path: `${at}/input`, message: `${name} is a link to another node, not a value`, code: "type_mismatch" });
  }
  if (m.default !== undefined && !defaultFits(m)) {
    out.push({ path: `${at}/default`, message: `default does not match type ${m.type}`, code: "type_mismatch" });
  }
  return out;
}

/** Every problem of a graph and its field mapping, each at a JSON pointer into the request body. */
export function customModelProblems(body: GraphBody): Problem[] {
  const graph = body.workflow as ApiWorkflow;
  const problems: Problem[] = checkGraph(graph, Object.keys(KNOWN_CUSTOM_NODES)).map((p) => ({
    path: `/workflow${p.pointer}`,
    message: p.message,
    code: "invalid_graph",
  }));
  const fed = new Set<string>();
  for (const [field, m] of Object.entries(body.inputs)) {
    problems.push(...mappingProblems(graph, field, m));
    if (graph[m.node] && IMAGE_INPUT_NODES[graph[m.node]!.class_type] === m.input) fed.add(m.node);
  }
  // An image loader nobody fills would read a file the agent never uploaded.
  for (const [id, node] of Object.entries(graph)) {
    if (!node || !IMAGE_INPUT_NODES[node.class_type] || fed.has(id)) continue;
    const hint = `{"node": "${id}", "input": "image", "type": "image"}`;
    const message = `${node.class_type} node '${id}' is not mapped: add an image field with ${hint}`;
    problems.push({ path: `/workflow/${esc(id)}/inputs/image`, message, code: "missing_mapping" });
  }
  if (body.pricing?.kind === "per_gpu_second") {
    for (const cls of body.gpu_classes) {
      if (body.pricing.micro_usd_per_second[cls] !== undefined) continue;
      const path = `/pricing/micro_usd_per_second/${cls}`;
      problems.push({ path, message: `no price for GPU class ${cls}`, code: "missing_price" });
    }
  }
  return problems;
}

/** The request's JSON Schema, built from the field mapping; a field without a default is required. */
export function customInputSchema(inputs: Record<string, CustomModelInput>): Record<string, unknown> {
  const properties: Record<string, Record<string, unknown>> = {};
  const required: string[] = [];
  for (const [field, m] of Object.entries(inputs)) {
    const p: Record<string, unknown> =
      m.type === "image" ? { type: "string", minLength: 1, format: "image" } : { type: m.type };
    for (const k of ["description", "minimum", "maximum", "enum", "default"] as const) {
      if (m[k] !== undefined) p[k] = m[k];
    }
    properties[field] = p;
    if (m.default === undefined) required.push(field);
  }
  properties.base64 = { type: "boolean", default: false, description: "Return the output inline as base64 JSON" };
  return { type: "object", properties, required, additionalProperties: false };
}

/** What an agent must have to run the graph: its non-core node types and the model files its loaders read. */
export function requirements(workflow: ApiWorkflow): ComfyRequirements {
  const nodeTypes = new Set(
    Object.values(workflow)
      .map((n) => n.class_type)
      .filter((t) => !CORE_NODES[t]),
  );
  const files = new Set(graphFiles(workflow).map((f) => `${f.folder}/${f.file}`));
  return { node_types: [...nodeTypes].sort(), files: [...files].sort() };
}
