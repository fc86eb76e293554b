import type { EndpointState, InstanceState } from "../../schemas/index.ts";
import { type MigrationPlan, userTables } from "./migrations.ts";

/**
 * Step 1: the tables endpoints were created with before `_migrations` existed (such an endpoint is adopted at step 1),
 * in the same text, so SQLite keeps the same schema for old and new endpoints.
 */
const ENDPOINT_TABLES = [
  `CREATE TABLE endpoint (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL)`,
  `CREATE TABLE instances (
    id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, epoch INTEGER NOT NULL, state TEXT NOT NULL, since INTEGER NOT NULL,
    reserved_at INTEGER NOT NULL, ready_at INTEGER, last_hb INTEGER NOT NULL, idle_since INTEGER, released_at INTEGER,
    billed_ms INTEGER NOT NULL DEFAULT 0, reported_ms INTEGER NOT NULL DEFAULT 0,
    provider_id TEXT, share_bp INTEGER NOT NULL DEFAULT 0, reason TEXT)`,
  `CREATE TABLE ticks (
    seq INTEGER PRIMARY KEY, body TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('pending', 'done')),
    captured INTEGER, written_off INTEGER, created_at INTEGER NOT NULL)`,
  `CREATE TABLE clock (id INTEGER PRIMARY KEY CHECK (id = 1), now INTEGER NOT NULL)`,
];

/** The endpoint's SQLite schema, in numbered steps (migrations.ts). */
export const ENDPOINT_MIGRATIONS: MigrationPlan = {
  steps: [
    {
      version: 1,
      name: "endpoint, instances, ticks, clock",
      up(sql) {
        for (const q of ENDPOINT_TABLES) sql.exec(q);
      },
    },
    {
      // The simulated clock is the tests' (test/worker/support/test-endpoint.ts keeps it); production never wrote it.
      version: 2,
      name: "drop clock",
      up: (sql) => void sql.exec(`DROP TABLE IF EXISTS clock`),
    },
  ],
  legacyVersion: (sql) => (userTables(sql).has("endpoint") ? 1 : 0),
};

export interface EndpointRecord {
  id: string;
  account_id: string;
  plan: string;
  name: string;
  model: string;
  runtime: string;
  gpu_class: string;
  price_per_hour: number;
  min_instances: number;
  max_instances: number;
  idle_timeout_s: number;
  scale_up_queue_delay_s: number;
  init_timeout_s: number;
  max_hourly_spend: number | null;
  state: EndpointState;
  created_at: number;
  last_tick_at: number;
  /** Σ of the charges sent in ticks (the cumulative charge through the last tick) */
  charged: number;
  captured: number;
  written_off: number;
  held: number;
  /** the queue has been non-empty since (endpoint clock), for the scale-up delay */
  queued_since: number | null;
  queue_depth: number;
  /** init timeouts in a row with no instance ever becoming ready (the endpoint fails after a few) */
  init_failures: number;
}

export type InstanceRow = {
  id: string;
  agent_id: string;
  epoch: number;
  state: InstanceState;
  since: number;
  reserved_at: number;
  ready_at: number | null;
  last_hb: number;
  idle_since: number | null;
  released_at: number | null;
  billed_ms: number;
  reported_ms: number;
  provider_id: string | null;
  share_bp: number;
  reason: string | null;
};

export const LIVE: ReadonlySet<InstanceState> = new Set(["reserving", "loading", "ready", "busy", "draining"]);

export class EndpointSql {
  constructor(private sql: SqlStorage) {}

  record(): EndpointRecord | null {
    const r = this.sql.exec<{ body: string }>(`SELECT body FROM endpoint WHERE id = 1`).toArray()[0];
    return r ? (JSON.parse(r.body) as EndpointRecord) : null;
  }

  save(e: EndpointRecord): void {
    this.sql.exec(
      `INSERT INTO endpoint (id, body) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body`,
      JSON.stringify(e),
    );
  }

  instances(): InstanceRow[] {
    return this.sql
      .exec<InstanceRow>(`SELECT * FROM instances ORDER BY reserved_at, id`)
      .toArray() as unknown as InstanceRow[];
  }

  live(): InstanceRow[] {
    return this.instances().filter((i) => LIVE.has(i.state));
  }

  byAgent(agentId: string, epoch: number): InstanceRow | undefined {
    return this.sql
      .exec<InstanceRow>(`SELECT * FROM instances WHERE agent_id = ? AND epoch = ?`, agentId, epoch)
      .toArray()[0] as InstanceRow | undefined;
  }

  insert(i: InstanceRow): void {
    this.sql.exec(
      `INSERT INTO instances (id, agent_id, epoch, state, since, reserved_at, ready_at, last_hb, idle_since,
         released_at, billed_ms, reported_ms, provider_id, share_bp, reason)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      i.id,
      i.agent_id,
      i.epoch,
      i.state,
      i.since,
      i.reserved_at,
      i.ready_at,
      i.last_hb,
      i.idle_since,
      i.released_at,
      i.billed_ms,
      i.reported_ms,
      i.provider_id,
      i.share_bp,
      i.reason,
    );
  }

  update(i: InstanceRow): void {
    this.sql.exec(
      `UPDATE instances SET state = ?, since = ?, ready_at = ?, last_hb = ?, idle_since = ?, released_at = ?,
       billed_ms = ?, reported_ms = ?, reason = ? WHERE id = ?`,
      i.state,
      i.since,
      i.ready_at,
      i.last_hb,
      i.idle_since,
      i.released_at,
      i.billed_ms,
      i.reported_ms,
      i.reason,
      i.id,
    );
  }

  pendingTicks(): { seq: number; body: string }[] {
    return this.sql
      .exec<{ seq: number; body: string }>(`SELECT seq, body FROM ticks WHERE status = 'pending' ORDER BY seq`)
      .toArray();
  }

  nextSeq(): number {
    return (this.sql.exec<{ s: number | null }>(`SELECT MAX(seq) AS s FROM ticks`).one().s ?? 0) + 1;
  }

  addTick(seq: number, body: string, now: number): void {
    this.sql.exec(`INSERT INTO ticks (seq, body, status, created_at) VALUES (?, ?, 'pending', ?)`, seq, body, now);
  }

  doneTick(seq: number, captured: number, writtenOff: number): void {
    this.sql.exec(
      `UPDATE ticks SET status = 'done', captured = ?, written_off = ? WHERE seq = ?`,
      captured,
      writtenOff,
      seq,
    );
  }
}
