import type { ComfyJobSpec, ComfyRequirements, ModelDefinition, ModelView } from "../../schemas/index.ts";

/**
 * What the catalog answers, apart from the catalog itself: custom-models.ts builds these too, and catalog.ts
 * composes CustomModels, so the types sit here rather than in either.
 */

export interface CatalogModel {
  view: ModelView;
  /** the model's JSON Schema, prices, limits and policy as requests are validated and billed with */
  definition: ModelDefinition;
  pool: string;
  /** a private ComfyUI model: the graph travels with each job, and only agents with what it needs may run it */
  comfy?: { spec: ComfyJobSpec; requires: ComfyRequirements };
}

export interface Catalog {
  list(): Promise<ModelView[]>;
  get(slug: string, accountId?: string): Promise<CatalogModel | null>;
  sync(): Promise<number>;
}
