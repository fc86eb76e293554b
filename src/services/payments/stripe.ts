import Stripe from "stripe";
import type { Config } from "../../env.ts";

/** The stand-in's keys: the local start and the tests use them; they open nothing at Stripe. */
export const LOCAL_SECRET_KEY = "sk_test_local_standin";
export const LOCAL_WEBHOOK_SECRET = "whsec_local_standin";

/** µUSD per cent: cards are charged in cents, the ledger counts micro-USD. */
export const MICRO_PER_CENT = 10_000;

let injected: typeof fetch | null = null;

/**
 * Tests in Miniflare have no network: they run the stand-in's core inside the test Worker and hand its fetch here.
 * Only the transport changes; every request still goes through the official client to api.stripe.com paths.
 */
export function useStripeFetch(f: typeof fetch | null): void {
  injected = f;
}

export interface StripeSetup {
  client: Stripe;
  webhookSecret: string;
  live: boolean;
}

const clients = new WeakMap<Config, StripeSetup>();

/**
 * The Stripe client: real Stripe when STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are set, otherwise the local
 * stand-in at STRIPE_API_BASE through the same client (host, port and protocol options), which production refuses.
 */
export function stripe(cfg: Config): StripeSetup {
  const hit = clients.get(cfg);
  if (hit && !injected) return hit;
  const real = cfg.STRIPE_SECRET_KEY && cfg.STRIPE_WEBHOOK_SECRET;
  if (!real && cfg.ENVIRONMENT === "production")
    throw new Error("STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are required in production");
  const httpClient = Stripe.createFetchHttpClient(injected ?? fetch);
  let setup: StripeSetup;
  if (real) {
    setup = {
      client: new Stripe(cfg.STRIPE_SECRET_KEY!, { httpClient, maxNetworkRetries: 2 }),
      webhookSecret: cfg.STRIPE_WEBHOOK_SECRET!,
      live: cfg.STRIPE_SECRET_KEY!.includes("_live_"),
    };
  } else {
    const base = new URL(cfg.STRIPE_API_BASE);
    const protocol = base.protocol === "https:" ? "https" : "http";
    const port = base.port || (protocol === "https" ? "443" : "80");
    setup = {
      client: new Stripe(LOCAL_SECRET_KEY, { httpClient, host: base.hostname, port, protocol, maxNetworkRetries: 2 }),
      webhookSecret: LOCAL_WEBHOOK_SECRET,
      live: false,
    };
  }
  if (!injected) clients.set(cfg, setup);
  return setup;
}

/** Verifies a webhook's signature (HMAC-SHA256 of `t.payload`, 300 s tolerance) with Web Crypto; null when it fails. */
export async function verifyEvent(
  s: StripeSetup,
  payload: string,
  signature: string | undefined,
): Promise<Stripe.Event | null> {
  if (!signature) return null;
  try {
    return await s.client.webhooks.constructEventAsync(
      payload,
      signature,
      s.webhookSecret,
      300,
      Stripe.createSubtleCryptoProvider(),
    );
  } catch {
    return null;
  }
}

export { Stripe };
