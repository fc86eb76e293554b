import { DeliveryPage, DeliveryQuery, Redelivered } from "../../../schemas/index.ts";
import { reply, validate, type Api, type Ctx } from "../../app.ts";
import { requireApiKey } from "../../services/auth.ts";
import { WebhookDeliveries } from "../../services/webhook-deliveries.ts";

export function registerListDeliveries(api: Api) {
  api.op(
    {
      method: "get",
      path: "/v1/webhooks/deliveries",
      tag: "Webhooks",
      auth: "api_key",
      summary:
        "Webhook deliveries newest first, each with every attempt (status code, latency, error, next retry); " +
        "filter by request_id and status; cursor-paginated",
      responses: { 200: { description: "page", schema: DeliveryPage } },
      errors: [400, 401],
    },
    requireApiKey,
    async (c: Ctx) => {
      const q = validate(DeliveryQuery, c.req.query());
      return reply(c, DeliveryPage, await new WebhookDeliveries(c.env).list(c.get("account").id, q));
    },
  );
}

export function registerRedeliver(api: Api) {
  api.op(
    {
      method: "post",
      path: "/v1/webhooks/deliveries/{id}/redeliver",
      tag: "Webhooks",
      auth: "api_key",
      summary:
        "Send a succeeded or failed delivery again, with the same webhook-id " +
        "(409 while its retries are still scheduled)",
      responses: { 202: { description: "queued", schema: Redelivered } },
      errors: [401, 404, 409],
    },
    requireApiKey,
    async (c: Ctx) =>
      reply(
        c,
        Redelivered,
        await new WebhookDeliveries(c.env).redeliver(c.get("account").id, c.req.param("id") ?? ""),
        202,
      ),
  );
}
