import { PLAN_DEFAULTS, type ModelLookup, type Plan, type WorkflowDefinition, type Estimate } from "../../../schemas/index.ts";
import type { Env } from "../../env.ts";
import { D1Catalog, type CatalogModel } from "../catalog.ts";
import { quote, type HoldPricing } from "../pricing.ts";
import { classify, parseRef } from "../../../schemas/workflow.ts";

/** The catalog entries a definition names, loaded once, with what the checker needs to know of each. */
export class NodeModels {
  private constructor(readonly models: Map<string, CatalogModel>, private plan: Plan) {}

  static async load(env: Env, plan: Plan, def: unknown): Promise<NodeModels> {
    const slugs = new Set<string>();
    const nodes = (def as { nodes?: Record<string, { model?: unknown }> } | null)?.nodes;
    if (nodes && typeof nodes === "object") for (const n of Object.values(nodes)) if (typeof n?.model === "string") slugs.add(n.model);
    const catalog = new D1Catalog(env);
    const found = await Promise.all([...slugs].slice(0, 64).map(async (s) => [s, await catalog.get(s)] as const));
    return new NodeModels(new Map(found.filter((f): f is [string, CatalogModel] => f[1] !== null)), plan);
  }

  get freeOnly(): boolean {
    return PLAN_DEFAULTS[this.plan].free_models_only;
  }

  lookup: ModelLookup = (slug) => {
    const m = this.models.get(slug);
    if (!m) return undefined;
    const allowed = m.view.free || !this.freeOnly;
    return { input: m.definition.input, output_type: m.view.output_type, allowed, reason: allowed ? undefined : `the ${this.plan} plan can call free models only; '${slug}' is not free` };
  };

  /**
   * Each node's maximum cost, priced exactly as a single request of its model would be held (literal inputs, the
   * run's inputs where a field takes one directly, the model's defaults otherwise). The sum is the run's hold.
   */
  estimate(def: WorkflowDefinition, inputs: Record<string, unknown> = {}): Estimate & { pricing: Record<string, HoldPricing> } {
    const per_node: Record<string, number> = {};
    const pricing: Record<string, HoldPricing> = {};
    for (const [id, node] of Object.entries(def.nodes)) {
      const m = this.models.get(node.model);
      if (!m) continue;
      const values: Record<string, unknown> = {};
      for (const [field, v] of Object.entries(node.input)) {
        const c = classify(v);
        if (c.kind === "literal") values[field] = c.value;
        else if (c.kind === "ref") {
          const r = parseRef(c.ref);
          const value = r?.kind === "input" ? (inputs[r.name] ?? defaultOf(def, r.name)) : undefined;
          if (typeof value === "number") values[field] = value;
        }
      }
      const q = quote(m.definition, values);
      per_node[id] = this.freeOnly ? 0 : q.hold;
      pricing[id] = q.pricing;
    }
    return { max_cost: Object.values(per_node).reduce((a, b) => a + b, 0), per_node, pricing };
  }
}

function defaultOf(def: WorkflowDefinition, name: string): unknown {
  const d = def.inputs[name];
  return d && "default" in d ? d.default : undefined;
}
