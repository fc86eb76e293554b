import { z } from "zod";

/**
 * The workflow definition (the public contract) and its save-time checker. Pure: no Workers or Node imports; the
 * caller passes what it knows about models (`ModelInfo`), so the same checker runs at save, validate and publish.
 */

export const NODE_ID = /^[a-z][a-z0-9_-]{0,39}$/;
export const MAX_NODES = 32;
export const INPUT_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/;

const base = { description: z.string().max(500).optional() };
export const WorkflowInput = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("image"), ...base }),
  z.strictObject({
    type: z.literal("string"),
    default: z.string().optional(),
    min_length: z.number().int().min(0).optional(),
    max_length: z.number().int().min(1).optional(),
    ...base,
  }),
  z.strictObject({
    type: z.literal("number"),
    default: z.number().optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    ...base,
  }),
  z.strictObject({
    type: z.literal("integer"),
    default: z.number().int().optional(),
    minimum: z.number().int().optional(),
    maximum: z.number().int().optional(),
    ...base,
  }),
  z.strictObject({ type: z.literal("boolean"), default: z.boolean().optional(), ...base }),
  z.strictObject({
    type: z.literal("enum"),
    values: z.array(z.string().min(1)).min(1).max(100),
    default: z.string().optional(),
    ...base,
  }),
]);
export type WorkflowInput = z.infer<typeof WorkflowInput>;

export const WorkflowNode = z.strictObject({
  model: z.string().min(1).max(100),
  input: z.record(z.string(), z.unknown()).default({}),
});
export type WorkflowNode = z.infer<typeof WorkflowNode>;

export const RefValue = z.strictObject({ $ref: z.string() });
export const WorkflowDefinition = z.strictObject({
  inputs: z.record(z.string(), WorkflowInput).default({}),
  nodes: z.record(z.string(), WorkflowNode),
  outputs: z.record(z.string(), RefValue),
});
export type WorkflowDefinition = z.infer<typeof WorkflowDefinition>;

export const DefinitionErrorCode = z.enum([
  "invalid_format",
  "too_many_nodes",
  "no_nodes",
  "no_outputs",
  "invalid_node_id",
  "invalid_name",
  "invalid_default",
  "invalid_ref",
  "unresolved_ref",
  "cycle",
  "unknown_model",
  "model_not_allowed",
  "unknown_field",
  "type_mismatch",
  "invalid_node_input",
]);
export type DefinitionErrorCode = z.infer<typeof DefinitionErrorCode>;
export const DefinitionError = z.object({ pointer: z.string(), code: DefinitionErrorCode, message: z.string() });
export type DefinitionError = z.infer<typeof DefinitionError>;

/** What the checker needs to know of a model; `allowed: false` when the account may not call it. */
export interface ModelInfo {
  /** the model's input JSON Schema; a string property with `format: "image"` is an image field */
  input_schema: Record<string, unknown>;
  output_type: "image" | "video" | "json";
  allowed: boolean;
  reason?: string;
}
export type ModelLookup = (slug: string) => ModelInfo | undefined;

// ---- refs -----------------------------------------------------------------------------------------------------

export type Ref =
  | { kind: "input"; name: string }
  | { kind: "output"; node: string; index: number }
  | { kind: "json"; node: string; path: string[] };

const SEG = /^[A-Za-z0-9_-]+$/;

/** Parses `inputs.x`, `nodes.x.output`, `nodes.x.outputs.N`, `nodes.x.json[.a.b]`; null when malformed. */
export function parseRef(s: string): Ref | null {
  const p = s.split(".");
  if (p[0] === "inputs" && p.length === 2 && SEG.test(p[1]!)) return { kind: "input", name: p[1]! };
  if (p[0] !== "nodes" || p.length < 3 || !SEG.test(p[1]!)) return null;
  const node = p[1]!;
  if (p[2] === "output" && p.length === 3) return { kind: "output", node, index: 0 };
  if (p[2] === "outputs" && p.length === 4 && /^(0|[1-9][0-9]{0,2})$/.test(p[3]!))
    return { kind: "output", node, index: Number(p[3]) };
  if (p[2] === "json" && p.slice(3).every((x) => SEG.test(x))) return { kind: "json", node, path: p.slice(3) };
  return null;
}

const TEMPLATE_REF = /\{([^{}]*)\}/g;

/** A node input value: a literal, a whole-value ref, or a template of refs. */
export type Value =
  | { kind: "literal"; value: unknown }
  | { kind: "ref"; ref: string }
  | { kind: "template"; template: string; refs: string[] };

export function classify(v: unknown): Value {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const keys = Object.keys(v);
    const o = v as Record<string, unknown>;
    if (keys.length === 1 && keys[0] === "$ref" && typeof o.$ref === "string") return { kind: "ref", ref: o.$ref };
    if (keys.length === 1 && keys[0] === "$template" && typeof o.$template === "string") {
      return {
        kind: "template",
        template: o.$template,
        refs: [...o.$template.matchAll(TEMPLATE_REF)].map((m) => m[1]!),
      };
    }
  }
  return { kind: "literal", value: v };
}

export function hasNestedRef(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasNestedRef);
  if (v && typeof v === "object")
    return Object.entries(v).some(([k, x]) => k === "$ref" || k === "$template" || hasNestedRef(x));
  return false;
}

/** The nodes a node reads from, in the order they first appear. */
export function dependencies(node: WorkflowNode): string[] {
  const out = new Set<string>();
  for (const v of Object.values(node.input)) {
    const c = classify(v);
    const refs = c.kind === "ref" ? [c.ref] : c.kind === "template" ? c.refs : [];
    for (const r of refs) {
      const p = parseRef(r);
      if (p && p.kind !== "input") out.add(p.node);
    }
  }
  return [...out];
}

/** Topological order (Kahn); `cyclic` lists the nodes left over, which lie on or behind a cycle. */
export function topoOrder(def: Pick<WorkflowDefinition, "nodes">): { order: string[]; cyclic: string[] } {
  const ids = Object.keys(def.nodes);
  const deps = new Map(ids.map((id) => [id, dependencies(def.nodes[id]!).filter((d) => d in def.nodes)]));
  const done = new Set<string>();
  const order: string[] = [];
  for (let progress = true; progress; ) {
    progress = false;
    for (const id of ids) {
      if (done.has(id) || !deps.get(id)!.every((d) => done.has(d))) continue;
      done.add(id);
      order.push(id);
      progress = true;
    }
  }
  return { order, cyclic: ids.filter((id) => !done.has(id)) };
}

/** The heaviest path through the graph by `weight(node)`: the run's deadline is this sum of node timeouts. */
export function longestPath(def: Pick<WorkflowDefinition, "nodes">, weight: (id: string) => number): number {
  const best = new Map<string, number>();
  for (const id of topoOrder(def).order) {
    const before = Math.max(0, ...dependencies(def.nodes[id]!).map((d) => best.get(d) ?? 0));
    best.set(id, before + weight(id));
  }
  return Math.max(0, ...best.values());
}

// ---- run inputs ------------------------------------------------------------------------------------------------

/** A zod schema of one declared input, used for defaults here and for run inputs by `inputsSchema`. */
export function inputSchema(d: WorkflowInput): z.ZodType {
  switch (d.type) {
    case "image":
      return z
        .string()
        .min(1)
        .meta({ format: "image", ...(d.description ? { description: d.description } : {}) });
    case "string": {
      let s = z.string();
      if (d.min_length !== undefined) s = s.min(d.min_length);
      if (d.max_length !== undefined) s = s.max(d.max_length);
      return d.description ? s.describe(d.description) : s;
    }
    case "number":
    case "integer": {
      let n = d.type === "integer" ? z.number().int() : z.number();
      if (d.minimum !== undefined) n = n.min(d.minimum);
      if (d.maximum !== undefined) n = n.max(d.maximum);
      return d.description ? n.describe(d.description) : n;
    }
    case "boolean":
      return d.description ? z.boolean().describe(d.description) : z.boolean();
    case "enum":
      return d.description
        ? z.enum(d.values as [string, ...string[]]).describe(d.description)
        : z.enum(d.values as [string, ...string[]]);
  }
}

/** The strict object schema a run's body is validated with: declared inputs, defaults applied. */
export function inputsSchema(def: Pick<WorkflowDefinition, "inputs">): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, d] of Object.entries(def.inputs)) {
    const s = inputSchema(d);
    const dflt = "default" in d ? d.default : undefined;
    shape[name] = dflt !== undefined ? s.default(dflt as never) : s;
  }
  return z.strictObject(shape);
}

export function inputsJsonSchema(def: Pick<WorkflowDefinition, "inputs">): Record<string, unknown> {
  return z.toJSONSchema(inputsSchema(def), { target: "draft-2020-12", io: "input" }) as Record<string, unknown>;
}
