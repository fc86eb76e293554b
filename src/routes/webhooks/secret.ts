import { RotateSecret, WebhookSecretView } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";

export function registerGetSecret(api: Api) {
  api.route({
    method: "get",
    path: "/v1/webhooks/secret",
    tag: "Webhooks",
    auth: "api_key",
    summary: "The account's webhook signing secret (Standard Webhooks `whsec_…`)",
    responses: { 200: { description: "secret", schema: WebhookSecretView } },
    errors: [401],
    handler: async (c) => reply(c, WebhookSecretView, await c.var.services.webhookSecrets.view(c.var.account.id)),
  });
}

export function registerRotateSecret(api: Api) {
  api.route({
    method: "post",
    path: "/v1/webhooks/secret/rotate",
    tag: "Webhooks",
    auth: "api_key",
    summary:
      "Replace the signing secret; for overlap_seconds (default a day) deliveries carry signatures " +
      "from both the new and the previous secret",
    body: RotateSecret,
    responses: { 200: { description: "the new secret", schema: WebhookSecretView } },
    errors: [400, 401],
    handler: async (c, { body }) =>
      reply(c, WebhookSecretView, await c.var.services.webhookSecrets.rotate(c.var.account.id, body.overlap_seconds)),
  });
}
