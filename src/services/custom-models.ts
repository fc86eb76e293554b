import { and, eq } from "drizzle-orm";
import {
  MODEL_BY_SLUG, type ComfyJobSpec, type ComfyRequirements, type ComfyTarget, type CreateCustomModel, type CustomModelInput,
  type CustomModelView, type GpuClass, type ModelView, type Pricing,
} from "../../schemas/index.ts";
import { CORE_NODES, IMAGE_INPUT_NODES, KNOWN_CUSTOM_NODES, checkGraph, graphFiles, type ApiWorkflow } from "../../models/comfy-nodes.ts";
import { db } from "../db/client.ts";
import { customModels } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { ApiError, notFound } from "../errors.ts";
import type { CatalogModel } from "./catalog.ts";
import { newId } from "./crypto.ts";

type Create = Omit<CreateCustomModel, "description" | "output_type" | "max_execution_s"> & {
  description: string; output_type: "image" | "video"; max_execution_s: number;
};
type Row = typeof customModels.$inferSelect;

/** Per-GPU-second rates a private model is billed at unless it names its own (micro-USD). */
export const DEFAULT_GPU_RATES: Partial<Record<GpuClass, number>> = { A40: 400, L40S: 600, "A100-40": 800, "A100-80": 1000, H100: 1400, other: 600 };

/** Paths under /v1 and /v2 that are not models. */
const RESERVED_SLUGS = new Set(["models", "custom-models", "account", "usage", "get-user-credits", "requests", "workflows", "endpoints", "payments"]);
const VALUE_TYPES = new Set(["INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"]);
const esc = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");
interface Problem { path: string; message: string; code: string }

/** Every problem of a graph and its field mapping, each at a JSON pointer into the request body. */
export function customModelProblems(body: Pick<Create, "workflow" | "inputs" | "gpu_classes" | "pricing">): Problem[] {
  const graph = body.workflow as ApiWorkflow;
  const problems: Problem[] = checkGraph(graph, Object.keys(KNOWN_CUSTOM_NODES))
    .map((p) => ({ path: `/workflow${p.pointer}`, message: p.message, code: "invalid_graph" }));
  const imageTargets = new Set<string>();
  for (const [field, m] of Object.entries(body.inputs)) {
    const at = `/inputs/${esc(field)}`;
    if (field === "base64") {
      problems.push({ path: at, message: "'base64' is reserved: it asks for the output inline", code: "reserved" });
      continue;
    }
    const node = graph[m.node];
    if (!node) {
      problems.push({ path: `${at}/node`, message: `node '${m.node}' is not in the workflow`, code: "missing_node" });
      continue;
    }
    const def = CORE_NODES[node.class_type];
    const type = def?.required[m.input] ?? def?.optional?.[m.input];
    if (!(m.input in (node.inputs ?? {})) && type === undefined) {
      problems.push({ path: `${at}/input`, message: `node '${m.node}' (${node.class_type}) has no input '${m.input}'`, code: "missing_input" });
      continue;
    }
    const current = node.inputs?.[m.input];
    const isImageTarget = IMAGE_INPUT_NODES[node.class_type] === m.input;
    if (m.type === "image" && !isImageTarget) {
      problems.push({ path: `${at}/type`, message: `an image field must fill a LoadImage or LoadImageMask 'image' input, not ${node.class_type}.${m.input}`, code: "type_mismatch" });
    } else if (m.type !== "image" && isImageTarget) {
      problems.push({ path: `${at}/type`, message: `${node.class_type}.${m.input} takes an uploaded image: declare the field as type 'image'`, code: "type_mismatch" });
    } else if (Array.isArray(current) || (type !== undefined && !VALUE_TYPES.has(type))) {
      problems.push({ path: `${at}/input`, message: `${node.class_type}.${m.input} is a link to another node, not a value`, code: "type_mismatch" });
    }
    if (m.default !== undefined && !defaultFits(m)) problems.push({ path: `${at}/default`, message: `default does not match type ${m.type}`, code: "type_mismatch" });
    if (isImageTarget) imageTargets.add(m.node);
  }
  // An image loader nobody fills would read a file the agent never uploaded.
  for (const [id, node] of Object.entries(graph)) {
    if (node && IMAGE_INPUT_NODES[node.class_type] && !imageTargets.has(id)) {
      problems.push({ path: `/workflow/${esc(id)}/inputs/image`, message: `${node.class_type} node '${id}' is not mapped: add an image field with {"node": "${id}", "input": "image", "type": "image"}`, code: "missing_mapping" });
    }
  }
  if (body.pricing?.kind === "per_gpu_second") {
    for (const cls of body.gpu_classes) {
      if (body.pricing.micro_usd_per_second[cls] === undefined) problems.push({ path: `/pricing/micro_usd_per_second/${cls}`, message: `no price for GPU class ${cls}`, code: "missing_price" });
    }
  }
  return problems;
}

function defaultFits(m: CustomModelInput): boolean {
  const v = m.default;
  if (m.type === "integer") return Number.isInteger(v);
  if (m.type === "number") return typeof v === "number";
  if (m.type === "boolean") return typeof v === "boolean";
  return typeof v === "string";
}

/** The request's JSON Schema, built from the field mapping; a field without a default is required. */
export function customInputSchema(inputs: Record<string, CustomModelInput>): Record<string, unknown> {
  const properties: Record<string, Record<string, unknown>> = {};
  const required: string[] = [];
  for (const [field, m] of Object.entries(inputs)) {
    const p: Record<string, unknown> = m.type === "image" ? { type: "string", minLength: 1, format: "image" } : { type: m.type };
    for (const k of ["description", "minimum", "maximum", "enum", "default"] as const) if (m[k] !== undefined) p[k] = m[k];
    properties[field] = p;
    if (m.default === undefined) required.push(field);
  }
  properties.base64 = { type: "boolean", default: false, description: "Return the output inline as base64 JSON" };
  return { type: "object", properties, required, additionalProperties: false };
}

export function requirements(workflow: ApiWorkflow): ComfyRequirements {
  const nodeTypes = new Set(Object.values(workflow).map((n) => n.class_type).filter((t) => !CORE_NODES[t]));
  const files = new Set(graphFiles(workflow).map((f) => `${f.folder}/${f.file}`));
  return { node_types: [...nodeTypes].sort(), files: [...files].sort() };
}

function view(r: Row): ModelView {
  return {
    slug: r.slug, name: r.name, category: "custom", description: r.description, input_schema: r.inputSchema as Record<string, unknown>,
    output_type: r.outputType as "image" | "video", runtime: "comfyui", gpu_classes: r.gpuClasses as GpuClass[],
    pricing: r.pricing as Pricing, free: false, max_execution_s: r.maxExecutionS,
  };
}

/** Accounts' private ComfyUI models: each is visible to, and callable by, its own account only. */
export class CustomModels {
  constructor(private env: Env) {}

  async create(accountId: string, body: Create): Promise<CustomModelView> {
    const problems = customModelProblems(body);
    if (problems.length) throw new ApiError("invalid_input", `the workflow or its mapping has ${problems.length} problem(s)`, { fields: problems });
    if (RESERVED_SLUGS.has(body.slug)) throw new ApiError("conflict", `'${body.slug}' is a reserved path; choose another slug`);
    if (MODEL_BY_SLUG.has(body.slug)) throw new ApiError("conflict", `'${body.slug}' is a catalog model; choose another slug`);
    const pricing: Pricing = body.pricing ?? {
      kind: "per_gpu_second",
      micro_usd_per_second: Object.fromEntries(body.gpu_classes.map((c) => [c, DEFAULT_GPU_RATES[c] ?? 600])),
    };
    const row: Row = {
      id: newId("cm"), accountId, slug: body.slug, name: body.name, description: body.description || `Private ComfyUI workflow ${body.name}`,
      workflow: body.workflow, inputs: body.inputs, inputSchema: customInputSchema(body.inputs), outputType: body.output_type,
      gpuClasses: body.gpu_classes, pricing, requires: requirements(body.workflow as ApiWorkflow), maxExecutionS: body.max_execution_s,
      createdAt: Date.now(),
    };
    try {
      await db(this.env).insert(customModels).values(row);
    } catch (e) {
      // drizzle wraps D1's error: the constraint is named in the cause
      if (/UNIQUE constraint failed/.test(`${String(e)} ${String((e as { cause?: unknown }).cause)}`)) throw new ApiError("conflict", `you already have a model '${body.slug}'`);
      throw e;
    }
    return this.toView(row);
  }

  private async row(accountId: string, slug: string): Promise<Row | null> {
    return (await db(this.env).select().from(customModels).where(and(eq(customModels.accountId, accountId), eq(customModels.slug, slug))).get()) ?? null;
  }

  async list(accountId: string): Promise<CustomModelView[]> {
    const rows = await db(this.env).select().from(customModels).where(eq(customModels.accountId, accountId)).orderBy(customModels.createdAt).all();
    return rows.map((r) => this.toView(r));
  }

  /** Another account's model answers exactly as a missing one does. */
  async get(accountId: string, slug: string): Promise<CustomModelView> {
    const r = await this.row(accountId, slug);
    if (!r) throw notFound("model");
    return this.toView(r);
  }

  async delete(accountId: string, slug: string): Promise<void> {
    const r = await this.row(accountId, slug);
    if (!r) throw notFound("model");
    await db(this.env).delete(customModels).where(eq(customModels.id, r.id));
  }

  /** The model as the inference routes run it, or null when the account has none by that slug. */
  async resolve(accountId: string, slug: string): Promise<CatalogModel | null> {
    const r = await this.row(accountId, slug);
    if (!r) return null;
    const v = view(r);
    const targets: Record<string, ComfyTarget> = {};
    for (const [field, m] of Object.entries(r.inputs as Record<string, CustomModelInput>)) targets[field] = { node: m.node, input: m.input };
    return {
      view: v,
      pool: "public",
      definition: { ...v, runtime: "comfyui", pool: "public", moderation: "block", owner_account_id: accountId },
      comfy: { spec: { workflow: r.workflow as ComfyJobSpec["workflow"], inputs: targets }, requires: r.requires as ComfyRequirements },
    };
  }

  private toView(r: Row): CustomModelView {
    return {
      ...view(r), private: true, workflow: r.workflow as Record<string, unknown>, inputs: r.inputs as Record<string, CustomModelInput>,
      requires: r.requires as ComfyRequirements, created_at: new Date(r.createdAt).toISOString(),
    };
  }
}
