export { EdgeInference, type ClientOptions, type RunOptions, type SubmitOptions, type WaitOptions } from "./client.ts";
export { EdgeInferenceError, RequestFailedError, WaitTimeoutError, WorkflowRunFailedError } from "./errors.ts";
export type { WaitRunOptions, WorkflowRunOptions, WorkflowSubmitOptions } from "./workflows.ts";
export { parseSse, type EventsOptions, type RequestEvent } from "./events.ts";
export { verifyWebhook, WebhookVerificationError, type VerifyOptions } from "./webhooks.ts";
export type * from "./types.ts";
export type { paths, components, operations } from "./schema.ts";
