import { z } from "zod";
import { CreateEndpoint, EndpointList, EndpointView, PatchEndpoint } from "../../../schemas/index.ts";
import { reply, type Api, type Ctx } from "../../app.ts";
import { baseUrl } from "../../services/urls.ts";

const base = (c: Ctx) => baseUrl(c.var.services.cfg.PUBLIC_BASE_URL, c.req.url);
const Created = EndpointView.extend({ hold_required: z.number().int().nonnegative() });

/** Dedicated endpoints: create, list, read, change the scaling knobs, pause, resume, delete. */
export function registerEndpointManagement(api: Api) {
  api.route({
    method: "post",
    path: "/v1/endpoints",
    tag: "Endpoints",
    auth: "api_key",
    summary:
      "Create a dedicated endpoint: private instances of one model on one GPU class, billed per instance-second while ready (60 s minimum per session), at a price frozen now",
    body: CreateEndpoint,
    responses: { 201: { description: "created, with the runway hold min_instances need", schema: Created } },
    errors: [400, 401, 402, 404, 409],
    async handler(c, { body }) {
      const { view, hold_required } = await c.var.services.endpoints.create(c.var.account, body, base(c));
      c.header("location", `${base(c)}/v1/endpoints/${view.id}`);
      return reply(c, Created, { ...view, hold_required }, 201);
    },
  });
  api.route({
    method: "get",
    path: "/v1/endpoints",
    tag: "Endpoints",
    auth: "api_key",
    summary: "The account's endpoints",
    responses: { 200: { description: "endpoints", schema: EndpointList } },
    errors: [401],
    handler: async (c) => reply(c, EndpointList, { data: await c.var.services.endpoints.list(c.var.account, base(c)) }),
  });
  api.route({
    method: "get",
    path: "/v1/endpoints/{id}",
    tag: "Endpoints",
    auth: "api_key",
    summary: "One endpoint: state, every instance with its state and billed seconds, queue depth, spend rate, runway",
    responses: { 200: { description: "endpoint", schema: EndpointView } },
    errors: [401, 404],
    handler: async (c, { params }) =>
      reply(c, EndpointView, await c.var.services.endpoints.get(c.var.account, params.id, base(c))),
  });
  api.route({
    method: "patch",
    path: "/v1/endpoints/{id}",
    tag: "Endpoints",
    auth: "api_key",
    summary: "Change the scaling knobs; raising min_instances prewarms",
    body: PatchEndpoint,
    responses: { 200: { description: "endpoint", schema: EndpointView } },
    errors: [400, 401, 404],
    handler: async (c, { params, body }) =>
      reply(c, EndpointView, await c.var.services.endpoints.patch(c.var.account, params.id, body, base(c))),
  });
  for (const op of ["pause", "resume"] as const) {
    api.route({
      method: "post",
      path: `/v1/endpoints/{id}/${op}`,
      tag: "Endpoints",
      auth: "api_key",
      summary:
        op === "pause"
          ? "Pause: every instance released now, billed to the second; the hold settled and the rest of it returned"
          : "Resume a paused or suspended endpoint (needs the runway for min_instances)",
      responses: { 200: { description: "endpoint", schema: EndpointView } },
      errors: [401, 402, 404],
      handler: async (c, { params }) =>
        reply(c, EndpointView, await c.var.services.endpoints.lifecycle(c.var.account, params.id, op, base(c))),
    });
  }
  api.route({
    method: "delete",
    path: "/v1/endpoints/{id}",
    tag: "Endpoints",
    auth: "api_key",
    summary: "Delete: instances released and billed to the second, the hold settled",
    responses: { 200: { description: "the final state", schema: EndpointView } },
    errors: [401, 404],
    handler: async (c, { params }) =>
      reply(c, EndpointView, await c.var.services.endpoints.lifecycle(c.var.account, params.id, "delete", base(c))),
  });
}
