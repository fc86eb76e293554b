import { eq } from "drizzle-orm";
import {
  MODEL_BY_SLUG,
  MODEL_MANIFESTS,
  toDefinition,
  type GpuClass,
  type ModelDefinition,
  type ModelView,
  type OutputType,
  type Pricing,
} from "../../schemas/index.ts";
import { db } from "../db/client.ts";
import { models } from "../db/schema.ts";
import type { Env } from "../env.ts";
import type { Catalog, CatalogModel } from "./catalog-types.ts";
import { CustomModels } from "./custom-models.ts";
import { cached, invalidate } from "./edge-cache.ts";

export type { Catalog, CatalogModel } from "./catalog-types.ts";

export const CATALOG_CACHE_KEY = "catalog:models";

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
 * The catalog: the manifests under models/ (compiled into models/index.ts) own each model's schema and workflow;
 * D1 holds what operators change without a deploy (prices, GPU classes, limits, availability, moderation). A
 * catalog model is served when it is enabled in D1 and has a manifest; otherwise the slug may name one of the
 * calling account's private ComfyUI models.
 */
export class D1Catalog implements Catalog {
  constructor(private env: Env) {}

  async list(): Promise<ModelView[]> {
    const rows = await db(this.env).select().from(models).where(eq(models.enabled, true)).all();
    return rows.filter((r) => MODEL_BY_SLUG.has(r.slug)).map(toView);
  }

  /**
   * The catalog rows as one versioned snapshot held in memory (services/edge-cache.ts): a request reads no D1, and a
   * change is seen within the cache's 30 s bound (at once where `sync` ran). Operators change rows rarely; the
   * whole table is a few KB.
   */
  async snapshot(): Promise<Map<string, Row>> {
    const rows = await cached(CATALOG_CACHE_KEY, async () => {
      const all = await db(this.env).select().from(models).all();
      return { version: all.reduce((v, r) => Math.max(v, r.updatedAt), 0), rows: all };
    });
    return new Map((rows?.rows ?? []).map((r) => [r.slug, r]));
  }

  async row(slug: string): Promise<Row | null> {
    if (!MODEL_BY_SLUG.has(slug)) return null;
    const row = (await this.snapshot()).get(slug);
    return row?.enabled ? row : null;
  }

  async get(slug: string, accountId?: string): Promise<CatalogModel | null> {
    const definition = MODEL_BY_SLUG.get(slug);
    if (!definition) return accountId ? new CustomModels(this.env).resolve(accountId, slug) : null;
    const row = await this.row(slug);
    if (!row) return null;
    const view = toView(row);
    return {
      view,
      pool: row.pool,
      definition: {
        ...definition,
        gpu_classes: view.gpu_classes,
        pricing: view.pricing,
        free: view.free,
        max_execution_s: view.max_execution_s,
        moderation: (row.moderation as ModelDefinition["moderation"] | null) ?? definition.moderation,
      },
    };
  }

  /** Upserts every manifest; idempotent, run by the start script and at deploy. */
  async sync(): Promise<number> {
    const now = Date.now();
    const d = db(this.env);
    const stmts = MODEL_MANIFESTS.map((m) => {
      const def = toDefinition(m);
      const owned = {
        name: def.name,
        category: def.category,
        description: def.description,
        inputSchema: def.input_schema,
        outputType: def.output_type,
        runtime: def.runtime,
        updatedAt: now,
      };
      const values = {
        ...owned,
        slug: def.slug,
        gpuClasses: def.gpu_classes,
        pricing: def.pricing,
        free: def.free,
        pool: def.pool,
        maxExecutionS: def.max_execution_s,
        enabled: true,
      };
      // On re-sync only what the manifest owns changes; prices, classes, limits and a moderation override stay as
      // operators set them.
      return d.insert(models).values(values).onConflictDoUpdate({ target: models.slug, set: owned });
    });
    await d.batch(stmts as unknown as [never]);
    await invalidate(CATALOG_CACHE_KEY);
    return MODEL_MANIFESTS.length;
  }
}
