import { DurableObject } from "cloudflare:workers";
import { runMigrations, schemaOf } from "../../../src/durable-objects/migrations.ts";
import { MIGRATION_PLANS } from "./migration-plans.ts";

/**
 * Test-only object: each instance is a fresh SQLite database on which a test plays a migration plan, from nothing or
 * from an earlier version, with rows seeded in between.
 */
export class MigrationLab extends DurableObject {
  private plan(name: string) {
    const plan = MIGRATION_PLANS[name];
    if (!plan) throw new Error(`no migration plan named ${name}`);
    return plan;
  }

  /** Runs the first `upTo` steps (no legacy detection), then `seed`, then the whole plan; returns the schema. */
  upgrade(name: string, upTo: number, seed: string[] = []): { version: number; schema: string[]; applied: number[] } {
    const plan = this.plan(name);
    const storage = this.ctx.storage;
    runMigrations(storage, { steps: plan.steps.slice(0, upTo) });
    for (const q of seed) storage.sql.exec(q);
    const version = runMigrations(storage, plan);
    return { version, schema: schemaOf(storage.sql), applied: this.applied() };
  }

  /** Tables made the way an object made them before `_migrations` existed, then the whole plan. */
  legacy(name: string, ddl: string[]): { version: number; schema: string[]; applied: number[] } {
    for (const q of ddl) this.ctx.storage.sql.exec(q);
    const version = runMigrations(this.ctx.storage, this.plan(name));
    return { version, schema: schemaOf(this.ctx.storage.sql), applied: this.applied() };
  }

  query(q: string): unknown[] {
    return this.ctx.storage.sql.exec(q).toArray();
  }

  private applied(): number[] {
    return this.ctx.storage.sql
      .exec<{ version: number }>(`SELECT version FROM _migrations ORDER BY version`)
      .toArray()
      .map((r) => r.version);
  }
}
