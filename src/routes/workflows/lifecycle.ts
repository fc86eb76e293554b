import {
  AliasName,
  CreateWorkflow,
  PublishedVersion,
  SetAlias,
  UpdateDraft,
  ValidationResult,
  WorkflowList,
  WorkflowView,
} from "../../../schemas/index.ts";
import { reply, type Api, type Ctx } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import { baseUrl } from "../../services/urls.ts";

const base = (c: Ctx) => baseUrl(c.var.services.cfg.PUBLIC_BASE_URL, c.req.url);
const E = [400, 401, 403, 404, 409];

/** The workflow lifecycle: create a draft, edit it under If-Match, validate, publish versions, move aliases, archive. */
export function registerWorkflowLifecycle(api: Api) {
  api.route({
    method: "post",
    path: "/v1/workflows",
    tag: "Workflows",
    auth: "api_key",
    summary: "Create a workflow (its draft); the definition is checked and every problem is listed with a JSON pointer",
    body: CreateWorkflow,
    responses: { 201: { description: "created; ETag is the draft's", schema: WorkflowView } },
    errors: E,
    async handler(c, { body }) {
      const { workflows } = c.var.services;
      const row = await workflows.create(c.var.account, body);
      c.header("etag", workflows.etag(row));
      c.header("location", `${base(c)}/v1/workflows/${row.slug}`);
      return reply(c, WorkflowView, await workflows.view(row, base(c)), 201);
    },
  });

  api.route({
    method: "get",
    path: "/v1/workflows",
    tag: "Workflows",
    auth: "api_key",
    summary: "The account's workflows (archived ones left out)",
    responses: { 200: { description: "workflows", schema: WorkflowList } },
    errors: [401],
    async handler(c) {
      const { workflows } = c.var.services;
      const rows = await workflows.list(c.var.account);
      return reply(c, WorkflowList, { data: await Promise.all(rows.map((r) => workflows.view(r, base(c)))) });
    },
  });

  api.route({
    method: "get",
    path: "/v1/workflows/{slug}",
    tag: "Workflows",
    auth: "api_key",
    summary: "One workflow: draft (with ETag), versions, aliases, the input schema of the version it serves",
    responses: { 200: { description: "workflow", schema: WorkflowView } },
    errors: [401, 404],
    async handler(c, { params }) {
      const { workflows } = c.var.services;
      const row = await workflows.row(c.var.account, params.slug);
      c.header("etag", workflows.etag(row));
      return reply(c, WorkflowView, await workflows.view(row, base(c)));
    },
  });

  api.route({
    method: "put",
    path: "/v1/workflows/{slug}/draft",
    tag: "Workflows",
    auth: "api_key",
    summary: "Replace the draft; If-Match must carry the ETag you read (412 when someone saved since, 428 without it)",
    body: UpdateDraft,
    responses: { 200: { description: "saved; the new ETag", schema: WorkflowView } },
    errors: [...E, 412, 428],
    async handler(c, { params, body }) {
      const { workflows } = c.var.services;
      const row = await workflows.updateDraft(c.var.account, params.slug, c.req.header("if-match"), body);
      c.header("etag", workflows.etag(row));
      return reply(c, WorkflowView, await workflows.view(row, base(c)));
    },
  });

  api.route({
    method: "post",
    path: "/v1/workflows/{slug}/validate",
    tag: "Workflows",
    auth: "api_key",
    summary: "Check the draft against the catalog now; the estimate is exactly the hold a run takes (micro-USD)",
    responses: { 200: { description: "result", schema: ValidationResult } },
    errors: [401, 404],
    handler: async (c, { params }) =>
      reply(c, ValidationResult, await c.var.services.workflows.validate(c.var.account, params.slug)),
  });

  api.route({
    method: "post",
    path: "/v1/workflows/{slug}/versions",
    tag: "Workflows",
    auth: "api_key",
    summary: "Publish the draft as the next immutable version; `latest` moves to it, aliases do not",
    responses: { 201: { description: "published", schema: PublishedVersion } },
    errors: E,
    async handler(c, { params }) {
      const v = await c.var.services.workflows.publish(c.var.account, params.slug);
      const created_at = new Date(v.createdAt).toISOString();
      return reply(
        c,
        PublishedVersion,
        { slug: params.slug, version: v.version, created_at, estimate: v.estimate },
        201,
      );
    },
  });

  api.route({
    method: "put",
    path: "/v1/workflows/{slug}/aliases/{alias}",
    tag: "Workflows",
    auth: "api_key",
    summary: "Point production or staging at a version; runs in flight keep the version they resolved",
    body: SetAlias,
    responses: { 200: { description: "moved", schema: WorkflowView } },
    errors: E,
    async handler(c, { params, body }) {
      const alias = AliasName.safeParse(params.alias);
      if (!alias.success) throw new ApiError("invalid_input", "alias must be production or staging");
      const { workflows } = c.var.services;
      await workflows.setAlias(c.var.account, params.slug, alias.data, body.version);
      return reply(c, WorkflowView, await workflows.view(await workflows.row(c.var.account, params.slug), base(c)));
    },
  });

  api.route({
    method: "delete",
    path: "/v1/workflows/{slug}",
    tag: "Workflows",
    auth: "api_key",
    summary: "Archive: no new runs; runs in flight finish",
    responses: { 200: { description: "archived", schema: WorkflowView } },
    errors: [401, 404],
    async handler(c, { params }) {
      const { workflows } = c.var.services;
      return reply(c, WorkflowView, await workflows.view(await workflows.archive(c.var.account, params.slug), base(c)));
    },
  });
}
