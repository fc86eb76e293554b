import { OutputQuery } from "../../../schemas/index.ts";
import type { Api } from "../../app.ts";
import { servingHeaders } from "../../services/files.ts";

export function registerGetOutput(api: Api) {
  api.route({
    method: "get",
    path: "/v2/requests/{id}/outputs/{name}",
    tag: "Requests",
    auth: "none",
    summary: "Download one output through its signed, expiring URL",
    query: OutputQuery,
    responses: { 200: { description: "the file", content: "application/octet-stream" } },
    errors: [403, 404],
    async handler(c, { params, query }) {
      // The signature is the credential: `signedOutput` checks it (403) before it looks the output up (404).
      const obj = await c.var.services.requests.signedOutput(params.id, params.name, query);
      return new Response(obj.body, {
        headers: {
          ...servingHeaders(obj.httpMetadata?.contentType, params.name),
          "content-length": String(obj.size),
          "cache-control": "private, max-age=3600",
          "x-request-id": c.var.requestId,
        },
      });
    },
  });
}
