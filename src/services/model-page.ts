import { and, desc, eq, isNotNull } from "drizzle-orm";
import { MANIFEST_BY_SLUG, type ModelPage, type ModelView } from "../../schemas/index.ts";
import { db } from "../db/client.ts";
import { requests } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { notFound } from "../errors.ts";
import { D1Catalog } from "./catalog.ts";

/** How many recent completions the speed figures are taken over. */
const SPEED_WINDOW = 1000;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
}

/** p50 of the measured run time (`gpu_ms`) per GPU class over the model's most recent completed requests. */
export async function speedByClass(env: Env, slug: string): Promise<ModelPage["speed"]> {
  const rows = await db(env)
    .select({ gpuMs: requests.gpuMs, gpuClass: requests.gpuClass })
    .from(requests)
    .where(and(eq(requests.model, slug), eq(requests.status, "COMPLETED"), isNotNull(requests.gpuMs)))
    .orderBy(desc(requests.completedAt))
    .limit(SPEED_WINDOW)
    .all();
  const by = new Map<string, number[]>();
  for (const r of rows) by.set(r.gpuClass ?? "other", [...(by.get(r.gpuClass ?? "other") ?? []), r.gpuMs!]);
  const by_gpu_class = [...by]
    .map(([gpu_class, ms]) => ({ gpu_class, p50_ms: median(ms), completed: ms.length }))
    .sort((a, b) => a.p50_ms - b.p50_ms);
  const note = by_gpu_class.length ? `p50 of the last ${rows.length} completed requests` : "no data yet";
  return { note, by_gpu_class };
}

export function prices(view: ModelView): ModelPage["prices"] {
  const p = view.pricing;
  if (p.kind === "per_generation") {
    return [{ gpu_class: null, micro_usd: p.micro_usd_per_unit, per: p.unit, usd_per_hour: null }];
  }
  return view.gpu_classes
    .filter((c) => p.micro_usd_per_second[c] !== undefined)
    .map((c) => ({
      gpu_class: c,
      micro_usd: p.micro_usd_per_second[c]!,
      per: "gpu_second" as const,
      usd_per_hour: (p.micro_usd_per_second[c]! * 3600) / 1e6,
    }));
}

/** JSON as a Python literal: the same text but for the three keywords. */
const pythonLiteral = (v: unknown) =>
  JSON.stringify(v)
    .replace(/\btrue\b/g, "True")
    .replace(/\bfalse\b/g, "False")
    .replace(/\bnull\b/g, "None");

export function snippets(base: string, view: ModelView, input: Record<string, unknown>): ModelPage["snippets"] {
  const body = JSON.stringify(input);
  const ext = view.output_type === "video" ? "webp" : "png";
  const out = view.output_type === "json" ? "" : ` -o output.${ext}`;
  const url = `${base}/v1/${view.slug}`;
  const headers = `-H "x-api-key: $API_KEY" -H "content-type: application/json"`;
  const curl = `curl -X POST ${url} ${headers} \\\n  -d '${body.replace(/'/g, "'\\''")}'${out}`;
  const save =
    view.output_type === "json"
      ? "console.log(await res.json());"
      : `await (await import("node:fs/promises")).writeFile("output.${ext}", Buffer.from(await res.arrayBuffer()));`;
  const javascript = [
    `const res = await fetch("${url}", {`,
    `  method: "POST",`,
    `  headers: { "x-api-key": process.env.API_KEY, "content-type": "application/json" },`,
    `  body: JSON.stringify(${body}),`,
    `});`,
    `if (!res.ok) throw new Error((await res.json()).error.message);`,
    save,
  ].join("\n");
  const python = [
    "import os, requests",
    `res = requests.post("${url}", headers={"x-api-key": os.environ["API_KEY"]}, json=${pythonLiteral(input)})`,
    "res.raise_for_status()",
    view.output_type === "json" ? "print(res.json())" : `open("output.${ext}", "wb").write(res.content)`,
  ].join("\n");
  return { curl, javascript, python };
}

/** Model pages (`GET /v1/models/{model}`): the catalog's view of a model with prices, speed, example and snippets. */
export class ModelPages {
  constructor(private env: Env) {}

  /** A catalog model's page: prices, GPU classes, measured speed, example, snippets, and what a ComfyUI host needs. */
  async page(slug: string, base: string): Promise<ModelPage> {
    const model = await new D1Catalog(this.env).get(slug);
    const manifest = MANIFEST_BY_SLUG.get(slug);
    if (!model || !manifest) throw notFound(`model '${slug}'`);
    const v = model.view;
    const example = manifest.example_output;
    return {
      ...v,
      moderation: model.definition.moderation,
      license: manifest.license,
      license_url: manifest.license_url ?? null,
      tags: manifest.tags ?? [],
      cover: manifest.cover ?? null,
      prices: prices(v),
      speed: await speedByClass(this.env, slug),
      example: {
        input: manifest.example_input,
        output: example ? (example.json ?? example.path ?? example.description ?? null) : null,
      },
      snippets: snippets(base, v, manifest.example_input),
      comfyui:
        manifest.comfyui && manifest.workflow
          ? {
              node_types: [...new Set(Object.values(manifest.workflow).map((n) => n.class_type))].sort(),
              weights: manifest.comfyui.weights.map((w) => ({ folder: w.folder, file: w.file, source: w.source })),
            }
          : null,
    };
  }
}
