/**
 * The request's services, built once per request by one middleware (src/app.ts) and reached as `c.var.services`.
 * Routes parse input, call one method here and shape the response; only services touch bindings (D1, Durable
 * Objects, R2, queues). Each service is made on first use, so a request pays only for what it calls: the submit path
 * builds two objects, not twenty.
 *
 * Nothing here imports src/app.ts or src/context.ts (the context names this type; a service never names the context).
 */
import { createConsoleServices, type ConsoleServices } from "../console/services/index.ts";
import type { Config, Env } from "../env.ts";
import { Admin } from "./admin.ts";
import { AgentJobs } from "./agent-jobs.ts";
import { AgentLeases } from "./agent-leases.ts";
import { AgentService } from "./agents.ts";
import { StaticAssets } from "./assets.ts";
import { Billing } from "./billing.ts";
import { D1Catalog } from "./catalog.ts";
import { CustomModels } from "./custom-models.ts";
import { EndpointService } from "./endpoints/index.ts";
import { ModelPages } from "./model-page.ts";
import { Reservations } from "./endpoints/reservations.ts";
import { Payments } from "./payments/index.ts";
import { Providers } from "./payments/providers.ts";
import { ProviderAccounts } from "./provider-accounts.ts";
import { RequestEvents } from "./request-events.ts";
import { RequestService } from "./requests.ts";
import { UsageHistory } from "./usage.ts";
import { WebhookDeliveries } from "./webhook-deliveries.ts";
import { WebhookSecrets } from "./webhooks.ts";
import { WorkflowRunService } from "./workflows/runs.ts";
import { WorkflowStore } from "./workflows/store.ts";

export interface Services {
  readonly cfg: Config;
  /** work that may finish after the response */
  readonly background: Background;
  /** inference requests: submit, status, outputs, cancel */
  readonly requests: RequestService;
  /** a request's progress events (SSE) */
  readonly requestEvents: RequestEvents;
  readonly catalog: D1Catalog;
  readonly customModels: CustomModels;
  /** the account's ledger: balances, holds, plan, usage */
  readonly billing: Billing;
  /** card payments and the Stripe webhook */
  readonly payments: Payments;
  /** providers' earnings and payouts */
  readonly providers: Providers;
  readonly providerAccounts: ProviderAccounts;
  /** operator administration of accounts: keys, plans, credits and debits */
  readonly admin: Admin;
  /** agent registration and strikes */
  readonly agents: AgentService;
  /** an agent's job-scoped calls: inputs, outputs, complete, fail, release */
  readonly agentJobs: AgentJobs;
  /** an agent's lease long-poll, heartbeat, deregistration, dedicated readiness */
  readonly agentLeases: AgentLeases;
  readonly webhookSecrets: WebhookSecrets;
  readonly webhookDeliveries: WebhookDeliveries;
  readonly workflows: WorkflowStore;
  readonly workflowRuns: WorkflowRunService;
  readonly endpoints: EndpointService;
  readonly reservations: Reservations;
  /** the web console's own services: sessions, sign-in links, API keys, usage pages */
  readonly console: ConsoleServices;
  /** the Worker's static assets (the docs' bundle) */
  readonly assets: StaticAssets;
  /** a catalog model's page: prices, measured speed, snippets */
  readonly modelPages: ModelPages;
  /** an account's request history */
  readonly usage: UsageHistory;
}

/** Schedules work that may finish after the response (the Worker's waitUntil when there is one). */
export type Background = (p: Promise<unknown>) => void;

export function createServices(env: Env, cfg: Config, background: Background): Services {
  const made = new Map<keyof Services, unknown>();
  const once = <K extends keyof Services>(name: K, make: () => Services[K]): Services[K] => {
    let s = made.get(name) as Services[K] | undefined;
    if (s === undefined) made.set(name, (s = make()));
    return s;
  };
  return {
    cfg,
    background,
    get requests() {
      return once("requests", () => new RequestService(env, cfg));
    },
    get requestEvents() {
      return once("requestEvents", () => new RequestEvents(env, cfg));
    },
    get catalog() {
      return once("catalog", () => new D1Catalog(env));
    },
    get customModels() {
      return once("customModels", () => new CustomModels(env));
    },
    get billing() {
      return once("billing", () => new Billing(env));
    },
    get payments() {
      return once("payments", () => new Payments(env));
    },
    get providers() {
      return once("providers", () => new Providers(env));
    },
    get providerAccounts() {
      return once("providerAccounts", () => new ProviderAccounts(env));
    },
    get admin() {
      return once("admin", () => new Admin(env));
    },
    get agents() {
      return once("agents", () => new AgentService(env));
    },
    get agentJobs() {
      return once("agentJobs", () => new AgentJobs(env));
    },
    get agentLeases() {
      return once("agentLeases", () => new AgentLeases(env));
    },
    get webhookSecrets() {
      return once("webhookSecrets", () => new WebhookSecrets(env));
    },
    get webhookDeliveries() {
      return once("webhookDeliveries", () => new WebhookDeliveries(env));
    },
    get workflows() {
      return once("workflows", () => new WorkflowStore(env));
    },
    get workflowRuns() {
      return once("workflowRuns", () => new WorkflowRunService(env, cfg));
    },
    get endpoints() {
      return once("endpoints", () => new EndpointService(env, cfg));
    },
    get reservations() {
      return once("reservations", () => new Reservations(env));
    },
    get console() {
      return once("console", () => createConsoleServices(env, cfg));
    },
    get assets() {
      return once("assets", () => new StaticAssets(env));
    },
    get modelPages() {
      return once("modelPages", () => new ModelPages(env));
    },
    get usage() {
      return once("usage", () => new UsageHistory(env));
    },
  };
}
