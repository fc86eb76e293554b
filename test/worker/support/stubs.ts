import { env } from "cloudflare:workers";
import type { AccountLedger } from "../../../src/durable-objects/account-ledger.ts";
import type { JobBroker } from "../../../src/durable-objects/job-broker.ts";
import type { WorkflowRun } from "../../../src/durable-objects/workflow-run.ts";

/** Typed stubs for tests that drive an object directly (src/env.ts leaves the namespaces untyped; see there). */
export const typedLedger = (name: string) =>
  env.ACCOUNT_LEDGER.get(env.ACCOUNT_LEDGER.idFromName(name)) as unknown as DurableObjectStub<AccountLedger>;
export const typedBroker = (name: string) =>
  env.JOB_BROKER.get(env.JOB_BROKER.idFromName(name)) as unknown as DurableObjectStub<JobBroker>;
export const typedRun = (name: string) =>
  env.WORKFLOW_RUN.get(env.WORKFLOW_RUN.idFromName(name)) as unknown as DurableObjectStub<WorkflowRun>;
