import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MIGRATION_PLANS } from "./support/migration-plans.ts";

const lab = () => env.MIGRATION_LAB.get(env.MIGRATION_LAB.newUniqueId());

describe("the numbered migration runner", () => {
  it("gives every object the same schema whichever earlier version it starts from", async () => {
    for (const [name, plan] of Object.entries(MIGRATION_PLANS)) {
      const fresh = await lab().upgrade(name, 0);
      expect(fresh.version, name).toBe(plan.steps.length);
      expect(fresh.applied, name).toEqual(plan.steps.map((s) => s.version));
      for (let from = 1; from < plan.steps.length; from++) {
        const upgraded = await lab().upgrade(name, from);
        expect(upgraded.schema, `${name} from version ${from}`).toEqual(fresh.schema);
        expect(upgraded.applied, `${name} from version ${from}`).toEqual(fresh.applied);
      }
    }
  });

  it("keeps rows written at an earlier version and runs nothing twice", async () => {
    const l = lab();
    const r = await l.upgrade("demo", 1, [`INSERT INTO items (id, n) VALUES ('a', 7)`]);
    expect(r.version).toBe(3);
    expect(await l.query(`SELECT id, n, note FROM items`)).toEqual([{ id: "a", n: 7, note: null }]);
    // A second wake is a no-op: ALTER TABLE ADD COLUMN would throw if step 2 ran again.
    expect((await l.upgrade("demo", 3)).applied).toEqual([1, 2, 3]);
  });

  it("adopts an object from before _migrations at the version its tables match", async () => {
    const r = await lab().legacy("demo", [`CREATE TABLE items (id TEXT PRIMARY KEY, n INTEGER NOT NULL, note TEXT)`]);
    expect(r.applied).toEqual([1, 2, 3]);
    expect(r.schema).toEqual((await lab().upgrade("demo", 0)).schema);
  });
});
