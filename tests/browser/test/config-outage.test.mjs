// Issue 13 part 1 with the real SDKs: the proxy remembers the last good remote config, so when the config host
// hangs or answers 503, a later page load still gets config inside the SDK's budget and replay capture starts.
// First page load: config through the proxy from the fake. Then the fake's config host fails for that key; a second
// page load (fresh browser profile, same API key) must still capture and upload a replay.
import { describe, it, before, after } from 'node:test';
import { startFakeAmplitude } from '../lib/fake-amplitude.mjs';
import { startPageServer } from '../lib/page-server.mjs';
import { startProxy } from '../lib/proxy.mjs';
import { Scenario, replayEvents } from '../lib/scenario.mjs';

const DIRECT = process.env.BROWSER_TEST_DIRECT === '1';
const env = { direct: DIRECT };

before(async () => {
  env.fake = await startFakeAmplitude({ cors: DIRECT });
  env.pages = await startPageServer(1);
  env.pageOrigins = env.pages.origins;
  if (!DIRECT) {
    // The shipped defaults: ConfigDeadlineMilliseconds 800, ConfigStaleLimitSeconds 24 h.
    env.proxy = await startProxy({ upstream: env.fake.origin, allowedOrigins: env.pageOrigins[0] });
    env.target = env.proxy.origin;
  }
});

after(async () => {
  await env.proxy?.stop();
  await env.pages?.close();
  await env.fake?.close();
});

const OUTAGES = {
  hangs: { response: { hang: true }, fakeSees: (r) => r.response?.hung },
  'answers 503': { response: { status: 503, headers: { 'content-type': 'application/json' }, body: '{"error":"fake outage"}' }, fakeSees: (r) => r.response?.status === 503 },
};

async function firstLoadGetsConfigAndUploads(sc) {
  await sc.open();
  await sc.interact('first');
  await sc.waitFake('a replay upload on the first page load',
    (rs) => rs.find((r) => r.kind === 'replay' && replayEvents(r).some((e) => e.type === 2)),
    { timeoutMs: 12000, flushEveryMs: 1500 });
  const config = sc.records().find((r) => r.kind === 'config');
  sc.check(config?.response?.status === 200, `first load: the fake answered config ${config?.response?.status}`);
  const seen = sc.proxyRequests().find((q) => q.method === 'GET' && q.url.includes('/config/'));
  await sc.browser.settle();
  sc.check(seen?.status === 200 && !seen.responseHeaders?.['x-replay-proxy-stale'], 'first load: config did not come fresh through the proxy');
  sc.checkBrowserClean();
}

for (const sdk of ['plugin', 'standalone']) {
  describe(`${sdk} SDK: replay capture survives a config outage`, { concurrency: 1, skip: DIRECT && 'needs the proxy' }, () => {
    for (const [name, outage] of Object.entries(OUTAGES)) {
      it(`config host ${name}: the second page load still captures and uploads`, async () => {
        const first = new Scenario(env, sdk, `config outage (${name}), first load`);
        try {
          await firstLoadGetsConfigAndUploads(first);
        } finally {
          await first.finish();
        }

        const second = new Scenario(env, sdk, `config outage (${name}), second load`);
        second.key = first.key; // the proxy remembers config per path and query, and the key is in the path
        const boundary = Math.max(0, ...second.records().map((r) => r.seq));
        env.fake.setPlan(second.key, (rec) => (rec.kind === 'config' ? outage.response : undefined));
        try {
          await second.open();
          await second.interact('second');
          const upload = await second.waitFake('a replay upload with a full snapshot on the second page load',
            (rs) => rs.find((r) => r.seq > boundary && r.kind === 'replay' && replayEvents(r).some((e) => e.type === 2)),
            { timeoutMs: 12000, flushEveryMs: 1500 });
          const failedConfig = second.records().find((r) => r.seq > boundary && r.kind === 'config');
          second.check(failedConfig && outage.fakeSees(failedConfig), `the fake's config host did not ${name} for the second load`);
          await second.browser.settle();
          const configs = second.proxyRequests().filter((q) => q.method === 'GET' && q.url.includes('/config/'));
          const stale = configs.find((q) => q.status === 200 && q.responseHeaders?.['x-replay-proxy-stale'] === 'true');
          second.check(stale, `the browser got no remembered config from the proxy: ${JSON.stringify(configs.map((q) => [q.status, q.failure, q.responseHeaders?.['x-replay-proxy-stale']]))}`);
          second.check(stale && /^\d+$/.test(stale.responseHeaders?.age ?? ''), `the remembered config had no Age header (${stale?.responseHeaders?.age})`);
          if (upload) second.note(`replay upload #${upload.seq} arrived with the config host down`);
          second.checkUpstreamHeaders();
          second.checkBrowserClean();
        } finally {
          env.fake.setPlan(second.key, () => undefined);
          await second.finish();
        }
      });
    }
  });
}
