/** TypeScript samples using clients/typescript (`@edge-inference/client`), keyed as src/openapi-examples.ts is. */
const client = (body: string) => `import { EdgeInference } from "@edge-inference/client";

const client = new EdgeInference({ baseUrl: "https://api.example.com", apiKey: process.env.API_KEY! });
${body}`;

export const CLIENT_SAMPLES: Record<string, string> = {
  "post /v1/{model}": client(`
// Sync; falls back to waiting on the queued request if the model takes longer than the sync wait.
const result = await client.run("background-removal", { image: await readFile("photo.jpg") });
console.log(result.output?.[0]?.url);`),
  "post /v2/{model}": client(`
const { request_id } = await client.submit("nsfw-detector", { image: "https://example.com/photo.jpg" }, {
  webhook: "https://example.com/hooks/inference",
  idempotencyKey: "order-1234",
});
const result = await client.wait(request_id);
console.log(result.status, result.output_json);`),
  "get /v2/requests/{id}/status": client(`
const status = await client.status("req_0QhZk3a1f9JmXbT4cLw8rNpY");
console.log(status.status, status.queue_position);`),
  "get /v2/requests/{id}": client(`
const result = await client.result("req_0QhZk3a1f9JmXbT4cLw8rNpY");
console.log(result.output, result.cost);`),
  "post /v2/requests/{id}/cancel": client(`
const { outcome } = await client.cancel("req_0QhZk3a1f9JmXbT4cLw8rNpY");`),
  "get /v1/models": client(`
const { data } = await client.models();`),
  "get /v1/models/{model}": client(`
const model = await client.model("background-removal");`),
  "get /v1/account": client(`
const { available, held, plan } = await client.account();`),
  "get /v1/usage": client(`
const page = await client.usage({ limit: 50 });`),
  "get /v1/webhooks/deliveries": client(`
const { data } = await client.webhooks.deliveries({ status: "failed" });
for (const d of data) console.log(d.request_id, d.attempt_log.at(-1)?.error);`),
  "post /v1/webhooks/deliveries/{id}/redeliver": client(`
await client.webhooks.redeliver("whd_0QhZl0b2Tq8wMx3K");`),
  "get /v1/webhooks/secret": client(`
import { verifyWebhook } from "@edge-inference/client";

const { secret } = await client.webhooks.secret();
// in the receiver, with the raw body:
const result = await verifyWebhook(secret, request.headers, rawBody);`),
  "post /v1/webhooks/secret/rotate": client(`
const { secret, previous_secret_expires_at } = await client.webhooks.rotateSecret(24 * 3600);
// until previous_secret_expires_at, verify with both: verifyWebhook([secret, oldSecret], headers, rawBody)`),
};
