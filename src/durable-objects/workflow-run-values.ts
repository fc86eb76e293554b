import { classify, parseRef, type Ref, type WorkflowDefinition } from "../../schemas/workflow.ts";
import {
  MODEL_BY_SLUG,
  type AgentOutput,
  type ComfyJobSpec,
  type ComfyRequirements,
  type ModelDefinition,
} from "../../schemas/index.ts";
import { checkModelInput } from "../../schemas/model-input.ts";

/**
 * How a run turns refs into values: a node's input from the run's inputs and its upstream nodes' outputs, and the
 * run's outputs at the end. Files never travel as bytes here: a file value is the R2 key it lies under, and the run
 * copies it to the key the next node's job reads its inputs from (all inside the platform, never via the caller).
 */

/** A node's model as it was when the run started: a later catalog change does not alter a run under way. */
export interface RunNodeSpec {
  model: string;
  runtime: string;
  pool: string;
  gpu_classes: string[];
  exec_timeout_ms: number;
  max_cost: number;
  /** the model's input JSON Schema, which each node's input is checked and defaulted with before its job is queued */
  input_schema?: Record<string, unknown>;
  /** the model's output moderation (block or flag), which its jobs carry as a request's do */
  moderation?: ModelDefinition["moderation"];
  /** a private ComfyUI model: its graph travels with the job, and only agents with what it needs may run it */
  comfy?: { spec: ComfyJobSpec; requires: ComfyRequirements };
}

export interface RunSpec {
  run_id: string;
  account_id: string;
  workflow: string;
  version: number;
  definition: WorkflowDefinition;
  /** validated run inputs; an image input's value is the R2 key it was stored under */
  inputs: Record<string, unknown>;
  image_inputs: string[];
  nodes: Record<string, RunNodeSpec>;
  priority: number;
  /** queue + run deadline of each node's job (the broker's TTL) */
  job_ttl_ms: number;
  deadline_ms: number;
  webhook_url: string | null;
  base_url: string;
}

export interface Upstream {
  job_id: string;
  outputs: AgentOutput[] | null;
  output_json: unknown;
}

/** A file value: the R2 key it lies under. A class, so no literal JSON in a definition can pose as one. */
export class FileValue {
  constructor(
    readonly file: string,
    readonly content_type?: string,
    readonly size?: number,
  ) {}
}
export type Resolved = { ok: true; value: unknown } | { ok: false; message: string };

export const outputKey = (account: string, job: string, name: string) =>
  `accounts/${account}/requests/${job}/outputs/${name}`;
export const inputKey = (account: string, job: string, field: string) =>
  `accounts/${account}/requests/${job}/inputs/${field}`;
export const runInputKey = (account: string, run: string, name: string) =>
  `accounts/${account}/workflow-runs/${run}/inputs/${name}`;

function walk(v: unknown, path: string[]): unknown {
  let cur = v;
  for (const p of path) {
    if (Array.isArray(cur) && /^\d+$/.test(p)) cur = cur[Number(p)];
    else if (cur && typeof cur === "object") cur = (cur as Record<string, unknown>)[p];
    else return undefined;
  }
  return cur;
}

export function resolveRef(spec: RunSpec, ref: Ref, upstream: (node: string) => Upstream | undefined): Resolved {
  if (ref.kind === "input") {
    const v = spec.inputs[ref.name];
    return { ok: true, value: spec.image_inputs.includes(ref.name) && typeof v === "string" ? new FileValue(v) : v };
  }
  const up = upstream(ref.node);
  if (!up) return { ok: false, message: `node '${ref.node}' has not completed` };
  if (ref.kind === "json") return { ok: true, value: walk(up.output_json, ref.path) };
  const o = up.outputs?.[ref.index];
  if (!o) return { ok: false, message: `node '${ref.node}' produced no output #${ref.index}` };
  return { ok: true, value: new FileValue(outputKey(spec.account_id, up.job_id, o.name), o.content_type, o.size) };
}

const text = (v: unknown) =>
  v === undefined || v === null ? "" : typeof v === "string" ? v : v instanceof FileValue ? "" : JSON.stringify(v);

/**
 * A node's input with every ref resolved. File values come back as `{file}`; the caller stores them as the job's
 * inputs and puts the agent path in their place.
 */
export function nodeInput(
  spec: RunSpec,
  node: string,
  upstream: (node: string) => Upstream | undefined,
): { ok: true; input: Record<string, unknown> } | { ok: false; message: string } {
  const out: Record<string, unknown> = {};
  for (const [field, raw] of Object.entries(spec.definition.nodes[node]!.input)) {
    const c = classify(raw);
    if (c.kind === "literal") {
      out[field] = c.value;
      continue;
    }
    if (c.kind === "ref") {
      const r = resolveRef(spec, parseRef(c.ref)!, upstream);
      if (!r.ok) return r;
      if (r.value !== undefined) out[field] = r.value;
      continue;
    }
    let s = c.template;
    for (const ref of c.refs) {
      const r = resolveRef(spec, parseRef(ref)!, upstream);
      if (!r.ok) return r;
      s = s.replace(`{${ref}}`, text(r.value));
    }
    out[field] = s;
  }
  return { ok: true, input: out };
}

/** The completed upstream nodes a node reads from, as `nodeInput` takes them. */
export function upstreamOf(
  done: Map<string, { job_id: string; outputs: string | null; output_json: string | null }>,
): (node: string) => Upstream | undefined {
  return (d) => {
    const u = done.get(d);
    if (!u) return undefined;
    const outputs = JSON.parse(u.outputs ?? "[]") as AgentOutput[];
    return { job_id: u.job_id, outputs, output_json: u.output_json ? JSON.parse(u.output_json) : null };
  };
}

/** A node's job input, ready to queue: the files it reads, copied to its job's input keys when it is queued. */
export interface PreparedInput {
  input: Record<string, unknown>;
  copies: [string, string][];
}

/**
 * The job's input: files become agent paths (copied into place at enqueue), the rest is checked and defaulted by the
 * model's input schema, as a request to the model is.
 */
export function prepareInput(
  spec: RunSpec,
  id: string,
  job: string,
  input: Record<string, unknown>,
): ({ ok: true } & PreparedInput) | { ok: false; message: string } {
  const copies: [string, string][] = [];
  const out: Record<string, unknown> = {};
  for (const [field, v] of Object.entries(input)) {
    if (v instanceof FileValue) {
      copies.push([v.file, inputKey(spec.account_id, job, field)]);
      out[field] = `/agent/v1/jobs/${job}/inputs/${field}`;
    } else out[field] = v;
  }
  // A spec stored before schemas travelled in it falls back to the catalog's manifest.
  const node = spec.nodes[id]!;
  const schema = node.input_schema ?? MODEL_BY_SLUG.get(node.model)?.input_schema;
  const checked = schema ? checkModelInput(schema, out) : { ok: true as const, input: out };
  if (!checked.ok) {
    const said = checked.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    return { ok: false, message: `node '${id}': ${said.join("; ")}` };
  }
  const data = checked.input;
  delete data.base64;
  return { ok: true, input: data, copies };
}
