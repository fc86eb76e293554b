import { RotateSecret, WebhookSecretView } from "../../../schemas/index.ts";
import { jsonBody, reply, type Api, type Ctx } from "../../app.ts";
import { requireApiKey } from "../../services/auth.ts";
import { WebhookSecrets } from "../../services/webhooks.ts";

export function registerGetSecret(api: Api) {
  api.op(
    {
      method: "get",
      path: "/v1/webhooks/secret",
      tag: "Webhooks",
      auth: "api_key",
      summary: "The account's webhook signing secret (Standard Webhooks `whsec_…`)",
      responses: { 200: { description: "secret", schema: WebhookSecretView } },
      errors: [401],
    },
    requireApiKey,
    async (c: Ctx) => reply(c, WebhookSecretView, await new WebhookSecrets(c.env).view(c.get("account").id)),
  );
}

export function registerRotateSecret(api: Api) {
  api.op(
    {
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
    },
    requireApiKey,
    async (c: Ctx) => {
      const body = await jsonBody(c, RotateSecret);
      return reply(
        c,
        WebhookSecretView,
        await new WebhookSecrets(c.env).rotate(c.get("account").id, body.overlap_seconds),
      );
    },
  );
}
