/**
 * Examples of the workflow operations (definitions, versions, aliases, runs, templates); see src/openapi-examples.ts.
 * Amounts are micro-USD, as the API returns them: a run holds the sum of its nodes' worst cases and is charged the
 * sum of what its nodes cost (here on A40, at 400 µ$/GPU-second, plus image-composite's fixed 200).
 */
import type { OperationExample } from "./openapi-examples.ts";

const BASE = "https://api.example.com";
const RUN = "wfr_0QhZm4c2g0KnYcU5dMx9sOqZ";
const SLUG = "cutout-on-white";
const ref = ($ref: string) => ({ $ref });
const definition = {
  inputs: { image: { type: "image" }, background: { type: "string", default: "#ffffff" } },
  nodes: {
    cutout: { model: "background-removal", input: { image: ref("inputs.image") } },
    flat: {
      model: "image-composite",
      input: { image: ref("nodes.cutout.output"), background: ref("inputs.background") },
    },
    check: { model: "nsfw-detector", input: { image: ref("nodes.flat.output") } },
  },
  outputs: { image: ref("nodes.flat.output"), safety: ref("nodes.check.json") },
};
const estimate = { max_cost: 252_200, per_node: { cutout: 168_000, flat: 200, check: 84_000 } };
const inputSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {
    image: { type: "string", minLength: 1, format: "image" },
    background: { default: "#ffffff", type: "string" },
  },
  required: ["image"],
  additionalProperties: false,
};
const draft = { definition, etag: '"rev-2"', updated_at: "2026-12-01T11:40:12.480Z" };
const workflow = {
  slug: SLUG,
  name: "Cut-out on white",
  description: "Removes the background, flattens on a colour, checks the result",
  status: "active",
  draft,
  versions: [{ version: 1, created_at: "2026-12-01T11:41:03.118Z" }],
  aliases: { production: 1, staging: null, latest: 1 },
  serving: 1,
  input_schema: inputSchema,
  created_at: "2026-12-01T11:38:55.902Z",
  run_url: `${BASE}/v2/workflows/${SLUG}`,
};
const fresh = {
  ...workflow,
  draft: { ...draft, etag: '"rev-1"', updated_at: workflow.created_at },
  versions: [],
  aliases: { production: null, staging: null, latest: null },
  serving: null,
  input_schema: null,
};
const runUrls = {
  poll_url: `${BASE}/v2/workflow-runs/${RUN}`,
  status_url: `${BASE}/v2/workflow-runs/${RUN}`,
  events_url: `${BASE}/v2/workflow-runs/${RUN}/events`,
  cancel_url: `${BASE}/v2/workflow-runs/${RUN}/cancel`,
};
const SIG = "ivbjqVhJi-MpMGCNr98DJp8QtsEGJJGydpfDJKQerZ4";
const imageUrl = `${BASE}/v2/workflow-runs/${RUN}/outputs/image?expires=1796133602&sig=${SIG}`;
type Node = { model: string; max_cost: number };
const node = (n: Node, over: Record<string, unknown>) => ({
  status: "PENDING",
  model: n.model,
  attempts: 0,
  queued_at: null,
  started_at: null,
  ended_at: null,
  gpu_ms: null,
  max_cost: n.max_cost,
  cost: null,
  error: null,
  ...over,
});
const NODES: Record<string, Node> = {
  cutout: { model: "background-removal", max_cost: 168_000 },
  flat: { model: "image-composite", max_cost: 200 },
  check: { model: "nsfw-detector", max_cost: 84_000 },
};
const at = (minSec: string) => `2026-12-01T12:${minSec}Z`;
const done = (name: string, t: [string, string, string], gpuMs: number, cost: number) =>
  node(NODES[name]!, {
    status: "COMPLETED",
    request_id: `${RUN}:${name}`,
    attempts: 1,
    queued_at: t[0],
    started_at: t[1],
    ended_at: t[2],
    gpu_ms: gpuMs,
    cost,
  });
const completedRun = {
  run_id: RUN,
  workflow: SLUG,
  version: 1,
  status: "COMPLETED",
  created_at: "2026-12-01T12:00:00.000Z",
  started_at: "2026-12-01T12:00:00.180Z",
  completed_at: "2026-12-01T12:00:03.020Z",
  cost: 1_060,
  held: 0,
  outputs: {
    image: {
      type: "file",
      url: imageUrl,
      content_type: "image/png",
      size: 482_113,
      expires_at: "2026-12-01T13:00:03.000Z",
    },
    safety: { type: "json", value: { Neutral: 0.97, Drawing: 0.02, Porn: 0.01 } },
  },
  output: imageUrl,
  error: null,
  nodes: {
    cutout: done("cutout", [at("00:00.004"), at("00:00.180"), at("00:02.020")], 1_840, 736),
    flat: done("flat", [at("00:02.031"), at("00:02.090"), at("00:02.270")], 160, 200),
    check: done("check", [at("00:02.281"), at("00:02.330"), at("00:02.990")], 310, 124),
  },
  ...runUrls,
};
const runningRun = {
  ...completedRun,
  status: "PROCESSING",
  completed_at: null,
  cost: null,
  held: 84_200,
  outputs: null,
  output: null,
  nodes: {
    cutout: completedRun.nodes.cutout,
    flat: node(NODES.flat!, {
      status: "PROCESSING",
      request_id: `${RUN}:flat`,
      attempts: 1,
      queued_at: "2026-12-01T12:00:02.031Z",
      started_at: "2026-12-01T12:00:02.090Z",
    }),
    check: node(NODES.check!, { request_id: `${RUN}:check` }),
  },
};
const cancelledRun = {
  ...runningRun,
  status: "CANCELLED",
  completed_at: "2026-12-01T12:00:02.140Z",
  cost: 736,
  held: 0,
  error: { node: null, kind: "cancelled", message: "cancelled by the caller" },
  nodes: {
    cutout: completedRun.nodes.cutout,
    flat: { ...runningRun.nodes.flat, status: "CANCELLED", ended_at: "2026-12-01T12:00:02.140Z", cost: 0 },
    check: { ...runningRun.nodes.check, status: "CANCELLED", cost: 0 },
  },
};
const TEMPLATE = {
  id: "product-photo-on-white",
  name: "Product photo on white",
  description:
    "Cuts the product out and puts it on a flat background colour (white by default): " +
    "a marketplace-ready packshot.",
  models: ["background-removal", "image-composite"],
  definition: {
    inputs: {
      image: { type: "image", description: "the product photo" },
      background: { type: "string", default: "#ffffff", description: "background colour" },
    },
    nodes: { cutout: definition.nodes.cutout, flat: definition.nodes.flat },
    outputs: { image: ref("nodes.flat.output") },
  },
};
const event = (id: number, type: string, data: Record<string, unknown>) =>
  [`id: ${id}`, `event: ${type}`, `data: ${JSON.stringify({ ...data, type })}`, ""].join("\n");

export const WORKFLOW_EXAMPLES: Record<string, OperationExample> = {
  "post /v1/workflows": {
    request: { slug: SLUG, name: fresh.name, description: fresh.description, definition },
    responses: { 201: fresh },
  },
  "get /v1/workflows": { responses: { 200: { data: [workflow] } } },
  "get /v1/workflows/{slug}": { params: { slug: SLUG }, responses: { 200: workflow } },
  "put /v1/workflows/{slug}/draft": {
    params: { slug: SLUG },
    headers: { "if-match": '"rev-1"' },
    request: { definition, name: "Cut-out on white" },
    responses: { 200: { ...fresh, draft } },
  },
  "post /v1/workflows/{slug}/validate": {
    params: { slug: SLUG },
    responses: { 200: { valid: true, errors: [], estimate } },
  },
  "post /v1/workflows/{slug}/versions": {
    params: { slug: SLUG },
    responses: { 201: { slug: SLUG, version: 1, created_at: workflow.versions[0]!.created_at, estimate } },
  },
  "put /v1/workflows/{slug}/aliases/{alias}": {
    params: { slug: SLUG, alias: "production" },
    request: { version: 1 },
    responses: { 200: workflow },
  },
  "delete /v1/workflows/{slug}": {
    params: { slug: SLUG },
    responses: { 200: { ...workflow, status: "archived" } },
  },
  "post /v2/workflows/{slug}": {
    params: { slug: SLUG },
    headers: { "idempotency-key": "listing-88412" },
    request: {
      image: "https://example.com/product.jpg",
      background: "#ffffff",
      webhook: "https://example.com/hooks/runs",
    },
    responses: { 202: { run_id: RUN, status: "QUEUED", workflow: SLUG, version: 1, held: 252_200, ...runUrls } },
  },
  "post /v1/workflows/{slug}": {
    params: { slug: `${SLUG}@production` },
    headers: { prefer: "wait=60" },
    request: { image: "https://example.com/product.jpg" },
    responses: { 202: runningRun },
  },
  "get /v2/workflow-runs/{id}": { params: { id: RUN }, responses: { 200: completedRun } },
  "post /v2/workflow-runs/{id}/cancel": { params: { id: RUN }, responses: { 200: cancelledRun } },
  "get /v2/workflow-runs/{id}/events": {
    params: { id: RUN },
    headers: { accept: "text/event-stream", "last-event-id": "9" },
    responses: {
      200: [
        event(10, "node.completed", {
          request_id: `${RUN}:check`,
          cost: 124,
          released: 83_876,
          ended_at: 1796126402990,
          node: "check",
          at: "2026-12-01T12:00:03.001Z",
        }),
        event(11, "run.completed", { status: "COMPLETED", cost: 1_060, node: null, at: "2026-12-01T12:00:03.020Z" }),
      ].join("\n"),
    },
  },
  "get /v2/workflow-runs/{id}/outputs/{name}": {
    params: { id: RUN, name: "image" },
    query: { expires: "1796133602", sig: SIG },
    responses: {},
  },
  "get /v1/workflow-templates": { responses: { 200: { data: [TEMPLATE] } } },
  "post /v1/workflow-templates/{id}/copy": {
    params: { id: TEMPLATE.id },
    request: { slug: "packshots", name: "Packshots" },
    responses: {
      201: {
        ...fresh,
        slug: "packshots",
        name: "Packshots",
        description: TEMPLATE.description,
        draft: { ...fresh.draft, definition: TEMPLATE.definition },
        run_url: `${BASE}/v2/workflows/packshots`,
      },
    },
  },
};
