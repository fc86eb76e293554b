/** The stand-in's state: Stripe objects by id, the event log, idempotency records, saved cards. */
export type Obj = { id: string; object: string; [k: string]: unknown };

export interface StandInOptions {
  /** the secret key callers must present (`sk_test_...`) */
  secretKey: string;
  /** the webhook endpoint secret (`whsec_...`) the events are signed with */
  webhookSecret: string;
  /** where the hosted checkout pages are served, e.g. http://127.0.0.1:12111 */
  baseUrl: string;
  /** called with each event as it is created (the Node server posts it to the platform's endpoint) */
  onEvent?: (event: Obj) => void;
}

/** An error in Stripe's shape: `{ error: { type, code?, decline_code?, message, param?, payment_intent? } }`. */
export type StripeErrorBody = {
  type: string;
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  payment_intent?: Obj;
};

// Plain fields, not parameter properties: Node runs this file with type stripping only (the Node stand-in server).
export class StripeError extends Error {
  readonly status: number;
  readonly body: StripeErrorBody;
  constructor(status: number, body: StripeErrorBody) {
    super(body.message);
    this.status = status;
    this.body = body;
  }
}

export const invalid = (message: string, param?: string) =>
  new StripeError(400, { type: "invalid_request_error", message, ...(param ? { param } : {}) });
export const missing = (id: string, what: string) =>
  new StripeError(404, {
    type: "invalid_request_error",
    code: "resource_missing",
    message: `No such ${what}: '${id}'`,
    param: "id",
  });

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const API_VERSION = "2026-10-28.endive";

export class Store {
  objects = new Map<string, Obj>();
  events: Obj[] = [];
  idempotency = new Map<string, { fingerprint: string; status: number; body: string }>();
  /** payment method id → the test card number it was made from (decides how charges on it end) */
  cards = new Map<string, string>();
  readonly opts: StandInOptions;
  constructor(opts: StandInOptions) {
    this.opts = opts;
  }

  id(prefix: string): string {
    let s = "";
    for (const b of crypto.getRandomValues(new Uint8Array(24))) s += ALPHABET[b % ALPHABET.length];
    return `${prefix}_${s}`;
  }

  now(): number {
    return Math.floor(Date.now() / 1000);
  }

  put<T extends Obj>(o: T): T {
    this.objects.set(o.id, o);
    return o;
  }

  get(id: string, object: string, what = object): Obj {
    const o = this.objects.get(id);
    if (!o || o.object !== object) throw missing(id, what);
    return o;
  }

  /** Records an event as Stripe does (a snapshot of the object at that moment) and hands it to the sender. */
  emit(type: string, object: Obj, previous?: Record<string, unknown>): Obj {
    const e: Obj = {
      id: this.id("evt"),
      object: "event",
      api_version: API_VERSION,
      created: this.now(),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
      data: { object: structuredClone(object), ...(previous ? { previous_attributes: previous } : {}) },
    };
    this.events.push(e);
    this.objects.set(e.id, e);
    this.opts.onEvent?.(e);
    return e;
  }

  /** `expand[]` paths (`payment_method`, `payment_intent.latest_charge`): ids replaced by the objects they name. */
  expand(o: Obj, paths: string[]): Obj {
    const out = structuredClone(o) as Record<string, unknown>;
    for (const path of paths) {
      const [head, ...rest] = path.split(".");
      const v = out[head!];
      if (typeof v === "string" && this.objects.has(v)) {
        const child = this.objects.get(v)!;
        out[head!] = rest.length ? this.expand(child, [rest.join(".")]) : structuredClone(child);
      } else if (v && typeof v === "object" && rest.length) {
        out[head!] = this.expand(v as Obj, [rest.join(".")]);
      }
    }
    return out as Obj;
  }

  snapshot(): string {
    return JSON.stringify({
      objects: [...this.objects],
      events: this.events,
      idempotency: [...this.idempotency],
      cards: [...this.cards],
    });
  }

  restore(json: string): void {
    const s = JSON.parse(json) as {
      objects: [string, Obj][];
      events: Obj[];
      idempotency: [string, { fingerprint: string; status: number; body: string }][];
      cards: [string, string][];
    };
    this.objects = new Map(s.objects);
    this.events = s.events;
    this.idempotency = new Map(s.idempotency);
    this.cards = new Map(s.cards);
  }
}
