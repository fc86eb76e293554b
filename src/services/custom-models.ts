import { and, eq } from "drizzle-orm";
import { uniqueViolation } from "./db-errors.ts";
import {
  MODEL_BY_SLUG,
  type ComfyJobSpec,
  type ComfyRequirements,
  type ComfyTarget,
  type CreateCustomModel,
  type CustomModelInput,
  type CustomModelView,
  type GpuClass,
  type ModelView,
  type Pricing,
} from "../../schemas/index.ts";
import type { ApiWorkflow } from "../../models/comfy-graph.ts";
import { db } from "../db/client.ts";
import { customModels } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { ApiError, notFound } from "../errors.ts";
import type { CatalogModel } from "./catalog-types.ts";
import { newId } from "./crypto.ts";
import { customInputSchema, customModelProblems, requirements } from "./custom-model-graph.ts";

type Create = Omit<CreateCustomModel, "description" | "output_type" | "max_execution_s"> & {
  description: string;
  output_type: "image" | "video";
  max_execution_s: number;
};
type Row = typeof customModels.$inferSelect;

/** Per-GPU-second rates a private model is billed at unless it names its own (micro-USD). */
export const DEFAULT_GPU_RATES: Partial<Record<GpuClass, number>> = {
  A40: 400,
  L40S: 600,
  "A100-40": 800,
  "A100-80": 1000,
  H100: 1400,
  other: 600,
};

/** Paths under /v1 and /v2 that are not models. */
const RESERVED_SLUGS = new Set([
  "models",
  "custom-models",
  "account",
  "usage",
  "get-user-credits",
  "requests",
  "workflows",
  "endpoints",
  "payments",
]);

function view(r: Row): ModelView {
  return {
    slug: r.slug,
    name: r.name,
    category: "custom",
    description: r.description,
    input_schema: r.inputSchema as Record<string, unknown>,
    output_type: r.outputType as "image" | "video",
    runtime: "comfyui",
    gpu_classes: r.gpuClasses as GpuClass[],
    pricing: r.pricing as Pricing,
    free: false,
    max_execution_s: r.maxExecutionS,
  };
}

function toView(r: Row): CustomModelView {
  return {
    ...view(r),
    private: true,
    workflow: r.workflow as Record<string, unknown>,
    inputs: r.inputs as Record<string, CustomModelInput>,
    requires: r.requires as ComfyRequirements,
    created_at: new Date(r.createdAt).toISOString(),
  };
}

/** Accounts' private ComfyUI models: each is visible to, and callable by, its own account only. */
export class CustomModels {
  constructor(private env: Env) {}

  async create(accountId: string, body: Create): Promise<CustomModelView> {
    const problems = customModelProblems(body);
    if (problems.length) {
      const message = `the workflow or its mapping has ${problems.length} problem(s)`;
      throw new ApiError("invalid_input", message, { fields: problems });
    }
    if (RESERVED_SLUGS.has(body.slug) || MODEL_BY_SLUG.has(body.slug)) {
      const what = RESERVED_SLUGS.has(body.slug) ? "a reserved path" : "a catalog model";
      throw new ApiError("conflict", `'${body.slug}' is ${what}; choose another slug`);
    }
    const pricing: Pricing = body.pricing ?? {
      kind: "per_gpu_second",
      micro_usd_per_second: Object.fromEntries(body.gpu_classes.map((c) => [c, DEFAULT_GPU_RATES[c] ?? 600])),
    };
    const row: Row = {
      id: newId("cm"),
      accountId,
      slug: body.slug,
      name: body.name,
      description: body.description || `Private ComfyUI workflow ${body.name}`,
      workflow: body.workflow,
      inputs: body.inputs,
      inputSchema: customInputSchema(body.inputs),
      outputType: body.output_type,
      gpuClasses: body.gpu_classes,
      pricing,
      requires: requirements(body.workflow as ApiWorkflow),
      maxExecutionS: body.max_execution_s,
      createdAt: Date.now(),
    };
    try {
      await db(this.env).insert(customModels).values(row);
    } catch (e) {
      if (uniqueViolation(e)) {
        throw new ApiError("conflict", `you already have a model '${body.slug}'`);
      }
      throw e;
    }
    return toView(row);
  }

  private async row(accountId: string, slug: string): Promise<Row | null> {
    const where = and(eq(customModels.accountId, accountId), eq(customModels.slug, slug));
    return (await db(this.env).select().from(customModels).where(where).get()) ?? null;
  }

  async list(accountId: string): Promise<CustomModelView[]> {
    const rows = await db(this.env)
      .select()
      .from(customModels)
      .where(eq(customModels.accountId, accountId))
      .orderBy(customModels.createdAt)
      .all();
    return rows.map(toView);
  }

  /** Another account's model answers exactly as a missing one does. */
  async get(accountId: string, slug: string): Promise<CustomModelView> {
    const r = await this.row(accountId, slug);
    if (!r) throw notFound("model");
    return toView(r);
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
    for (const [field, m] of Object.entries(r.inputs as Record<string, CustomModelInput>)) {
      targets[field] = { node: m.node, input: m.input };
    }
    const spec = { workflow: r.workflow as ComfyJobSpec["workflow"], inputs: targets };
    return {
      view: v,
      pool: "public",
      // generated images: outputs are moderated as the catalog's text-to-image models are
      definition: { ...v, runtime: "comfyui", pool: "public", moderation: "block", owner_account_id: accountId },
      comfy: { spec, requires: r.requires as ComfyRequirements },
    };
  }
}
