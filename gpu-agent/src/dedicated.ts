import type { DedicatedAssignment } from "../../schemas/index.ts";
import type { AgentClient } from "./client.ts";
import type { Log } from "./log.ts";
import type { RuntimeAdapter } from "./runtimes/types.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A dedicated agent's reservation: when the platform reserves it for an endpoint (a lease reply carries the
 * assignment), it loads the endpoint's model, then reports ready, after which the platform sends only that endpoint's
 * jobs. Loading is never billed; the endpoint bills from the readiness report.
 */
export class DedicatedReservation {
  /** the dedicated endpoint this agent is reserved for and has loaded the model of (`endpoint:epoch`) */
  private assignedTo: string | null = null;

  private client: AgentClient;
  private runtimeOf: (model: string) => RuntimeAdapter | undefined;
  private log: Log;

  constructor(client: AgentClient, runtimeOf: (model: string) => RuntimeAdapter | undefined, log: Log) {
    this.client = client;
    this.runtimeOf = runtimeOf;
    this.log = log;
  }

  /** The assignment of the latest lease reply: a new one is loaded, the same one is nothing, none ends the last. */
  async onAssignment(a: DedicatedAssignment | undefined): Promise<void> {
    const key = a ? `${a.endpoint_id}:${a.epoch}` : null;
    if (key === this.assignedTo) return;
    if (!a) {
      this.log.info({ endpoint_id: this.assignedTo }, "dedicated reservation ended; back to the shared pool");
      this.assignedTo = null;
      return;
    }
    const rt = this.runtimeOf(a.model);
    if (!rt) {
      this.log.warn({ endpoint_id: a.endpoint_id, model: a.model }, "reserved for a model this agent does not serve");
      await sleep(1000); // the endpoint's init timeout releases it; meanwhile do not spin on instant lease replies
      return;
    }
    const t = performance.now();
    this.log.info(
      { endpoint_id: a.endpoint_id, model: a.model },
      "reserved for a dedicated endpoint; loading the model",
    );
    try {
      await rt.warm(a.model);
    } catch (e) {
      // Not reporting ready lets the endpoint's init timeout release this agent and try another.
      this.log.warn(
        { endpoint_id: a.endpoint_id, err: String(e) },
        "model load failed; the endpoint will try another agent",
      );
      return;
    }
    const r = await this.client.dedicatedReady(a.endpoint_id, a.epoch);
    if (r.ok) this.assignedTo = key;
    this.log.info(
      { endpoint_id: a.endpoint_id, ok: r.ok, load_ms: Math.round(performance.now() - t) },
      "dedicated instance ready",
    );
  }
}
