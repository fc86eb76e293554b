import { z } from "zod";
import { CreateEndpoint, EndpointList, EndpointView, PatchEndpoint } from "../../../schemas/index.ts";
import { jsonBody, reply, type Api, type Ctx } from "../../app.ts";
import { requireApiKey } from "../../services/auth.ts";
import { EndpointService } from "../../services/endpoints/index.ts";
import { baseUrl } from "../../services/urls.ts";

const base = (c: Ctx) => baseUrl(c.get("cfg").PUBLIC_BASE_URL, c.req.url);
const svc = (c: Ctx) => new EndpointService(c.env);
const id = (c: Ctx) => c.req.param("id")!;
const Created = EndpointView.extend({ hold_required: z.number().int().nonnegative() });

/** Dedicated endpoints: create, list, read, change the scaling knobs, pause, resume, delete. */
export function registerEndpointManagement(api: Api) {
  api.op(
    {
      method: "post",
      path: "/v1/endpoints",
      tag: "Endpoints",
      auth: "api_key",
      summary:
        "Create a dedicated endpoint: private instances of one model on one GPU class, billed per instance-second while ready (60 s minimum per session), at a price frozen now",
      body: CreateEndpoint,
      responses: { 201: { description: "created, with the runway hold min_instances need", schema: Created } },
      errors: [400, 401, 402, 404, 409],
    },
    requireApiKey,
    async (c: Ctx) => {
      const body = await jsonBody(c, CreateEndpoint);
      const { view, hold_required } = await svc(c).create(c.get("account"), body, base(c));
      c.header("location", `${base(c)}/v1/endpoints/${view.id}`);
      return reply(c, Created, { ...view, hold_required }, 201);
    },
  );
  api.op(
    {
      method: "get",
      path: "/v1/endpoints",
      tag: "Endpoints",
      auth: "api_key",
      summary: "The account's endpoints",
      responses: { 200: { description: "endpoints", schema: EndpointList } },
      errors: [401],
    },
    requireApiKey,
    async (c: Ctx) => reply(c, EndpointList, { data: await svc(c).list(c.get("account"), base(c)) }),
  );
  api.op(
    {
      method: "get",
      path: "/v1/endpoints/{id}",
      tag: "Endpoints",
      auth: "api_key",
      summary: "One endpoint: state, every instance with its state and billed seconds, queue depth, spend rate, runway",
      responses: { 200: { description: "endpoint", schema: EndpointView } },
      errors: [401, 404],
    },
    requireApiKey,
    async (c: Ctx) => reply(c, EndpointView, await svc(c).get(c.get("account"), id(c), base(c))),
  );
  api.op(
    {
      method: "patch",
      path: "/v1/endpoints/{id}",
      tag: "Endpoints",
      auth: "api_key",
      summary: "Change the scaling knobs; raising min_instances prewarms",
      body: PatchEndpoint,
      responses: { 200: { description: "endpoint", schema: EndpointView } },
      errors: [400, 401, 404],
    },
    requireApiKey,
    async (c: Ctx) =>
      reply(c, EndpointView, await svc(c).patch(c.get("account"), id(c), await jsonBody(c, PatchEndpoint), base(c))),
  );
  for (const op of ["pause", "resume"] as const) {
    api.op(
      {
        method: "post",
        path: `/v1/endpoints/{id}/${op}`,
        tag: "Endpoints",
        auth: "api_key",
        summary:
          op === "pause"
            ? "Pause: every instance released now, billed to the second; the rest of the hold is released"
            : "Resume a paused or suspended endpoint (needs the runway for min_instances)",
        responses: { 200: { description: "endpoint", schema: EndpointView } },
        errors: [401, 402, 404],
      },
      requireApiKey,
      async (c: Ctx) => reply(c, EndpointView, await svc(c).lifecycle(c.get("account"), id(c), op, base(c))),
    );
  }
  api.op(
    {
      method: "delete",
      path: "/v1/endpoints/{id}",
      tag: "Endpoints",
      auth: "api_key",
      summary: "Delete: instances released and billed to the second, the hold released",
      responses: { 200: { description: "the final state", schema: EndpointView } },
      errors: [401, 404],
    },
    requireApiKey,
    async (c: Ctx) => reply(c, EndpointView, await svc(c).lifecycle(c.get("account"), id(c), "delete", base(c))),
  );
}
