import { UploadResponse } from "../../../schemas/index.ts";
import { LIMITS, reply, type Api } from "../../app.ts";
import { ApiError, notFound } from "../../errors.ts";
import { FILE_NAME, validName } from "../../services/files.ts";
import { jobCall, leaseHeader } from "./headers.ts";

export function registerAgentFiles(api: Api) {
  api.route({
    method: "get",
    path: "/agent/v1/jobs/{id}/inputs/{name}",
    tag: "Agent",
    auth: "agent",
    summary: "Download an input of a leased job (x-agent-id, x-lease-id)",
    responses: { 200: { description: "bytes", content: "application/octet-stream" } },
    errors: [401, 403, 404, 409],
    async handler(c, { params }) {
      if (!validName(params.name)) throw notFound("input");
      const file = await c.var.services.agentJobs.input(jobCall(c, params.id), leaseHeader(c), params.name);
      return new Response(file.body, {
        headers: { "content-type": file.contentType, "content-length": String(file.size) },
      });
    },
  });

  api.route({
    method: "put",
    path: "/agent/v1/jobs/{id}/outputs/{name}",
    tag: "Agent",
    auth: "agent",
    maxBody: LIMITS.upload,
    summary: "Upload an output of a leased job (x-agent-id, x-lease-id)",
    responses: { 200: { description: "stored", schema: UploadResponse } },
    errors: [400, 401, 403, 404, 409, 413, 415],
    async handler(c, { params }) {
      if (!validName(params.name)) {
        const fields = [{ path: "name", message: "invalid file name" }];
        throw new ApiError("invalid_input", `output name must match ${FILE_NAME.source} without ".."`, { fields });
      }
      const stored = await c.var.services.agentJobs.output(
        jobCall(c, params.id),
        leaseHeader(c),
        params.name,
        c.req.header("content-type"),
        () => c.req.arrayBuffer(),
      );
      return reply(c, UploadResponse, stored);
    },
  });
}
