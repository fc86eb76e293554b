import type { ComfyRequirements } from "../../schemas/index.ts";

/** What the broker knows of a job when matching it to an agent. */
export interface JobNeeds {
  runtime: string;
  model: string;
  /** JSON array of GPU classes */
  gpu_classes: string;
  /** JSON ComfyRequirements of a private ComfyUI model, else null */
  requires?: string | null;
}

export interface AgentOffer {
  runtimes: string[];
  models: string[];
  gpu_class: string;
  /** custom node types and model files the agent's ComfyUI declares (null: none declared) */
  comfy: ComfyRequirements | null;
}

function parseRequires(job: JobNeeds): ComfyRequirements | null {
  return job.requires ? (JSON.parse(job.requires) as ComfyRequirements) : null;
}

/** What an agent lacks to run a private graph: the custom node types and model files it did not declare. */
export function lacking(req: ComfyRequirements, comfy: ComfyRequirements | null): ComfyRequirements {
  const types = new Set(comfy?.node_types ?? []);
  const files = new Set(comfy?.files ?? []);
  return { node_types: req.node_types.filter((t) => !types.has(t)), files: req.files.filter((f) => !files.has(f)) };
}

/**
 * Whether an agent may run a job: its runtime and GPU class, and either the catalog model among those it serves or,
 * for a private ComfyUI graph (which travels with the job), every custom node type and model file the graph needs.
 */
export function canRun(job: JobNeeds, agent: AgentOffer): boolean {
  if (!agent.runtimes.includes(job.runtime)) return false;
  if (!(JSON.parse(job.gpu_classes) as string[]).includes(agent.gpu_class)) return false;
  const req = parseRequires(job);
  if (!req) return agent.models.includes(job.model);
  const miss = lacking(req, agent.comfy);
  return miss.node_types.length === 0 && miss.files.length === 0;
}

/** The reason a job failed for want of capacity, naming what no connected agent had. */
export function noCapacityMessage(job: JobNeeds, agents: AgentOffer[]): string {
  const req = parseRequires(job);
  if (!req) return `no agent serving ${job.model} connected before the request's TTL`;
  const classes = JSON.parse(job.gpu_classes) as string[];
  const fit = agents.filter((a) => a.runtimes.includes(job.runtime) && classes.includes(a.gpu_class));
  if (fit.length === 0) return `no ComfyUI agent of class ${classes.join("/")} connected before the request's TTL`;
  // the closest agent's gaps are the most useful to report
  const gaps = (x: ComfyRequirements) => x.node_types.length + x.files.length;
  const best = fit.map((a) => lacking(req, a.comfy)).sort((x, y) => gaps(x) - gaps(y))[0]!;
  const parts = [
    best.node_types.length ? `custom nodes ${best.node_types.join(", ")}` : "",
    best.files.length ? `model files ${best.files.join(", ")}` : "",
  ].filter(Boolean);
  return `no connected ComfyUI agent has ${parts.join(" and ")} that this workflow needs`;
}
