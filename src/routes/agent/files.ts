import { UploadResponse } from "../../../schemas/index.ts";
import { LIMITS, reply, type Api, type Ctx } from "../../app.ts";
import { ApiError, notFound } from "../../errors.ts";
import { requireAgentToken } from "../../services/auth.ts";
import { r2Keys } from "../../services/urls.ts";
import { jobScope, staleLease } from "./context.ts";

const NAME = /^[a-zA-Z0-9._-]{1,100}$/;

export function registerAgentFiles(api: Api) {
  api.op(
    { method: "get", path: "/agent/v1/jobs/{id}/inputs/{name}", tag: "Agent", auth: "agent", summary: "Download an input of a leased job (x-agent-id, x-lease-id)", responses: { 200: { description: "bytes", content: "application/octet-stream" } }, errors: [401, 403, 404, 409] },
    requireAgentToken,
    async (c: Ctx) => {
      const s = await jobScope(c);
      const check = await s.broker.checkLease(s.jobId, c.req.header("x-lease-id") ?? "", s.agentId);
      if (!check.ok) throw check.error === "not_found" ? notFound("job") : staleLease();
      const obj = await c.env.BLOBS.get(r2Keys.input(s.accountId, s.jobId, c.req.param("name")!));
      if (!obj) throw notFound("input");
      return new Response(obj.body, { headers: { "content-type": obj.httpMetadata?.contentType ?? "application/octet-stream", "content-length": String(obj.size) } });
    },
  );

  api.op(
    { method: "put", path: "/agent/v1/jobs/{id}/outputs/{name}", tag: "Agent", auth: "agent", maxBody: LIMITS.upload, summary: "Upload an output of a leased job (x-agent-id, x-lease-id)", responses: { 200: { description: "stored", schema: UploadResponse } }, errors: [400, 401, 403, 404, 409, 413] },
    requireAgentToken,
    async (c: Ctx) => {
      const name = c.req.param("name")!;
      if (!NAME.test(name)) throw new ApiError("invalid_input", "output name must match [a-zA-Z0-9._-]{1,100}");
      const s = await jobScope(c);
      const check = await s.broker.checkLease(s.jobId, c.req.header("x-lease-id") ?? "", s.agentId);
      if (!check.ok) throw check.error === "not_found" ? notFound("job") : staleLease();
      const contentType = c.req.header("content-type") ?? "application/octet-stream";
      const bytes = await c.req.arrayBuffer();
      // Tagged with the lease it was uploaded under: a completion attaches only its own lease's files.
      await c.env.BLOBS.put(r2Keys.output(s.accountId, s.jobId, name), bytes, { httpMetadata: { contentType }, customMetadata: { lease_id: c.req.header("x-lease-id") ?? "" } });
      return reply(c, UploadResponse, { name, content_type: contentType, size: bytes.byteLength });
    },
  );
}
