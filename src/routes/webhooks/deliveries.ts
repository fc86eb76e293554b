import { DeliveryPage, DeliveryQuery, Redelivered } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";

export function registerListDeliveries(api: Api) {
  api.route({
    method: "get",
    path: "/v1/webhooks/deliveries",
    tag: "Webhooks",
    auth: "api_key",
    summary:
      "Webhook deliveries newest first, each with every attempt (status code, latency, error, next retry); " +
      "filter by request_id and status; cursor-paginated",
    query: DeliveryQuery,
    responses: { 200: { description: "page", schema: DeliveryPage } },
    errors: [400, 401],
    handler: async (c, { query }) =>
      reply(c, DeliveryPage, await c.var.services.webhookDeliveries.list(c.var.account.id, query)),
  });
}

export function registerRedeliver(api: Api) {
  api.route({
    method: "post",
    path: "/v1/webhooks/deliveries/{id}/redeliver",
    tag: "Webhooks",
    auth: "api_key",
    summary:
      "Send a succeeded or failed delivery again, with the same webhook-id (409 while its retries are still scheduled)",
    responses: { 202: { description: "queued", schema: Redelivered } },
    errors: [401, 404, 409],
    handler: async (c, { params }) =>
      reply(c, Redelivered, await c.var.services.webhookDeliveries.redeliver(c.var.account.id, params.id), 202),
  });
}
