import { CopyTemplate, TemplateList, WorkflowView } from "../../../schemas/index.ts";
import { jsonBody, reply, type Api, type Ctx } from "../../app.ts";
import { notFound } from "../../errors.ts";
import { requireApiKey } from "../../services/auth.ts";
import { baseUrl } from "../../services/urls.ts";
import { WorkflowStore } from "../../services/workflows/store.ts";
import { TEMPLATES, TEMPLATE_BY_ID, templateModels } from "../../services/workflows/templates.ts";

export function registerWorkflowTemplates(api: Api) {
  api.op(
    {
      method: "get",
      path: "/v1/workflow-templates",
      tag: "Workflows",
      auth: "none",
      summary: "Ready-made workflows over the platform's CPU models",
      responses: { 200: { description: "templates", schema: TemplateList } },
    },
    async (c: Ctx) => reply(c, TemplateList, { data: TEMPLATES.map((t) => ({ ...t, models: templateModels(t) })) }),
  );

  api.op(
    {
      method: "post",
      path: "/v1/workflow-templates/{id}/copy",
      tag: "Workflows",
      auth: "api_key",
      summary: "Copy a template into the account as a new workflow draft (slug defaults to the template id)",
      body: CopyTemplate,
      responses: { 201: { description: "created", schema: WorkflowView } },
      errors: [400, 401, 404, 409],
    },
    requireApiKey,
    async (c: Ctx) => {
      const t = TEMPLATE_BY_ID.get(c.req.param("id")!);
      if (!t) throw notFound("template");
      const body = await jsonBody(c, CopyTemplate);
      const store = new WorkflowStore(c.env);
      const row = await store.create(c.get("account"), {
        slug: body.slug ?? t.id,
        name: body.name ?? t.name,
        description: t.description,
        definition: t.definition,
      });
      c.header("etag", store.etag(row));
      return reply(c, WorkflowView, await store.view(row, baseUrl(c.get("cfg").PUBLIC_BASE_URL, c.req.url)), 201);
    },
  );
}
