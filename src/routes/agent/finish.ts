import { CompleteRequest, FailRequest, JobAck, ReleaseRequest } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";
import { jobCall } from "./headers.ts";

export function registerAgentFinish(api: Api) {
  api.route({
    method: "post",
    path: "/agent/v1/jobs/{id}/complete",
    tag: "Agent",
    auth: "agent",
    summary:
      "Complete a job with its outputs and measured metrics (409 on a stale lease, or gpu_class_mismatch when the class or count differs from the registration)",
    body: CompleteRequest,
    responses: { 200: { description: "completed", schema: JobAck } },
    errors: [400, 401, 403, 404, 409],
    handler: async (c, { params, body }) =>
      reply(c, JobAck, await c.var.services.agentJobs.complete(jobCall(c, params.id), body)),
  });

  api.route({
    method: "post",
    path: "/agent/v1/jobs/{id}/fail",
    tag: "Agent",
    auth: "agent",
    summary:
      "Fail a job with an error kind; retryable failures are requeued until the maximum attempts. invalid_input is not taken on one agent's word: the job runs once more, preferably elsewhere, and never costs the caller's quota",
    body: FailRequest,
    responses: { 200: { description: "recorded", schema: JobAck } },
    errors: [400, 401, 403, 404, 409],
    handler: async (c, { params, body }) =>
      reply(c, JobAck, await c.var.services.agentJobs.fail(jobCall(c, params.id), body)),
  });

  api.route({
    method: "post",
    path: "/agent/v1/jobs/{id}/release",
    tag: "Agent",
    auth: "agent",
    summary: "Give a job back without counting an attempt (draining or not started)",
    body: ReleaseRequest,
    responses: { 200: { description: "requeued", schema: JobAck } },
    errors: [400, 401, 403, 404, 409],
    handler: async (c, { params, body }) =>
      reply(c, JobAck, await c.var.services.agentJobs.release(jobCall(c, params.id), body)),
  });
}
