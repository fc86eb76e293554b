import { UploadResponse } from "../../../schemas/index.ts";
import { LIMITS, reply, type Api, type Ctx } from "../../app.ts";
import { ApiError, notFound } from "../../errors.ts";
import { requireAgentToken } from "../../services/auth.ts";
import { FILE_NAME, storeOutput, validName } from "../../services/files.ts";
import { readJobInput } from "../../services/job-inputs.ts";
import { leasedScope } from "./context.ts";

export function registerAgentFiles(api: Api) {
  api.op(
    {
      method: "get",
      path: "/agent/v1/jobs/{id}/inputs/{name}",
      tag: "Agent",
      auth: "agent",
      summary: "Download an input of a leased job (x-agent-id, x-lease-id)",
      responses: { 200: { description: "bytes", content: "application/octet-stream" } },
      errors: [401, 403, 404, 409],
    },
    requireAgentToken,
    async (c: Ctx) => {
      const name = c.req.param("name")!;
      if (!validName(name)) throw notFound("input");
      const s = await leasedScope(c, c.req.header("x-lease-id") ?? "");
      const obj = await readJobInput(c.env, s.broker, s.accountId, s.jobId, name);
      if (!obj) throw notFound("input");
      return new Response(obj.body, {
        headers: { "content-type": obj.contentType, "content-length": String(obj.size) },
      });
    },
  );

  api.op(
    {
      method: "put",
      path: "/agent/v1/jobs/{id}/outputs/{name}",
      tag: "Agent",
      auth: "agent",
      maxBody: LIMITS.upload,
      summary: "Upload an output of a leased job (x-agent-id, x-lease-id)",
      responses: { 200: { description: "stored", schema: UploadResponse } },
      errors: [400, 401, 403, 404, 409, 413, 415],
    },
    requireAgentToken,
    async (c: Ctx) => {
      const name = c.req.param("name")!;
      if (!validName(name)) {
        const fields = [{ path: "name", message: "invalid file name" }];
        throw new ApiError("invalid_input", `output name must match ${FILE_NAME.source} without ".."`, { fields });
      }
      const s = await leasedScope(c, c.req.header("x-lease-id") ?? "");
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      // Tagged with the lease it was uploaded under: a completion attaches only its own lease's files.
      const leaseId = c.req.header("x-lease-id") ?? "";
      return reply(c, UploadResponse, await storeOutput(c.env, s, name, c.req.header("content-type"), bytes, leaseId));
    },
  );
}
