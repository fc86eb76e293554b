import { CopyTemplate, TemplateList, WorkflowView } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";
import { notFound } from "../../errors.ts";
import { baseUrl } from "../../services/urls.ts";
import { TEMPLATES, TEMPLATE_BY_ID, templateModels } from "../../services/workflows/templates.ts";

export function registerWorkflowTemplates(api: Api) {
  api.route({
    method: "get",
    path: "/v1/workflow-templates",
    tag: "Workflows",
    auth: "none",
    summary: "Ready-made workflows over the platform's CPU models",
    responses: { 200: { description: "templates", schema: TemplateList } },
    handler: (c) => reply(c, TemplateList, { data: TEMPLATES.map((t) => ({ ...t, models: templateModels(t) })) }),
  });

  api.route({
    method: "post",
    path: "/v1/workflow-templates/{id}/copy",
    tag: "Workflows",
    auth: "api_key",
    summary: "Copy a template into the account as a new workflow draft (slug defaults to the template id)",
    body: CopyTemplate,
    responses: { 201: { description: "created", schema: WorkflowView } },
    errors: [400, 401, 404, 409],
    async handler(c, { params, body }) {
      const t = TEMPLATE_BY_ID.get(params.id);
      if (!t) throw notFound("template");
      const { workflows, cfg } = c.var.services;
      const row = await workflows.create(c.var.account, {
        slug: body.slug ?? t.id,
        name: body.name ?? t.name,
        description: t.description,
        definition: t.definition,
      });
      c.header("etag", workflows.etag(row));
      return reply(c, WorkflowView, await workflows.view(row, baseUrl(cfg.PUBLIC_BASE_URL, c.req.url)), 201);
    },
  });
}
