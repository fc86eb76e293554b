import { eq } from "drizzle-orm";
import { z } from "zod";
import { MODEL_BY_SLUG, MODEL_DEFINITIONS, type ModelDefinition, type ModelView, type Pricing, type GpuClass, type OutputType } from "../../schemas/index.ts";
import { db } from "../db/client.ts";
import { models } from "../db/schema.ts";
import type { Env } from "../env.ts";

export interface CatalogModel {
  view: ModelView;
  /** the zod schema requests are validated with */
  definition: ModelDefinition;
  pool: string;
}

export interface Catalog {
  list(): Promise<ModelView[]>;
  get(slug: string): Promise<CatalogModel | null>;
  sync(): Promise<number>;
}

export function inputJsonSchema(d: ModelDefinition): Record<string, unknown> {
  return z.toJSONSchema(d.input, { target: "draft-2020-12", io: "input" }) as Record<string, unknown>;
}

type Row = typeof models.$inferSelect;
function toView(r: Row): ModelView {
  return {
    slug: r.slug,
    name: r.name,
    category: r.category,
    description: r.description,
    input_schema: r.inputSchema as Record<string, unknown>,
    output_type: r.outputType as OutputType,
    runtime: r.runtime,
    gpu_classes: r.gpuClasses as GpuClass[],
    pricing: r.pricing as Pricing,
    free: r.free,
    max_execution_s: r.maxExecutionS,
  };
}

/**
 * The catalog lives in D1 (operators edit prices and availability there); the code holds the input schemas of the
 * models it can validate. A model is served when it is enabled in D1 and its schema is known here.
 */
export class D1Catalog implements Catalog {
  constructor(private env: Env) {}

  async list(): Promise<ModelView[]> {
    const rows = await db(this.env).select().from(models).where(eq(models.enabled, true)).all();
    return rows.filter((r) => MODEL_BY_SLUG.has(r.slug)).map(toView);
  }

  async get(slug: string): Promise<CatalogModel | null> {
    const definition = MODEL_BY_SLUG.get(slug);
    if (!definition) return null;
    const row = await db(this.env).select().from(models).where(eq(models.slug, slug)).get();
    if (!row || !row.enabled) return null;
    const view = toView(row);
    // Prices, GPU classes and limits come from D1 so operators can change them without a deploy.
    return {
      view,
      pool: row.pool,
      definition: { ...definition, gpu_classes: view.gpu_classes, pricing: view.pricing, free: view.free, max_execution_s: view.max_execution_s },
    };
  }

  /** Upserts the built-in definitions; idempotent, run by the start script and at deploy. */
  async sync(): Promise<number> {
    const now = Date.now();
    const d = db(this.env);
    await d.batch(
      MODEL_DEFINITIONS.map((m) => {
        const values = {
          slug: m.slug,
          name: m.name,
          category: m.category,
          description: m.description,
          inputSchema: inputJsonSchema(m),
          outputType: m.output_type,
          runtime: m.runtime,
          gpuClasses: m.gpu_classes,
          pricing: m.pricing,
          free: m.free,
          pool: m.pool,
          maxExecutionS: m.max_execution_s,
          enabled: true,
          updatedAt: now,
        };
        // On re-sync only what the code owns changes; prices, GPU classes and availability stay as operators set them.
        const owned = { name: m.name, category: m.category, description: m.description, inputSchema: values.inputSchema, outputType: m.output_type, runtime: m.runtime, updatedAt: now };
        return d.insert(models).values(values).onConflictDoUpdate({ target: models.slug, set: owned });
      }) as unknown as [never],
    );
    return MODEL_DEFINITIONS.length;
  }
}
