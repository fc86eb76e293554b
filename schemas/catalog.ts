import { CATALOG_FILES } from "../models/index.ts";
import { ModelManifest, type CatalogEntry } from "./manifest.ts";
import type { ModelDefinition } from "./models.ts";

/** A parsed catalog manifest with its ComfyUI workflow, if it has one. */
export type CatalogManifest = ModelManifest & { workflow?: CatalogEntry["workflow"] };

export function toDefinition(m: ModelManifest): ModelDefinition {
  return {
    slug: m.slug,
    name: m.name,
    category: m.category,
    description: m.description,
    input_schema: m.input_schema,
    output_type: m.output_type,
    runtime: m.runtime,
    gpu_classes: m.gpu_classes,
    pricing: m.pricing,
    free: m.free,
    pool: m.pool,
    max_execution_s: m.limits.max_execution_s,
    moderation: m.moderation,
  };
}

/** The catalog from the manifest folders (through the generated models/index.ts), parsed once. */
export const MODEL_MANIFESTS: CatalogManifest[] = CATALOG_FILES.map((e) => ({
  ...ModelManifest.parse(e.manifest),
  workflow: e.workflow,
}));
export const MANIFEST_BY_SLUG = new Map(MODEL_MANIFESTS.map((m) => [m.slug, m]));
export const MODEL_DEFINITIONS: ModelDefinition[] = MODEL_MANIFESTS.map(toDefinition);
export const MODEL_BY_SLUG = new Map(MODEL_DEFINITIONS.map((m) => [m.slug, m]));
