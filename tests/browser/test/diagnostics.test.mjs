// Issue 17, no third-party diagnostics, with the real analytics SDK: @amplitude/analytics-browser 2.48.1 reads
// configs.diagnostics.browserSDK from the remote config answer and, when sampled in, posts diagnostics every 5 minutes
// to https://diagnostics.prod.us-west-2.amplitude.com/v1/capture, a URL no option points at the proxy. The fake
// Amplitude's config enables them for every session (sampleRate 1); the page's clock is moved past the 5-minute flush.
// By default the proxy switches them off in the config answer and nothing leaves for a third origin; the control runs
// the same page through a proxy with ReplayProxy__AllowSdkDiagnostics=true and must see the diagnostics request.
import { describe, it, before, after } from 'node:test';
import { startFakeAmplitude, CONFIG_RESPONSE } from '../lib/fake-amplitude.mjs';
import { startPageServer } from '../lib/page-server.mjs';
import { startProxy } from '../lib/proxy.mjs';
import { Scenario } from '../lib/scenario.mjs';

const DIRECT = process.env.BROWSER_TEST_DIRECT === '1';
const HOST = process.env.BROWSER_TEST_HOST || 'standalone';
const DIAGNOSTICS_ON = {
  configs: { ...CONFIG_RESPONSE.configs, diagnostics: { browserSDK: { enabled: true, sampleRate: 1 } } },
};
// Both regions' diagnostics hosts (analytics-core DiagnosticsClient).
const DIAGNOSTICS_URL = /^https:\/\/diagnostics\.prod\.[a-z0-9-]+\.amplitude\.com\//;
// The SDK's flush interval (analytics-core FLUSH_INTERVAL_MS), and how far the clock jumps past it.
const FLUSH_MS = 5 * 60 * 1000;
const JUMP = '05:30';
const WAIT_MS = 15000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const env = { direct: DIRECT };

before(async () => {
  if (DIRECT) return;
  env.fake = await startFakeAmplitude();
  env.pages = await startPageServer(1);
  env.pageOrigins = env.pages.origins;
  const proxy = (extra) => startProxy({ host: HOST, upstream: env.fake.origin, allowedOrigins: env.pageOrigins[0], env: extra });
  [env.rewriting, env.allowing] = await Promise.all([proxy({}), proxy({ ReplayProxy__AllowSdkDiagnostics: 'true' })]);
});

after(async () => {
  await env.rewriting?.stop();
  await env.allowing?.stop();
  await env.pages?.close();
  await env.fake?.close();
});

/** The SDK's last diagnostics flush time from its IndexedDB (analytics-core DiagnosticsStorage), or null before the
 * diagnostics client has stored one. It stores one at start whether or not diagnostics are on, and again at each flush
 * just before it sends. */
function lastFlush(page, apiKey) {
  return page.evaluate(async (name) => {
    const dbs = await indexedDB.databases();
    if (!dbs.some((d) => d.name === name)) return null;
    return new Promise((resolve) => {
      const open = indexedDB.open(name);
      open.onerror = () => resolve(null);
      open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains('internal')) { db.close(); resolve(null); return; }
        const get = db.transaction('internal').objectStore('internal').get('last_flush_timestamp');
        get.onsuccess = () => { db.close(); resolve(get.result ? Number(get.result.value) : null); };
        get.onerror = () => { db.close(); resolve(null); };
      };
    });
  }, `AMP_diagnostics_${apiKey.substring(0, 10)}`);
}

async function until(what, sc, probe) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) {
      sc.problems.push(`timed out after ${WAIT_MS} ms waiting for: ${what}`);
      return null;
    }
    await sleep(100);
  }
}

/** One page load with diagnostics enabled by Amplitude's config, the clock past the SDK's flush. */
async function loadPastTheFlush(proxy, label) {
  const sc = new Scenario({ ...env, proxy, target: proxy.origin }, 'plugin', label);
  env.fake.setPlan(sc.key, (rec) => (rec.kind === 'config'
    ? { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(DIAGNOSTICS_ON) }
    : undefined));
  const diagnostics = [];
  const configAnswers = [];
  await sc.open(undefined, {
    beforeLoad: async ({ context, page }) => {
      await context.clock.install();
      // Nothing reaches Amplitude's diagnostics host from here; the request is recorded and answered locally.
      await context.route(DIAGNOSTICS_URL, (route) => {
        diagnostics.push(`${route.request().method()} ${route.request().url()}`);
        return route.fulfill({ status: 200, headers: { 'access-control-allow-origin': '*' }, body: '' });
      });
      page.on('response', (response) => {
        if (response.request().method() === 'GET' && response.url().startsWith(`${proxy.origin}/config/`)) {
          configAnswers.push(response.json().catch((e) => ({ unreadable: String(e) })));
        }
      });
    },
  });
  const { page } = sc.browser;
  const started = await until('the SDK diagnostics client to store its first flush time', sc, () => lastFlush(page, sc.key));
  const browserSdk = (await Promise.all(configAnswers)).map((a) => a?.configs?.diagnostics?.browserSDK);
  const fake = sc.records().find((r) => r.kind === 'config');
  sc.check(fake?.response?.status === 200 && JSON.parse(fake.response.body).configs.diagnostics.browserSDK.enabled === true,
    'the fake did not answer config with diagnostics enabled');

  let flushed = null;
  if (started) {
    await page.clock.fastForward(JUMP);
    flushed = await until('the SDK diagnostics flush after the 5-minute timer', sc, async () => {
      const t = await lastFlush(page, sc.key);
      return t !== null && t >= started + FLUSH_MS ? t : null;
    });
  }
  // The flush stores its time just before it sends; a request from the page after it is seen after the send.
  const fence = `${sc.pageOrigin}/favicon.ico?fence=${Date.now()}`;
  await page.evaluate((url) => fetch(url, { cache: 'no-store' }).then((r) => r.status), fence);
  await until('the fence request', sc, () => sc.browser.cap.requests.some((q) => q.url === fence));
  return { sc, diagnostics, browserSdk, flushed, seenAtFence: sc.browser.cap.elsewhere.slice() };
}

describe('SDK diagnostics never leave for a third party', { concurrency: 1, skip: DIRECT && 'needs the proxy' }, () => {
  it('by default the config answer switches them off and, past the 5-minute flush, the page talks only to itself and the proxy', async () => {
    const { sc, diagnostics, browserSdk, flushed } = await loadPastTheFlush(env.rewriting, 'diagnostics, default');
    try {
      sc.check(browserSdk.length > 0 && browserSdk.every((d) => d?.enabled === false && d?.sampleRate === 0),
        `the browser got config with diagnostics ${JSON.stringify(browserSdk)}, expected {enabled: false, sampleRate: 0}`);
      sc.check(flushed, 'the SDK never reached its diagnostics flush');
      sc.check(diagnostics.length === 0, `the SDK sent diagnostics to Amplitude: ${diagnostics.join(' | ')}`);
      sc.checkBrowserClean();
      // finish() reports every request to an origin other than the page's and the proxy's.
    } finally {
      await sc.finish();
    }
  });

  it('control: with AllowSdkDiagnostics=true the same page posts diagnostics to Amplitude (so the test above can fail)', async () => {
    const { sc, diagnostics, browserSdk, flushed, seenAtFence } = await loadPastTheFlush(env.allowing, 'diagnostics, allowed');
    try {
      sc.check(browserSdk.length > 0 && browserSdk.every((d) => d?.enabled === true && d?.sampleRate === 1),
        `the browser got config with diagnostics ${JSON.stringify(browserSdk)}, expected Amplitude's {enabled: true, sampleRate: 1}`);
      sc.check(flushed, 'the SDK never reached its diagnostics flush');
      const sent = await until('the SDK to post diagnostics to Amplitude', sc, () => diagnostics.find((d) => /^POST https:\/\/diagnostics\.prod\.us-west-2\.amplitude\.com\/v1\/capture$/.test(d)));
      // The default test looks no further than the fence: the request must have been seen by then.
      sc.check(!sent || seenAtFence.some((e) => DIAGNOSTICS_URL.test(e.split(' ')[1])), `the diagnostics request (${sent}) was seen only after the fence`);
      sc.check(sc.browser.cap.elsewhere.every((e) => DIAGNOSTICS_URL.test(e.split(' ')[1])), `other third-party requests: ${sc.browser.cap.elsewhere.join(' | ')}`);
      // Expected here: finish() would report them as a broken promise.
      sc.browser.cap.elsewhere.length = 0;
    } finally {
      await sc.finish();
    }
  });
});
