import { CompleteRequest, FailRequest, JobAck, ReleaseRequest } from "../../../schemas/index.ts";
import { jsonBody, reply, type Api, type Ctx } from "../../app.ts";
import { ApiError, notFound } from "../../errors.ts";
import { requireAgentToken } from "../../services/auth.ts";
import { r2Keys } from "../../services/urls.ts";
import { billing } from "../../services/billing.ts";
import { AgentService } from "../../services/agents.ts";
import type { Transition } from "../../durable-objects/job-broker.ts";
import { jobScope, leasedScope, staleLease } from "./context.ts";

/** Acknowledges a transition; a finished job's hold is settled or voided at once (the events queue repeats it, idempotently). */
async function ack(c: Ctx, t: Transition) {
  if (!t.ok) {
    if (t.error === "gpu_mismatch") {
      throw new ApiError(
        "gpu_class_mismatch",
        "the completion claims a GPU class or count other than the agent registered with; the job was put back",
        t.registered,
      );
    }
    throw t.error === "not_found" ? notFound("job") : staleLease(t.status);
  }
  if (t.job.status !== "QUEUED" && t.job.status !== "PROCESSING") {
    await billing(c.env).closeHold(t.job.account_id, t.job.id, {
      status: t.job.status,
      gpu_ms: t.job.gpu_ms,
      gpu_class: t.job.gpu_class,
      reason: t.job.error_kind,
      agent_id: c.req.header("x-agent-id") ?? null,
      model: t.job.model,
    });
  }
  return reply(c, JobAck, { job_id: t.job.id, status: t.job.status });
}

export function registerAgentFinish(api: Api) {
  api.op(
    {
      method: "post",
      path: "/agent/v1/jobs/{id}/complete",
      tag: "Agent",
      auth: "agent",
      summary:
        "Complete a job with its outputs and measured metrics (409 on a stale lease, or gpu_class_mismatch when the class or count differs from the registration)",
      body: CompleteRequest,
      responses: { 200: { description: "completed", schema: JobAck } },
      errors: [400, 401, 403, 404, 409],
    },
    requireAgentToken,
    async (c: Ctx) => {
      const body = await jsonBody(c, CompleteRequest);
      // The owner is needed only to find uploaded files: a JSON-only completion goes straight to the broker, whose
      // complete checks the lease itself.
      const s = body.outputs.length ? await leasedScope(c, body.lease_id) : { ...(await jobScope(c)), accountId: "" };
      // The outputs' R2 heads in parallel: one round trip whatever their number.
      const heads = await Promise.all(
        body.outputs.map((o) => c.env.BLOBS.head(r2Keys.output(s.accountId, s.jobId, o.name))),
      );
      body.outputs.forEach((o, i) => {
        const head = heads[i];
        // Only files uploaded under this very lease: an earlier attempt's outputs are never attached to a later one.
        if (!head || head.customMetadata?.lease_id !== body.lease_id)
          throw new ApiError("invalid_input", `output '${o.name}' was not uploaded under this lease`, {
            fields: [{ path: "outputs", message: `${o.name}: not uploaded under this lease` }],
          });
        o.size = head.size;
      });
      const t = await s.broker.complete(s.jobId, s.agentId, {
        lease_id: body.lease_id,
        epoch: body.epoch,
        outputs: body.outputs,
        output_json: body.output_json,
        gpu_ms: body.metrics.gpu_ms,
        load_ms: body.metrics.load_ms,
        gpu_class: body.metrics.gpu_class,
        gpu_count: body.metrics.gpu_count,
        ...(body.metrics.evidence ? { busy_gpu_ms: body.metrics.evidence.busy_gpu_ms } : {}),
      });
      if (!t.ok && t.error === "gpu_mismatch") await new AgentService(c.env).strike(s.agentId, "rejected_completion");
      return ack(c, t);
    },
  );

  api.op(
    {
      method: "post",
      path: "/agent/v1/jobs/{id}/fail",
      tag: "Agent",
      auth: "agent",
      summary:
        "Fail a job with an error kind; retryable failures are requeued until the maximum attempts. invalid_input is not taken on one agent's word: the job runs once more, preferably elsewhere, and never costs the caller's quota",
      body: FailRequest,
      responses: { 200: { description: "recorded", schema: JobAck } },
      errors: [400, 401, 403, 404, 409],
    },
    requireAgentToken,
    async (c: Ctx) => {
      const body = await jsonBody(c, FailRequest);
      const s = await jobScope(c);
      const t = await s.broker.fail(s.jobId, s.agentId, body);
      if (t.ok && body.kind === "invalid_input") await new AgentService(c.env).strike(s.agentId, "input_rejection");
      return ack(c, t);
    },
  );

  api.op(
    {
      method: "post",
      path: "/agent/v1/jobs/{id}/release",
      tag: "Agent",
      auth: "agent",
      summary: "Give a job back without counting an attempt (draining or not started)",
      body: ReleaseRequest,
      responses: { 200: { description: "requeued", schema: JobAck } },
      errors: [400, 401, 403, 404, 409],
    },
    requireAgentToken,
    async (c: Ctx) => {
      const body = await jsonBody(c, ReleaseRequest);
      const s = await jobScope(c);
      return ack(c, await s.broker.release(s.jobId, s.agentId, body));
    },
  );
}
