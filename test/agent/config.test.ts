import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { OPTIONS, parseConfig } from "../../gpu-agent/src/config.ts";
import { CrashSupervisor } from "../../gpu-agent/src/runtimes/supervisor.ts";

const base = { PLATFORM_URL: "http://x.test", AGENT_TOKEN: "agt_0123456789" };

describe("agent options, declared once", () => {
  it("--help lists every option with its flag and env name, from the same table the parser reads", () => {
    const bin = new URL("../../gpu-agent/bin/gpu-agent.js", import.meta.url).pathname;
    const help = execFileSync(process.execPath, [bin, "run", "--help"], { encoding: "utf8" });
    for (const o of Object.values(OPTIONS)) {
      expect(help).toMatch(new RegExp(`--${o.flag}\\b.*\\b${o.env}\\b`));
    }
  });

  it("reads booleans and lists the same way from flags, env and the file, and names the flag of a bad value", () => {
    expect(parseConfig(["--preload", "false", "--models", "a, b"], base)).toMatchObject({
      preload: false,
      models: ["a", "b"],
    });
    expect(parseConfig(["--builtin"], { ...base, AGENT_PRELOAD: "false" })).toMatchObject({
      builtin: true,
      preload: false,
    });
    expect(parseConfig([], base)).toMatchObject({
      preload: true,
      builtin: true,
      slots: 1,
      prefetch: 1,
      leaseWaitMs: 20_000,
    });
    expect(() => parseConfig(["--lease-wait-ms", "99999"], base)).toThrow(
      /leaseWaitMs \(--lease-wait-ms, AGENT_LEASE_WAIT_MS\)/,
    );
    expect(() => parseConfig(["--cog-url", "http://cog.test"], base)).toThrow(/--cog-model is required/);
  });
});

describe("crash supervisor", () => {
  it("restarts after each crash and gives up at the crash limit within the window", async () => {
    const fatal: string[] = [];
    const sup = new CrashSupervisor("thing", () => undefined, {
      backoffMs: 20,
      maxCrashes: 3,
      onFatal: (r) => fatal.push(r),
    });
    await sup.crashed("one");
    await sup.crashed("two");
    expect(sup.restarts).toBe(2);
    await sup.crashed("three");
    expect(sup.restarts).toBe(2);
    expect(fatal).toEqual([sup.fatal]);
    expect(sup.fatal).toMatch(/thing crashed 3 times .*last: three/);
    await sup.crashed("four");
    expect(fatal).toHaveLength(1);
  });

  it("does not restart once stopped", async () => {
    let restarts = 0;
    const sup = new CrashSupervisor("thing", () => void restarts++, { backoffMs: 1 });
    sup.stop();
    await sup.crashed("exit 0");
    expect(restarts).toBe(0);
  });
});
