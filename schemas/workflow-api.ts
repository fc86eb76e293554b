import { z } from "zod";
import { RequestStatus } from "./status.ts";
import { DefinitionError } from "./workflow.ts";

/** Public API shapes of workflows, their versions and aliases, runs and templates. */

export const WorkflowSlug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, "slug: 2-63 of a-z, 0-9 and -, starting with a letter or digit");
export const AliasName = z.enum(["production", "staging"]);

export const CreateWorkflow = z.strictObject({
  slug: WorkflowSlug,
  name: z.string().min(1).max(200),
  description: z.string().max(2000).optional(),
  definition: z.unknown(),
});
export const UpdateDraft = z.strictObject({
  definition: z.unknown(),
  name: z.string().min(1).max(200).optional(),
  description: z.string().max(2000).optional(),
});
export const SetAlias = z.strictObject({ version: z.number().int().min(1) });

export const Estimate = z.object({
  /** micro-USD: exactly what a run's hold will be (with default inputs) */
  max_cost: z.number().int().nonnegative(),
  per_node: z.record(z.string(), z.number().int().nonnegative()),
});
export type Estimate = z.infer<typeof Estimate>;

export const ValidationResult = z.object({
  valid: z.boolean(),
  errors: z.array(DefinitionError),
  estimate: Estimate.nullable(),
});
export type ValidationResult = z.infer<typeof ValidationResult>;

export const WorkflowVersionView = z.object({ version: z.number().int(), created_at: z.iso.datetime() });

export const WorkflowView = z.object({
  slug: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  status: z.enum(["active", "archived"]),
  draft: z.object({ definition: z.unknown(), etag: z.string(), updated_at: z.iso.datetime() }),
  versions: z.array(WorkflowVersionView),
  aliases: z.object({
    production: z.number().int().nullable(),
    staging: z.number().int().nullable(),
    latest: z.number().int().nullable(),
  }),
  /** the version a bare-slug run uses: production if set, else latest */
  serving: z.number().int().nullable(),
  input_schema: z.record(z.string(), z.unknown()).nullable(),
  created_at: z.iso.datetime(),
  run_url: z.string(),
});
export type WorkflowView = z.infer<typeof WorkflowView>;
export const WorkflowList = z.object({ data: z.array(WorkflowView) });

/** A published workflow as the catalog lists it: callable like a model, with its inputs as JSON Schema. */
export const WorkflowCatalogEntry = z.object({
  slug: z.string(),
  kind: z.literal("workflow"),
  name: z.string(),
  description: z.string().nullable(),
  version: z.number().int(),
  input_schema: z.record(z.string(), z.unknown()),
  outputs: z.array(z.string()),
  models: z.array(z.string()),
  run_url: z.string(),
});
export type WorkflowCatalogEntry = z.infer<typeof WorkflowCatalogEntry>;

export const PublishedVersion = z.object({
  slug: z.string(),
  version: z.number().int(),
  created_at: z.iso.datetime(),
  estimate: Estimate,
});

export const NodeStatus = z.enum(["PENDING", "QUEUED", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED"]);

export const RunOutput = z.union([
  z.object({
    type: z.literal("file"),
    url: z.url(),
    content_type: z.string(),
    size: z.number().int(),
    expires_at: z.iso.datetime(),
  }),
  z.object({ type: z.literal("json"), value: z.unknown() }),
]);

export const WorkflowRunView = z.object({
  run_id: z.string(),
  workflow: z.string(),
  version: z.number().int(),
  status: RequestStatus,
  created_at: z.iso.datetime(),
  started_at: z.iso.datetime().nullable(),
  completed_at: z.iso.datetime().nullable(),
  /** micro-USD: the run's charge (Σ node charges) once it ended; what is held while it runs */
  cost: z.number().int().nonnegative().nullable(),
  held: z.number().int().nonnegative(),
  outputs: z.record(z.string(), RunOutput).nullable(),
  /** Segmind-style: the first output (a URL or the JSON value) */
  output: z.unknown().nullable(),
  error: z.object({ node: z.string().nullable(), kind: z.string(), message: z.string() }).nullable(),
  nodes: z.record(
    z.string(),
    z.object({
      status: NodeStatus,
      model: z.string(),
      request_id: z.string(),
      attempts: z.number().int(),
      queued_at: z.iso.datetime().nullable(),
      started_at: z.iso.datetime().nullable(),
      ended_at: z.iso.datetime().nullable(),
      gpu_ms: z.number().int().nullable(),
      max_cost: z.number().int(),
      cost: z.number().int().nullable(),
      error: z.object({ kind: z.string(), message: z.string() }).nullable(),
    }),
  ),
  poll_url: z.string(),
  status_url: z.string(),
  events_url: z.string(),
  cancel_url: z.string(),
});
export type WorkflowRunView = z.infer<typeof WorkflowRunView>;

/** Where a run's event stream resumes (Last-Event-ID, when sent, wins); anything but an event id starts over. */
export const RunEventsQuery = z.object({
  after: z
    .string()
    .optional()
    .meta({ description: "the last event id seen", examples: ["9"] }),
});

/** The signature of an output URL (from the run's `outputs`); a missing or wrong one is 403. */
export const RunOutputQuery = z.object({
  expires: z
    .string()
    .optional()
    .meta({ description: "Unix seconds", examples: ["1796133602"] }),
  sig: z
    .string()
    .optional()
    .meta({ examples: ["ivbjqVhJi-MpMGCNr98DJp8QtsEGJJGydpfDJKQerZ4"] }),
});

export const RunSubmitted = z.object({
  run_id: z.string(),
  status: RequestStatus,
  workflow: z.string(),
  version: z.number().int(),
  held: z.number().int(),
  poll_url: z.string(),
  status_url: z.string(),
  events_url: z.string(),
  cancel_url: z.string(),
});

export const WorkflowTemplate = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  models: z.array(z.string()),
  definition: z.unknown(),
});
export const TemplateList = z.object({ data: z.array(WorkflowTemplate) });
export const CopyTemplate = z.strictObject({
  slug: WorkflowSlug.optional(),
  name: z.string().min(1).max(200).optional(),
});
