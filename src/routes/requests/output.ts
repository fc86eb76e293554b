import type { Api, Ctx } from "../../app.ts";
import { ApiError, notFound } from "../../errors.ts";
import { signingSecret } from "../../env.ts";
import { db } from "../../db/client.ts";
import { requests } from "../../db/schema.ts";
import { eq } from "drizzle-orm";
import { ID, servingHeaders, validName } from "../../services/files.ts";
import { RequestService } from "../../services/requests.ts";
import { DEFAULT_POOL, broker } from "../../services/broker.ts";
import { verifyOutputSignature } from "../../services/urls.ts";

export function registerGetOutput(api: Api) {
  api.op(
    {
      method: "get",
      path: "/v2/requests/{id}/outputs/{name}",
      tag: "Requests",
      auth: "none",
      summary: "Download one output through its signed, expiring URL",
      responses: { 200: { description: "the file", content: "application/octet-stream" } },
      errors: [403, 404],
    },
    async (c: Ctx) => {
      // The router has decoded each segment once; decoding again would let %252F become "/". Anything outside the
      // id and name alphabets cannot name an output, so it is 404, never a decoding error.
      const id = c.req.param("id")!;
      const name = c.req.param("name")!;
      if (!ID.test(id) || !validName(name)) throw notFound("output");
      const ok = await verifyOutputSignature(
        signingSecret(c.get("cfg")),
        id,
        name,
        Number(c.req.query("expires")),
        c.req.query("sig") ?? "",
        Date.now(),
      );
      if (!ok) throw new ApiError("forbidden", "missing, invalid or expired signature");
      // The job in the broker names the owner even before the events queue has written the D1 row.
      const job = await broker(c.env, DEFAULT_POOL).get(id);
      const row = job
        ? { accountId: job.account_id }
        : await db(c.env).select({ accountId: requests.accountId }).from(requests).where(eq(requests.id, id)).get();
      if (!row) throw notFound("output");
      const obj = await new RequestService(c.env, c.get("cfg")).readOutput(row.accountId, id, name);
      if (!obj) throw notFound("output");
      const headers = servingHeaders(obj.httpMetadata?.contentType, name);
      return new Response(obj.body, {
        headers: {
          ...headers,
          "content-length": String(obj.size),
          "cache-control": "private, max-age=3600",
          "x-request-id": c.get("requestId"),
        },
      });
    },
  );
}
