import { imageFields } from "../../../schemas/index.ts";
import type { Ctx } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import type { CatalogModel } from "../../services/catalog.ts";
import { MAX_IMAGE_BYTES } from "../../services/inputs.ts";
import { checkOutbound, outboundPolicy } from "../../services/outbound.ts";

/** A catalog model, or one of the calling account's private models; 404 otherwise. */
export async function loadModel(c: Ctx, slug: string): Promise<CatalogModel> {
  const model = await c.var.services.catalog.get(slug, c.var.account.id);
  if (!model) throw new ApiError("not_found", `model '${slug}' not found`, { model: slug });
  return model;
}

/**
 * The body of an inference call: JSON (Segmind's shape), or raw image bytes (`Content-Type: image/*`) for a model
 * with exactly one image input, so `curl --data-binary @photo.jpg` works.
 */
export async function inferenceBody(c: Ctx, model: CatalogModel): Promise<Record<string, unknown>> {
  const type = (c.req.header("content-type") ?? "application/json").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type.startsWith("image/") || type === "application/octet-stream") {
    const fields = imageFields(model.definition.input_schema);
    const [field] = fields;
    if (fields.length !== 1 || !field)
      throw new ApiError("unsupported_media_type", `${model.view.slug} takes a JSON body`);
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength === 0)
      throw new ApiError("invalid_input", "empty image body", { fields: [{ path: field, message: "required" }] });
    if (bytes.byteLength > MAX_IMAGE_BYTES)
      throw new ApiError("payload_too_large", `image exceeds ${MAX_IMAGE_BYTES} bytes`);
    const params = Object.fromEntries(new URL(c.req.url).searchParams);
    return { ...coerceQuery(params), [field]: bytes };
  }
  if (type !== "application/json")
    throw new ApiError("unsupported_media_type", "send application/json or an image/* body");
  let raw: unknown;
  try {
    raw = JSON.parse(await c.req.text());
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError("invalid_input", "request body is not valid JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new ApiError("invalid_input", "request body must be a JSON object");
  return raw as Record<string, unknown>;
}

function coerceQuery(q: Record<string, string>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(q).map(([k, v]) => [
      k,
      v === "true" ? true : v === "false" ? false : /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v,
    ]),
  );
}

/** `Prefer: wait=N` (seconds), as Replicate reads it; bounded so a sync call never holds a connection forever. */
export function preferWait(c: Ctx, fallback: number, max: number): number {
  const m = c.req.header("prefer")?.match(/wait=(\d+)/);
  const n = m ? Number(m[1]) : fallback;
  return Math.min(Math.max(n, 0), max);
}

/** The `Idempotency-Key` header, when sent: 1–255 printable characters, else 400. */
export function idempotencyKey(c: Ctx): string | undefined {
  const key = c.req.header("idempotency-key");
  if (key !== undefined && !/^[\x21-\x7e]{1,255}$/.test(key))
    throw new ApiError("invalid_input", "Idempotency-Key must be 1-255 printable characters");
  return key;
}

/** Takes `webhook` out of a model's input, checked as a URL the platform may call (400 otherwise). */
export function takeWebhook(c: Ctx, raw: Record<string, unknown>): string | undefined {
  const webhook = typeof raw.webhook === "string" ? raw.webhook : undefined;
  if (raw.webhook !== undefined && !webhook)
    throw new ApiError("invalid_input", "webhook must be an http(s) URL", {
      fields: [{ path: "webhook", message: "invalid URL" }],
    });
  if (webhook) checkOutbound(webhook, "webhook", outboundPolicy(c.var.services.cfg));
  delete raw.webhook;
  return webhook;
}
