import type { Api, Ctx } from "../../app.ts";
import { ApiError, notFound } from "../../errors.ts";
import { signingSecret } from "../../env.ts";
import { db } from "../../db/client.ts";
import { requests } from "../../db/schema.ts";
import { eq } from "drizzle-orm";
import { RequestService } from "../../services/requests.ts";
import { verifyOutputSignature } from "../../services/urls.ts";

export function registerGetOutput(api: Api) {
  api.op(
    { method: "get", path: "/v2/requests/{id}/outputs/{name}", tag: "Requests", auth: "none", summary: "Download one output through its signed, expiring URL", responses: { 200: { description: "the file", content: "application/octet-stream" } }, errors: [403, 404] },
    async (c: Ctx) => {
      const id = c.req.param("id")!;
      const name = c.req.param("name")!;
      const ok = await verifyOutputSignature(signingSecret(c.get("cfg")), id, name, Number(c.req.query("expires")), c.req.query("sig") ?? "", Date.now());
      if (!ok) throw new ApiError("forbidden", "missing, invalid or expired signature");
      const row = await db(c.env).select({ accountId: requests.accountId }).from(requests).where(eq(requests.id, id)).get();
      if (!row) throw notFound("output");
      const obj = await new RequestService(c.env, c.get("cfg")).readOutput(row.accountId, id, name);
      if (!obj) throw notFound("output");
      return new Response(obj.body, {
        headers: { "content-type": obj.httpMetadata?.contentType ?? "application/octet-stream", "content-length": String(obj.size), "cache-control": "private, max-age=3600", "x-request-id": c.get("requestId") },
      });
    },
  );
}
