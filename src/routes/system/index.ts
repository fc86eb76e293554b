import { Health } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";
import { baseUrl } from "../../services/urls.ts";

export const VERSION = "0.1.0";

export function registerSystem(api: Api) {
  api.route({
    method: "get",
    path: "/health",
    tag: "System",
    auth: "none",
    summary: "Liveness",
    responses: { 200: { description: "ok", schema: Health } },
    handler: (c) => reply(c, Health, { status: "ok", version: VERSION, time: new Date().toISOString() }),
  });
  api.route({
    method: "get",
    path: "/openapi.json",
    tag: "System",
    auth: "none",
    summary: "This API as an OpenAPI 3.1 document",
    responses: { 200: { description: "document" } },
    handler: (c) => c.json(api.registry.document(baseUrl(c.var.services.cfg.PUBLIC_BASE_URL, c.req.url))),
  });
}
