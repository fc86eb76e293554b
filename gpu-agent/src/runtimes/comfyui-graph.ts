import { readdirSync, readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { ModelManifest, type ComfyJobSpec, type ComfyTarget } from "../../../schemas/manifest.ts";
import { JobError } from "../errors.ts";

/** A workflow in ComfyUI's API format: node id → {class_type, inputs}. */
export type Workflow = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

/** A graph and the node inputs each request field fills: from a catalog manifest, or sent with a private job. */
export type GraphSpec = ComfyJobSpec & {
  /** the weight files (`folder/file`) a catalog model's manifest lists: the host must have them all to offer it */
  files?: string[];
};

/** The comfyui models of a catalog folder (`<slug>/manifest.json` + its workflow), by slug. */
export function loadComfyModels(dir: string): Record<string, GraphSpec> {
  const out: Record<string, GraphSpec> = {};
  if (!existsSync(dir)) return out;
  for (const slug of readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)) {
    const file = path.join(dir, slug, "manifest.json");
    if (!existsSync(file)) continue;
    const m = ModelManifest.parse(JSON.parse(readFileSync(file, "utf8")));
    if (m.runtime !== "comfyui" || !m.comfyui) continue;
    const workflow = JSON.parse(readFileSync(path.join(dir, slug, m.comfyui.workflow), "utf8")) as Workflow;
    const files = m.comfyui.weights.map((w) => `${w.folder}/${w.file}`);
    const outputs = m.comfyui.outputs ? { outputs: m.comfyui.outputs } : {};
    out[m.slug] = { workflow, inputs: m.comfyui.inputs, files, ...outputs };
  }
  return out;
}

const targets = (t: ComfyTarget | ComfyTarget[]): ComfyTarget[] => (Array.isArray(t) ? t : [t]);
const isImageLoader = (type: string | undefined) => type === "LoadImage" || type === "LoadImageMask";

/**
 * The graph to queue: a copy of the spec's workflow with each request field written into the node inputs it maps
 * to (mapped through `map` where the field's labels differ from the node's values). Image fields take the names the
 * files were uploaded under. A field the request leaves out keeps the workflow's value, except a seed marked
 * `random_if_missing`, which is drawn at random.
 */
export function fillGraph(
  spec: GraphSpec,
  params: Record<string, unknown>,
  uploaded: Record<string, string> = {},
): Workflow {
  const graph = structuredClone(spec.workflow) as Workflow;
  for (const [field, t] of Object.entries(spec.inputs)) {
    for (const target of targets(t)) {
      const node = graph[target.node];
      if (!node) throw new JobError("runtime_error", `workflow has no node '${target.node}' for field '${field}'`);
      let value = field in uploaded ? uploaded[field] : params[field];
      if (value === undefined || value === null) {
        if (!target.random_if_missing) continue;
        value = Math.floor(Math.random() * 2 ** 32);
      }
      if (target.map) {
        const key = String(value);
        if (!(key in target.map)) {
          throw new JobError("invalid_input", `${field}: '${key}' is not one of ${Object.keys(target.map).join(", ")}`);
        }
        value = target.map[key];
      }
      node.inputs[target.input] = value;
    }
  }
  return graph;
}

/** Fields of the spec that fill image loaders (LoadImage / LoadImageMask `image`), whose files are uploaded first. */
export function imageTargets(spec: GraphSpec): string[] {
  return Object.entries(spec.inputs)
    .filter(([, t]) => targets(t).some((x) => x.input === "image" && isImageLoader(spec.workflow[x.node]?.class_type)))
    .map(([f]) => f);
}
