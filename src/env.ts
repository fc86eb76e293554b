import { z } from "zod";
import type { EventMessage, WebhookDelivery } from "../schemas/index.ts";

export interface Env {
  DB: D1Database;
  // Untyped so that env.ts imports no Durable Object (every object imports env.ts: a cycle otherwise). Each object's
  // typed stub comes from one getter: services/broker.ts, services/billing.ts, services/workflows/runs.ts,
  // services/endpoints/index.ts.
  JOB_BROKER: DurableObjectNamespace<Rpc.DurableObjectBranded>;
  ACCOUNT_LEDGER: DurableObjectNamespace<Rpc.DurableObjectBranded>;
  WORKFLOW_RUN: DurableObjectNamespace<Rpc.DurableObjectBranded>;
  ENDPOINT: DurableObjectNamespace<Rpc.DurableObjectBranded>;
  EVENTS: Queue<EventMessage>;
  WEBHOOKS: Queue<WebhookDelivery>;
  BLOBS: R2Bucket;
  /** static assets (public/): the API reference's browser bundle */
  ASSETS: Fetcher;
  ENVIRONMENT: string;
  LEASE_TTL_MS: string;
  MAX_ATTEMPTS: string;
  JOB_TTL_S: string;
  ADMIN_TOKEN?: string;
  URL_SIGNING_SECRET?: string;
  PUBLIC_BASE_URL?: string;
  ALLOW_PRIVATE_OUTBOUND?: string;
  OUTBOUND_ALLOWED_PORTS?: string;
  OUTPUT_RETENTION_DAYS?: string;
  REQUEST_RETENTION_DAYS?: string;
  /** console sign-in mail: "resend" sends through Resend's HTTP API; unset logs the link (outside production) */
  MAIL_PROVIDER?: string;
  MAIL_API_KEY?: string;
  MAIL_FROM?: string;
  STRIPE_SECRET_KEY?: string;
  STRIPE_WEBHOOK_SECRET?: string;
  STRIPE_API_BASE?: string;
}

type WorkerEnv = Env;
declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {}
  }
}

/** Configuration parsed once from the Worker's env. */
export const Config = z.object({
  ENVIRONMENT: z.enum(["development", "test", "production"]).default("production"),
  LEASE_TTL_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  JOB_TTL_S: z.coerce
    .number()
    .int()
    .min(5)
    .max(7 * 24 * 3600)
    .default(600),
  ADMIN_TOKEN: z.string().min(16).optional(),
  URL_SIGNING_SECRET: z.string().min(16).optional(),
  PUBLIC_BASE_URL: z.url().optional(),
  /** outside production only: lets outbound requests reach loopback and private addresses (the local start) */
  ALLOW_PRIVATE_OUTBOUND: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
  /** ports outbound URLs may name; unset = 80 and 443 in production, any elsewhere */
  OUTBOUND_ALLOWED_PORTS: z
    .string()
    .regex(/^\d{1,5}(,\d{1,5})*$/)
    .transform((v) => v.split(",").map(Number))
    .optional(),
  OUTPUT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
  REQUEST_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  MAIL_PROVIDER: z.enum(["resend"]).optional(),
  MAIL_API_KEY: z.string().min(1).optional(),
  MAIL_FROM: z.string().min(3).optional(),
  /** real Stripe when both are set; otherwise the local stand-in at STRIPE_API_BASE (never in production) */
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_/)
    .optional(),
  STRIPE_WEBHOOK_SECRET: z.string().startsWith("whsec_").optional(),
  STRIPE_API_BASE: z.url().default("http://127.0.0.1:12111"),
});
export type Config = z.infer<typeof Config>;

const parsed = new WeakMap<Env, Config>();

/** The parsed configuration; env is the same object for the isolate's life, so it is parsed once. */
export function config(env: Env): Config {
  const hit = parsed.get(env);
  if (hit) return hit;
  const cfg = Config.parse({
    ENVIRONMENT: env.ENVIRONMENT,
    LEASE_TTL_MS: env.LEASE_TTL_MS,
    MAX_ATTEMPTS: env.MAX_ATTEMPTS,
    JOB_TTL_S: env.JOB_TTL_S,
    ADMIN_TOKEN: env.ADMIN_TOKEN || undefined,
    URL_SIGNING_SECRET: env.URL_SIGNING_SECRET || undefined,
    PUBLIC_BASE_URL: env.PUBLIC_BASE_URL || undefined,
    ALLOW_PRIVATE_OUTBOUND: env.ALLOW_PRIVATE_OUTBOUND || undefined,
    OUTBOUND_ALLOWED_PORTS: env.OUTBOUND_ALLOWED_PORTS || undefined,
    OUTPUT_RETENTION_DAYS: env.OUTPUT_RETENTION_DAYS || undefined,
    REQUEST_RETENTION_DAYS: env.REQUEST_RETENTION_DAYS || undefined,
    MAIL_PROVIDER: env.MAIL_PROVIDER || undefined,
    MAIL_API_KEY: env.MAIL_API_KEY || undefined,
    MAIL_FROM: env.MAIL_FROM || undefined,
    STRIPE_SECRET_KEY: env.STRIPE_SECRET_KEY || undefined,
    STRIPE_WEBHOOK_SECRET: env.STRIPE_WEBHOOK_SECRET || undefined,
    STRIPE_API_BASE: env.STRIPE_API_BASE || undefined,
  });
  checkProduction(cfg);
  parsed.set(env, cfg);
  return cfg;
}

/**
 * Settings production cannot run without. Public URLs are built from PUBLIC_BASE_URL alone there: a request's Host
 * header is the caller's to choose, and URLs built from it would send webhooks and output links wherever it says.
 */
export function checkProduction(cfg: Config): void {
  if (cfg.ENVIRONMENT === "production" && !cfg.PUBLIC_BASE_URL) {
    throw new Error("PUBLIC_BASE_URL is required when ENVIRONMENT=production");
  }
}

/** Outside production, a missing signing secret falls back to the admin token so local starts need no extra setup. */
export function signingSecret(cfg: Config): string {
  const secret =
    cfg.URL_SIGNING_SECRET ??
    (cfg.ENVIRONMENT !== "production" ? (cfg.ADMIN_TOKEN ?? "local-dev-signing-secret") : undefined);
  if (!secret) throw new Error("URL_SIGNING_SECRET is required in production");
  return secret;
}
