import {
  PLAN_DEFAULTS,
  type ModelLookup,
  type Plan,
  type WorkflowDefinition,
  type Estimate,
} from "../../../schemas/index.ts";
import type { Env } from "../../env.ts";
import { D1Catalog, type CatalogModel } from "../catalog.ts";
import { quote, type HoldPricing } from "../pricing.ts";
import { classify, parseRef } from "../../../schemas/workflow.ts";
import { checkModelInput } from "../../../schemas/model-input.ts";

type InputIssue = { path: string; message: string; code: string };

/** The catalog entries a definition names, loaded once, with what the checker needs to know of each. */
export class NodeModels {
  private constructor(
    readonly models: Map<string, CatalogModel>,
    private plan: Plan,
  ) {}

  /** The account's private models are found too, as a request of that account would find them. */
  static async load(env: Env, account: { id: string; plan: Plan }, def: unknown): Promise<NodeModels> {
    const slugs = new Set<string>();
    const nodes = (def as { nodes?: Record<string, { model?: unknown }> } | null)?.nodes;
    if (nodes && typeof nodes === "object")
      for (const n of Object.values(nodes)) if (typeof n?.model === "string") slugs.add(n.model);
    const catalog = new D1Catalog(env);
    const get = async (s: string) => [s, await catalog.get(s, account.id)] as const;
    const found = await Promise.all([...slugs].slice(0, 64).map(get));
    return new NodeModels(new Map(found.filter((f): f is [string, CatalogModel] => f[1] !== null)), account.plan);
  }

  get freeOnly(): boolean {
    return PLAN_DEFAULTS[this.plan].free_models_only;
  }

  lookup: ModelLookup = (slug) => {
    const m = this.models.get(slug);
    if (!m) return undefined;
    const allowed = m.view.free || !this.freeOnly;
    const reason = allowed ? undefined : `the ${this.plan} plan can call free models only; '${slug}' is not free`;
    return { input_schema: m.definition.input_schema, output_type: m.view.output_type, allowed, reason };
  };

  /**
   * The run's inputs judged by the fields they feed: a value a node's model would refuse ("red" for a colour) is the
   * caller's error at submission (field = the run input), not a node failure later. Each node is checked with the
   * model's own validator over its literals, the run inputs it takes directly, and the rest present as null.
   */
  inputIssues(def: WorkflowDefinition, inputs: Record<string, unknown>): InputIssue[] {
    const issues: InputIssue[] = [];
    for (const [id, node] of Object.entries(def.nodes)) {
      const m = this.models.get(node.model);
      if (!m) continue;
      const body: Record<string, unknown> = {};
      const fed = new Map<string, string>();
      for (const [field, v] of Object.entries(node.input)) {
        const c = classify(v);
        const r = c.kind === "ref" ? parseRef(c.ref) : null;
        if (c.kind === "literal") body[field] = c.value;
        else if (r?.kind === "input" && def.inputs[r.name]?.type !== "image" && inputs[r.name] !== undefined) {
          body[field] = inputs[r.name];
          fed.set(field, r.name);
        } else body[field] = null;
      }
      const r = checkModelInput(m.definition.input_schema, body);
      if (r.ok) continue;
      for (const i of r.issues) {
        const name = fed.get(i.segments[0] ?? "");
        if (name === undefined) continue;
        issues.push({ path: name, code: i.code, message: `${node.model}.${i.path} (node '${id}'): ${i.message}` });
      }
    }
    return issues;
  }

  /**
   * Each node's maximum cost, priced exactly as a single request of its model would be held (literal inputs, the
   * run's inputs where a field takes one directly, the model's defaults otherwise). The sum is the run's hold.
   */
  estimate(
    def: WorkflowDefinition,
    inputs: Record<string, unknown> = {},
  ): Estimate & { pricing: Record<string, HoldPricing> } {
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
