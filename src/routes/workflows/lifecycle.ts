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
import { jsonBody, reply, type Api, type Ctx } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import { requireApiKey } from "../../services/auth.ts";
import { baseUrl } from "../../services/urls.ts";
import { WorkflowStore } from "../../services/workflows/store.ts";

const base = (c: Ctx) => baseUrl(c.get("cfg").PUBLIC_BASE_URL, c.req.url);
const store = (c: Ctx) => new WorkflowStore(c.env);
const slug = (c: Ctx) => c.req.param("slug")!;
const E = [400, 401, 403, 404, 409];

/** The workflow lifecycle: create a draft, edit it under If-Match, validate, publish versions, move aliases, archive. */
export function registerWorkflowLifecycle(api: Api) {
  api.op(
    {
      method: "post",
      path: "/v1/workflows",
      tag: "Workflows",
      auth: "api_key",
      summary:
        "Create a workflow (its draft); the definition is checked and every problem is listed with a JSON pointer",
      body: CreateWorkflow,
      responses: { 201: { description: "created; ETag is the draft's", schema: WorkflowView } },
      errors: E,
    },
    requireApiKey,
    async (c: Ctx) => {
      const body = await jsonBody(c, CreateWorkflow);
      const row = await store(c).create(c.get("account"), body);
      c.header("etag", store(c).etag(row));
      c.header("location", `${base(c)}/v1/workflows/${row.slug}`);
      return reply(c, WorkflowView, await store(c).view(row, base(c)), 201);
    },
  );

  api.op(
    {
      method: "get",
      path: "/v1/workflows",
      tag: "Workflows",
      auth: "api_key",
      summary: "The account's workflows (archived ones left out)",
      responses: { 200: { description: "workflows", schema: WorkflowList } },
      errors: [401],
    },
    requireApiKey,
    async (c: Ctx) => {
      const rows = await store(c).list(c.get("account"));
      return reply(c, WorkflowList, { data: await Promise.all(rows.map((r) => store(c).view(r, base(c)))) });
    },
  );

  api.op(
    {
      method: "get",
      path: "/v1/workflows/{slug}",
      tag: "Workflows",
      auth: "api_key",
      summary: "One workflow: draft (with ETag), versions, aliases, the input schema of the version it serves",
      responses: { 200: { description: "workflow", schema: WorkflowView } },
      errors: [401, 404],
    },
    requireApiKey,
    async (c: Ctx) => {
      const row = await store(c).row(c.get("account"), slug(c));
      c.header("etag", store(c).etag(row));
      return reply(c, WorkflowView, await store(c).view(row, base(c)));
    },
  );

  api.op(
    {
      method: "put",
      path: "/v1/workflows/{slug}/draft",
      tag: "Workflows",
      auth: "api_key",
      summary:
        "Replace the draft; If-Match must carry the ETag you read (412 when someone saved since, 428 without it)",
      body: UpdateDraft,
      responses: { 200: { description: "saved; the new ETag", schema: WorkflowView } },
      errors: [...E, 412, 428],
    },
    requireApiKey,
    async (c: Ctx) => {
      const body = await jsonBody(c, UpdateDraft);
      const row = await store(c).updateDraft(c.get("account"), slug(c), c.req.header("if-match"), body);
      c.header("etag", store(c).etag(row));
      return reply(c, WorkflowView, await store(c).view(row, base(c)));
    },
  );

  api.op(
    {
      method: "post",
      path: "/v1/workflows/{slug}/validate",
      tag: "Workflows",
      auth: "api_key",
      summary: "Check the draft against the catalog now; the estimate is exactly the hold a run takes (micro-USD)",
      responses: { 200: { description: "result", schema: ValidationResult } },
      errors: [401, 404],
    },
    requireApiKey,
    async (c: Ctx) => {
      const row = await store(c).row(c.get("account"), slug(c));
      const { errors, definition, models } = await store(c).check(c.get("account"), row.draft);
      const estimate = definition && errors.length === 0 ? models.estimate(definition) : null;
      return reply(c, ValidationResult, {
        valid: errors.length === 0,
        errors,
        estimate: estimate ? { max_cost: estimate.max_cost, per_node: estimate.per_node } : null,
      });
    },
  );

  api.op(
    {
      method: "post",
      path: "/v1/workflows/{slug}/versions",
      tag: "Workflows",
      auth: "api_key",
      summary: "Publish the draft as the next immutable version; `latest` moves to it, aliases do not",
      responses: { 201: { description: "published", schema: PublishedVersion } },
      errors: E,
    },
    requireApiKey,
    async (c: Ctx) => {
      const account = c.get("account");
      const v = await store(c).publish(account, slug(c));
      const { models } = await store(c).check(account, v.definition);
      const e = models.estimate(v.definition);
      return reply(
        c,
        PublishedVersion,
        {
          slug: slug(c),
          version: v.version,
          created_at: new Date(v.createdAt).toISOString(),
          estimate: { max_cost: e.max_cost, per_node: e.per_node },
        },
        201,
      );
    },
  );

  api.op(
    {
      method: "put",
      path: "/v1/workflows/{slug}/aliases/{alias}",
      tag: "Workflows",
      auth: "api_key",
      summary: "Point production or staging at a version; runs in flight keep the version they resolved",
      body: SetAlias,
      responses: { 200: { description: "moved", schema: WorkflowView } },
      errors: E,
    },
    requireApiKey,
    async (c: Ctx) => {
      const alias = AliasName.safeParse(c.req.param("alias"));
      if (!alias.success) throw new ApiError("invalid_input", "alias must be production or staging");
      const body = await jsonBody(c, SetAlias);
      await store(c).setAlias(c.get("account"), slug(c), alias.data, body.version);
      return reply(c, WorkflowView, await store(c).view(await store(c).row(c.get("account"), slug(c)), base(c)));
    },
  );

  api.op(
    {
      method: "delete",
      path: "/v1/workflows/{slug}",
      tag: "Workflows",
      auth: "api_key",
      summary: "Archive: no new runs; runs in flight finish",
      responses: { 200: { description: "archived", schema: WorkflowView } },
      errors: [401, 404],
    },
    requireApiKey,
    async (c: Ctx) =>
      reply(c, WorkflowView, await store(c).view(await store(c).archive(c.get("account"), slug(c)), base(c))),
  );
}
