import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Config } from "../../src/env.ts";
import { ApiError } from "../../src/errors.ts";
import { checkUrl, hostRefusal, outboundFetch, outboundPolicy, type Fetcher } from "../../src/services/outbound.ts";
import { resolveImage } from "../../src/services/inputs.ts";
import { PNG_1x1, adminHeaders, call, json, newAccount, resetBroker, syncCatalog, projected } from "./helpers.ts";

const prod = outboundPolicy(Config.parse({ ENVIRONMENT: "production", PUBLIC_BASE_URL: "https://api.example.com" }));
const testDefault = outboundPolicy(Config.parse({ ENVIRONMENT: "test" }));
const devAllowed = outboundPolicy(Config.parse({ ENVIRONMENT: "development", ALLOW_PRIVATE_OUTBOUND: "true" }));

const loopbackV4 = [
  "https://127.0.0.1/",
  "http://127.0.0.1/",
  "https://127.0.0.2/x",
  "https://127.255.255.254/",
  "https://2130706433/",
  "https://0x7f000001/",
  "https://0x7F.0.0.1/",
  "https://0177.0.0.1/",
  "https://0177.0.0.01/",
  "https://127.1/",
  "https://127.0.1/",
  "https://0x7f.1/",
  "https://017700000001/",
  "https://127.000.000.001/",
  "https://127.0.0.1./",
  "https://0/",
  "https://0.0.0.0/",
  "https://%31%32%37.0.0.1/",
  "https://\uff11\uff12\uff17.\uff10.\uff10.\uff11/",
];
const privateV4 = [
  "https://10.1/",
  "https://10.0.0.1/",
  "https://10.255.255.255/",
  "https://167772161/",
  "https://012.0.0.1/",
  "https://172.16.0.1/",
  "https://172.31.255.255/",
  "https://0xac100001/",
  "https://192.168.0.1/",
  "https://192.168.1.1/",
  "https://3232235777/",
  "https://0300.0250.1.1/",
  "https://192.168.257/",
  "https://169.254.169.254/latest/meta-data/",
  "https://169.254.0.1/",
  "https://2852039166/",
  "https://0xa9fea9fe/",
  "https://0xa9.0xfe.0xa9.0xfe/",
  "https://100.64.0.1/",
  "https://100.127.255.255/",
  "https://100.100.100.200/",
  "https://192.0.0.1/",
  "https://192.0.2.1/",
  "https://198.51.100.1/",
  "https://203.0.113.1/",
  "https://198.18.0.1/",
  "https://198.19.255.255/",
  "https://192.88.99.1/",
  "https://224.0.0.1/",
  "https://239.255.255.250/",
  "https://240.0.0.1/",
  "https://255.255.255.255/",
];
const ipv6 = [
  "https://[::1]/",
  "https://[0:0:0:0:0:0:0:1]/",
  "https://[::]/",
  "https://[::ffff:127.0.0.1]/",
  "https://[::ffff:7f00:1]/",
  "https://[::ffff:10.0.0.1]/",
  "https://[::ffff:169.254.169.254]/",
  "https://[::ffff:8.8.8.8]/",
  "https://[::127.0.0.1]/",
  "https://[::ffff:0:7f00:1]/",
  "https://[64:ff9b::127.0.0.1]/",
  "https://[64:ff9b::a00:1]/",
  "https://[64:ff9b:1::1]/",
  "https://[2002:7f00:1::]/",
  "https://[2002:a00:1::1]/",
  "https://[2002:c0a8:101::1]/",
  "https://[fc00::1]/",
  "https://[fd12:3456::1]/",
  "https://[fe80::1]/",
  "https://[febf::1]/",
  "https://[fec0::1]/",
  "https://[ff02::1]/",
  "https://[ff05::2]/",
  "https://[2001:db8::1]/",
  "https://[2001::1]/",
  "https://[100::1]/",
  "https://[3fff::1]/",
  "https://[FE80::1]/",
  "https://[fe80::1%25eth0]/",
];
const names = [
  "https://localhost/",
  "https://LOCALHOST/",
  "https://LocalHost./",
  "https://localhost../",
  "https://a.localhost/",
  "https://foo.bar.localhost/",
  "https://printer.local/",
  "https://x.internal/",
  "https://metadata.google.internal/",
  "https://METADATA.GOOGLE.INTERNAL./computeMetadata/v1/",
  "https://metadata/",
  "https://instance-data/",
  "https://instance-data.ec2.internal/",
  "https://router.home.arpa/",
  "https://%6c%6f%63%61%6c%68%6f%73%74/",
  "https://%4C%4F%43%41%4C%48%4F%53%54./",
  "https://intranet/",
  "https://kubernetes.default.svc/",
  "https://api.svc.cluster.local/",
  "https://1.0.0.127.in-addr.arpa/",
  "https://localhost.localdomain/",
  "https://metadata.goog/",
  "https://nas.lan/",
];
const otherRefused = [
  "https://user:pass@example.com/",
  "https://user@example.com/",
  "https://example.com@127.0.0.1/",
  "https://a%40b@example.com/",
  "ftp://example.com/x.png",
  "file:///etc/passwd",
  "gopher://example.com/",
  "ws://example.com/",
  "javascript:alert(1)",
  "https://999.1.1.1/",
  "https://1.2.3.4.5/",
  "https:///",
  "not a url",
  `https://example.com/${"a".repeat(2100)}`,
];
const prodOnlyRefused = [
  "http://example.com/hook",
  "https://example.com:8443/hook",
  "https://example.com:22/",
  "https://example.com:8080/",
  "http://example.com:8080/",
];
const allowed = [
  "https://example.com/hook",
  "https://EXAMPLE.com./hook",
  "https://api.example.org:443/x",
  "https://hooks.slack.com/services/x",
  "https://8.8.8.8/",
  "https://1.1.1.1/",
  "https://[2606:4700:4700::1111]/",
  "https://[2001:4860:4860::8888]/",
  "https://172.32.0.1/",
  "https://172.15.255.255/",
  "https://100.63.255.255/",
  "https://100.128.0.1/",
  "https://192.169.0.1/",
  "https://11.0.0.1/",
  "https://126.255.255.255/",
  "https://128.0.0.1/",
  "https://169.253.255.255/",
  "https://198.20.0.1/",
  "https://223.255.255.255/",
  "https://xn--bcher-kva.example.com/",
  "https://b\u00fccher.example.com/",
  "https://a-b.c-d.example.net/p?q=1#frag",
  "https://example.com:443/",
  "https://[2a00:1450:4001:80b::200e]/",
  "https://[2002:808:808::1]/",
  "https://0x08080808/",
  "https://134744072/",
  "https://localhost.example.com/",
  "https://internal.example.com/",
  "https://local.example.com/",
];
const refused = [...loopbackV4, ...privateV4, ...ipv6, ...names, ...otherRefused];

describe("outbound policy (module)", () => {
  it(`refuses ${refused.length + prodOnlyRefused.length} non-public destinations in production and allows ${allowed.length} public ones`, () => {
    expect(refused.length + prodOnlyRefused.length + allowed.length).toBeGreaterThanOrEqual(140);
    for (const u of [...refused, ...prodOnlyRefused]) expect(checkUrl(u, prod).ok, u).toBe(false);
    for (const u of allowed) expect(checkUrl(u, prod), u).toMatchObject({ ok: true });
  });

  it("applies the same address rules outside production by default (no setting, no loopback)", () => {
    for (const u of refused) expect(checkUrl(u, testDefault).ok, u).toBe(false);
    for (const u of [...allowed, "http://example.com:8080/"]) expect(checkUrl(u, testDefault).ok, u).toBe(true);
  });

  it("ALLOW_PRIVATE_OUTBOUND lets loopback and private through outside production, and production ignores it", () => {
    for (const u of [
      "http://127.0.0.1:8788/hook",
      "http://localhost:3000/",
      "http://[::1]:9000/",
      "http://10.0.0.5/",
    ]) {
      expect(checkUrl(u, devAllowed).ok, u).toBe(true);
    }
    // userinfo, bad schemes and malformed hosts stay refused even then
    for (const u of ["http://u:p@127.0.0.1/", "file:///etc/passwd", "https://999.1.1.1/"])
      expect(checkUrl(u, devAllowed).ok, u).toBe(false);
    const prodWithFlag = outboundPolicy(
      Config.parse({
        ENVIRONMENT: "production",
        PUBLIC_BASE_URL: "https://a.example.com",
        ALLOW_PRIVATE_OUTBOUND: "true",
      }),
    );
    expect(prodWithFlag.allowPrivate).toBe(false);
    for (const u of loopbackV4) expect(checkUrl(u, prodWithFlag).ok, u).toBe(false);
  });

  it("OUTBOUND_ALLOWED_PORTS replaces the production default of 80 and 443", () => {
    const p = outboundPolicy(
      Config.parse({
        ENVIRONMENT: "production",
        PUBLIC_BASE_URL: "https://a.example.com",
        OUTBOUND_ALLOWED_PORTS: "443,8443",
      }),
    );
    expect(checkUrl("https://example.com:8443/", p).ok).toBe(true);
    expect(checkUrl("https://example.com/", p).ok).toBe(true);
    expect(checkUrl("https://example.com:9000/", p).ok).toBe(false);
  });

  it("classifies raw host strings the URL parser never normalised", () => {
    for (const h of [
      "2130706433",
      "0x7f000001",
      "0177.0.0.1",
      "127.1",
      "10.1",
      "[::ffff:127.0.0.1]",
      "::ffff:7f00:1",
      "0x7f.0x0.0x0.0x1",
      "1.2.3.256.5",
      "localhost.",
      "%6c%6f%63%61%6c%68%6f%73%74",
      "%zz",
    ]) {
      expect(hostRefusal(h), h).not.toBeNull();
    }
    for (const h of ["example.com", "8.8.8.8", "2606:4700::1111", "[2001:4860:4860::8888]"])
      expect(hostRefusal(h), h).toBeNull();
  });
});

/** A stand-in for the network: answers by URL, records every URL it was asked for. */
function stand(routes: Record<string, () => Response>): Fetcher & { seen: string[] } {
  const seen: string[] = [];
  const f = async (input: string, init: RequestInit) => {
    seen.push(input);
    expect(init.redirect).toBe("manual");
    const r = routes[input];
    if (!r) throw new TypeError(`no route to ${input}`);
    return r();
  };
  return Object.assign(f, { seen });
}
const png = () =>
  new Response(
    Uint8Array.from(atob(PNG_1x1), (c) => c.charCodeAt(0)),
    { headers: { "content-type": "image/png" } },
  );
const redirect =
  (to: string, status = 302) =>
  () =>
    new Response(null, { status, headers: { location: to } });
const prodCfg = Config.parse({ ENVIRONMENT: "production", PUBLIC_BASE_URL: "https://api.example.com" });

describe("outbound redirects", () => {
  it("input URLs follow up to 3 redirects, each hop checked", async () => {
    const f = stand({
      "https://a.example.com/1": redirect("https://b.example.com/2", 301),
      "https://b.example.com/2": redirect("/3", 307),
      "https://b.example.com/3": redirect("https://c.example.com/img.png", 308),
      "https://c.example.com/img.png": png,
    });
    const img = await resolveImage("https://a.example.com/1", "image", prodCfg, f);
    expect(img.contentType).toBe("image/png");
    expect(f.seen).toEqual([
      "https://a.example.com/1",
      "https://b.example.com/2",
      "https://b.example.com/3",
      "https://c.example.com/img.png",
    ]);
  });

  it("a fourth redirect is refused as too many", async () => {
    const f = stand({
      "https://a.example.com/1": redirect("https://a.example.com/2"),
      "https://a.example.com/2": redirect("https://a.example.com/3"),
      "https://a.example.com/3": redirect("https://a.example.com/4"),
      "https://a.example.com/4": redirect("https://a.example.com/5"),
      "https://a.example.com/5": png,
    });
    await expect(resolveImage("https://a.example.com/1", "image", prodCfg, f)).rejects.toSatisfy(
      (e) =>
        e instanceof ApiError && e.code === "invalid_input" && JSON.stringify(e.details).includes("too_many_redirects"),
    );
    expect(f.seen).toHaveLength(4);
  });

  it("a redirect to a private destination is refused before it is fetched", async () => {
    for (const target of [
      "http://127.0.0.1/x.png",
      "https://169.254.169.254/latest/meta-data/",
      "https://[::ffff:7f00:1]/",
      "https://2130706433/",
      "https://metadata.google.internal/",
      "https://u:p@example.com/",
    ]) {
      const f = stand({ "https://a.example.com/1": redirect(target), [target]: png });
      await expect(resolveImage("https://a.example.com/1", "image", prodCfg, f), target).rejects.toSatisfy(
        (e) => e instanceof ApiError && e.code === "invalid_input",
      );
      expect(f.seen, target).toEqual(["https://a.example.com/1"]);
    }
  });

  it("webhooks never follow a redirect: the 3xx is the answer", async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const f = stand({
        "https://hooks.example.com/h": redirect("https://other.example.com/", status),
        "https://other.example.com/": () => new Response("ok"),
      });
      const res = await outboundFetch(
        "https://hooks.example.com/h",
        { method: "POST", body: "{}" },
        { policy: prod, field: "webhook", maxRedirects: 0, timeoutMs: 1000, fetcher: f },
      );
      expect(res.status).toBe(status);
      expect(f.seen).toEqual(["https://hooks.example.com/h"]);
    }
  });
});

async function richAccount() {
  const a = await newAccount("enterprise");
  expect(
    (
      await json(
        "PUT",
        `/admin/v1/accounts/${a.id}/plan`,
        { plan: "enterprise", limits: { rpm: 100_000, in_flight: 1000 } },
        adminHeaders,
      )
    ).status,
  ).toBe(200);
  expect(
    (
      await json(
        "POST",
        `/admin/v1/accounts/${a.id}/credits`,
        { amount: 100_000_000, reason: "test", idempotency_key: `seed-${a.id}` },
        adminHeaders,
      )
    ).status,
  ).toBe(200);
  return a;
}

async function footprint(accountId: string) {
  const rows = (await env.DB.prepare("SELECT COUNT(*) AS n FROM requests WHERE account_id = ?")
    .bind(accountId)
    .first<{ n: number }>())!.n;
  const acct = (await (await call("/v1/account", { headers: { "x-api-key": key } })).json()) as {
    held: number;
    in_flight: number;
  };
  return { rows, held: acct.held, in_flight: acct.in_flight };
}
let key = "";

describe("outbound policy through the submission routes", () => {
  beforeAll(syncCatalog);
  beforeEach(resetBroker);

  it("webhook field: every refused variant is 400 invalid_input naming the field, and nothing is held or queued", async () => {
    const a = await richAccount();
    key = a.key;
    const before = await footprint(a.id);
    for (const url of refused) {
      const r = await json("POST", "/v2/nsfw-detector", { image: PNG_1x1, webhook: url }, { "x-api-key": a.key });
      expect(r.status, url).toBe(400);
      const b = (await r.json()) as { error: { code: string; details: { fields: { path: string }[] } } };
      expect(b.error.code, url).toBe("invalid_input");
      expect(b.error.details.fields[0]!.path, url).toBe("webhook");
    }
    expect(await footprint(a.id)).toEqual(before);
  });

  it("webhook field: public destinations are accepted (202) and stored as given", async () => {
    const a = await richAccount();
    for (const url of allowed) {
      const r = await json("POST", "/v2/nsfw-detector", { image: PNG_1x1, webhook: url }, { "x-api-key": a.key });
      expect(r.status, url).toBe(202);
      const { request_id } = (await r.json()) as { request_id: string };
      expect((await projected(request_id)).webhook_url).toBe(url);
    }
  });

  it("image URL field: every refused variant is 400 invalid_input naming the field, and nothing is held or queued", async () => {
    const a = await richAccount();
    key = a.key;
    const before = await footprint(a.id);
    for (const url of refused.filter((u) => /^[a-z]+:\/\//i.test(u))) {
      const r = await json("POST", "/v2/nsfw-detector", { image: url }, { "x-api-key": a.key });
      expect(r.status, url).toBe(400);
      const b = (await r.json()) as { error: { code: string; details: { fields: { path: string; code?: string }[] } } };
      expect(b.error.code, url).toBe("invalid_input");
      expect(b.error.details.fields[0], url).toMatchObject({ path: "image", code: "outbound_refused" });
    }
    expect(await footprint(a.id)).toEqual(before);
  });
});

describe("webhook delivery under the policy", () => {
  beforeAll(syncCatalog);
  beforeEach(resetBroker);

  function batch(body: unknown) {
    const calls: string[] = [];
    const msg = {
      id: "m1",
      timestamp: new Date(),
      attempts: 1,
      body,
      ack: () => calls.push("ack"),
      retry: () => calls.push("retry"),
    };
    return {
      calls,
      batch: {
        queue: "edge-inference-webhooks",
        messages: [msg],
        ackAll() {},
        retryAll() {},
      } as unknown as MessageBatch<unknown>,
    };
  }

  it("a 3xx from the receiver is a failed delivery (retried), and its Location is never fetched", async () => {
    const { handleWebhooks } = await import("../../src/queues/webhooks.ts");
    const a = await richAccount();
    const url = "https://hooks.example.com/h";
    const r = await json("POST", "/v2/nsfw-detector", { image: PNG_1x1, webhook: url }, { "x-api-key": a.key });
    const { request_id } = (await r.json()) as { request_id: string };
    await projected(request_id); // the consumer reads the row the events queue projects
    for (const status of [301, 302, 307, 308]) {
      const f = stand({
        [url]: redirect("https://elsewhere.example.com/", status),
        "https://elsewhere.example.com/": () => new Response("ok"),
      });
      const b = batch({ webhook_id: `wh_${status}`, request_id, account_id: a.id, url });
      await handleWebhooks(b.batch, env, f);
      expect(b.calls).toEqual(["retry"]);
      expect(f.seen).toEqual([url]);
    }
    const ok = stand({ [url]: () => new Response(null, { status: 204 }) });
    const b = batch({ webhook_id: "wh_ok", request_id, account_id: a.id, url });
    await handleWebhooks(b.batch, env, ok);
    expect(b.calls).toEqual(["ack"]);
  });

  it("a stored URL the policy now refuses is dropped at delivery without a request", async () => {
    const { handleWebhooks } = await import("../../src/queues/webhooks.ts");
    const a = await richAccount();
    const r = await json(
      "POST",
      "/v2/nsfw-detector",
      { image: PNG_1x1, webhook: "https://hooks.example.com/h" },
      { "x-api-key": a.key },
    );
    const { request_id } = (await r.json()) as { request_id: string };
    await projected(request_id);
    for (const url of ["http://127.0.0.1:9/h", "https://169.254.169.254/", "https://[::ffff:7f00:1]/"]) {
      const f = stand({ [url]: () => new Response("ok") });
      const b = batch({ webhook_id: "wh_x", request_id, account_id: a.id, url });
      await handleWebhooks(b.batch, env, f);
      expect(b.calls, url).toEqual(["ack"]);
      expect(f.seen, url).toEqual([]);
    }
  });
});
