// Amplitude's published browser SDKs (unmodified bundles) in Debian's Chromium, through the
// standalone proxy host, against a recording fake Amplitude. Three loopback origins: the page, the
// proxy, the fake. The session, retry, 4005 and disallowed-origin scenarios run a second time through
// the Functions test host and the real isolated worker with platform CORS on, as on Azure. See
// README.md "Browser test".
import { describe, it, before, after } from 'node:test';
import { startFakeAmplitude } from '../lib/fake-amplitude.mjs';
import { startPageServer } from '../lib/page-server.mjs';
import { startProxy } from '../lib/proxy.mjs';
import { Scenario } from '../lib/scenario.mjs';
import { replayEvents, analyticsEvents } from '../lib/report.mjs';
import { PACKAGES } from '../lib/vendor.mjs';

// BROWSER_TEST_DIRECT=1 points the SDKs straight at the fake (which then answers CORS itself):
// only for developing this test without the proxy; proxy-only assertions are skipped, and the
// "page talks only to its own origin and the proxy" check then allows the fake in the proxy's place.
const DIRECT = process.env.BROWSER_TEST_DIRECT === '1';
// BROWSER_TEST_HOST=functions runs every scenario through the Functions test host with platform CORS
// instead of the standalone host (the Functions scenarios then run there once, not twice).
const HOST = process.env.BROWSER_TEST_HOST || 'standalone';
// The scenarios that also run through the Functions host with platform CORS in the default run.
const PLATFORM_SCENARIOS = ['session', '503 retry', '4005 stop', 'disallowed origin'];
const SR_SESSION_REPLAY_ID = '[Amplitude] Session Replay ID';
const CLIENT_LIBRARY = {
  plugin: `plugin/${PACKAGES.find((p) => p.name === '@amplitude/plugin-session-replay-browser').version}`,
  standalone: `standalone/${PACKAGES.find((p) => p.name === '@amplitude/session-replay-browser').version}`,
};
const DROPPED_AFTER_SKIP = /event batch dropped: server signalled capture disabled/;
const FAKE_413_BODY = 'Request payload exceeds the maximum allowed size (fake WAF)';

const env = { direct: DIRECT };

before(async () => {
  env.fake = await startFakeAmplitude({ cors: DIRECT });
  env.pages = await startPageServer(2);
  env.pageOrigins = env.pages.origins; // [0] allowed, [1] not allowed
  if (DIRECT) {
    env.target = env.fake.origin;
  } else {
    env.proxy = await startProxy({ host: HOST, upstream: env.fake.origin, allowedOrigins: env.pageOrigins[0], platformCors: HOST === 'functions' ? [env.pageOrigins[0]] : null });
    env.target = env.proxy.origin;
    console.log(`# proxy (${HOST} host) ${env.proxy.origin} healthy after ${env.proxy.startupMs} ms; fake ${env.fake.origin}; page ${env.pageOrigins.join(' and ')}`);
  }
});

after(async () => {
  await env.proxy?.stop();
  await env.pages?.close();
  await env.fake?.close();
});

const uploadsAfter = (records, seq) => records.filter((r) => r.kind === 'replay' && r.seq > seq);
const sameEvents = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const rawEvents = (r) => r.decoded?.json?.events ?? [];

function failNext(kind, response, condition = () => true) {
  let fired = null;
  const plan = (rec) => {
    if (fired || rec.kind !== kind || !condition(rec)) return undefined;
    fired = rec;
    return response;
  };
  plan.fired = () => fired;
  return plan;
}

// The plugin and standalone SDKs through the proxy: a whole session, then leaving the page.
async function sessionScenario(env, sdk) {
  const sc = new Scenario(env, sdk, 'session');
  try {
    const app = await sc.open();
    await sc.interact('one');
    const firstUpload = await sc.waitFake('a replay upload with a full snapshot',
      (rs) => rs.find((r) => r.kind === 'replay' && replayEvents(r).some((e) => e.type === 2)),
      { timeoutMs: 12000, flushEveryMs: 1500 });
    // Control for the 4005 scenario: after a clean 200, the same actions produce another upload.
    await sc.interact('two');
    await sc.flushReplay();
    await sc.waitFake('a second replay upload after more interaction',
      (rs) => firstUpload && rs.find((r) => r.kind === 'replay' && r.seq > firstUpload.seq),
      { timeoutMs: 8000, flushEveryMs: 1500 });
    await sc.waitFake(`an analytics event carrying "${SR_SESSION_REPLAY_ID}"`,
      (rs) => rs.some((r) => r.kind === 'analytics' && analyticsEvents(r).some((e) => e.event_type === 'Buy Clicked' && e.event_properties?.[SR_SESSION_REPLAY_ID])),
      { timeoutMs: 8000 });
    await sc.quiesce(); // leave with nothing in flight, so an aborted request means something
    const beforeExit = sc.proxyRequests().length;
    await sc.leavePage();
    await sc.waitFake('the page-exit beacon (api_key in the query)', (rs) => rs.find((r) => r.kind === 'beacon'), { timeoutMs: 6000 });
    if (sdk === 'standalone') {
      // The fake's remote config turns on heatmap (interaction) capture; the standalone SDK sends
      // the clicks at page exit as a text/plain beacon, which the browser sends without preflight.
      await sc.waitFake('the heatmap (type=interaction) exit beacon', (rs) => rs.find((r) => r.kind === 'interaction-beacon'), { timeoutMs: 4000 });
    }
    await new Promise((r) => setTimeout(r, 300));
    sc.note(`browser made ${beforeExit} request(s) to the proxy before leaving the page`);

    const recs = sc.records();
    const configs = recs.filter((r) => r.kind === 'config');
    sc.check(configs.length >= 1, 'no remote-config request reached the fake');
    for (const r of configs) {
      sc.check(r.target === `/config/${sc.key}?config_group=browser`, `config request target was ${r.target}`);
      sc.check(r.response.status === 200, `config answered ${r.response.status}`);
    }

    const replays = sc.replays();
    sc.check(replays.length >= 2, `expected at least 2 replay uploads, got ${replays.length}`);
    const allEvents = [];
    for (const r of replays) {
      const id = `replay upload #${r.seq}`;
      const h = r.headers;
      sc.check(h['content-encoding'] === 'gzip', `${id}: Content-Encoding is ${h['content-encoding']}, expected gzip`);
      sc.check(!r.decoded.error, `${id}: ${r.decoded.error}`);
      const body = r.decoded.json;
      sc.check(body && body.version === 1 && Array.isArray(body.events) && body.events.length > 0,
        `${id}: body does not gunzip to {"version":1,"events":[...]}: ${String(r.decoded.text).slice(0, 120)}`);
      const events = replayEvents(r);
      sc.check(events.every((e) => typeof e.type === 'number' && typeof e.timestamp === 'number'), `${id}: not all events are rrweb events`);
      allEvents.push(...events);
      sc.check(h.authorization === `Bearer ${sc.key}`, `${id}: Authorization is ${h.authorization ? 'a different value' : 'missing'}`);
      sc.check(h['x-client-library'] === CLIENT_LIBRARY[sdk], `${id}: X-Client-Library ${h['x-client-library']}, expected ${CLIENT_LIBRARY[sdk]}`);
      sc.check(/^\d+\.\d+\.\d+/.test(h['x-client-version'] || ''), `${id}: X-Client-Version ${h['x-client-version']}`);
      sc.check((h['x-client-url'] || '').startsWith(`${sc.pageOrigin}/app?`), `${id}: X-Client-Url ${h['x-client-url']}`);
      sc.check(h['x-client-sample-rate'] === '1', `${id}: X-Client-Sample-Rate ${h['x-client-sample-rate']}`);
      sc.check(h['x-sampling-hash-alg'] === 'xxhash32', `${id}: X-Sampling-Hash-Alg ${h['x-sampling-hash-alg']}`);
      sc.check(r.query.device_id === app.deviceId && r.query.session_id === String(app.sessionId) && r.query.type === 'replay',
        `${id}: query ${JSON.stringify(r.query)} does not name device ${app.deviceId} / session ${app.sessionId}`);
      sc.check(h['content-length'] === String(r.body.length), `${id}: Content-Length ${h['content-length']} but ${r.body.length} bytes arrived`);
    }
    sc.check(allEvents.some((e) => e.type === 4) && allEvents.some((e) => e.type === 2) && allEvents.some((e) => e.type === 3),
      'replay uploads lack Meta (4), FullSnapshot (2) or IncrementalSnapshot (3) rrweb events');
    sc.check(allEvents.some((e) => e.type === 3 && e.data?.source === 2), 'no rrweb mouse-interaction (click) event arrived');
    sc.check(allEvents.some((e) => e.type === 3 && e.data?.source === 5), 'no rrweb input event arrived');
    sc.check(allEvents.some((e) => e.type === 3 && e.data?.source === 0), 'no rrweb DOM-mutation event arrived');

    const analytics = recs.filter((r) => r.kind === 'analytics');
    if (sdk === 'plugin') {
      sc.check(analytics.some((r) => r.path === '/2/httpapi' && r.headers['content-encoding'] === 'gzip'),
        'no gzip analytics body reached /2/httpapi (the page enables request body compression)');
    } else {
      sc.check(analytics.length > 0 && analytics.every((r) => r.path === '/batch'), 'analytics did not arrive at /batch (the page uses batch mode)');
    }
    for (const r of analytics) sc.check(!r.decoded.error && r.decoded.json, `analytics #${r.seq}: body is not JSON (${r.decoded.error || 'unparsable'})`);
    const aEvents = analytics.flatMap(analyticsEvents);
    sc.check(analytics.every((r) => r.decoded.json?.api_key === sc.key), 'an analytics body has a different api_key');
    const tagged = aEvents.filter((e) => e.event_properties?.[SR_SESSION_REPLAY_ID]);
    sc.check(tagged.length > 0, `no analytics event carries "${SR_SESSION_REPLAY_ID}" (got: ${aEvents.map((e) => e.event_type).join(', ')})`);
    for (const e of tagged) {
      sc.check(e.event_properties[SR_SESSION_REPLAY_ID] === `${app.deviceId}/${app.sessionId}`,
        `event ${e.event_type}: replay id ${e.event_properties[SR_SESSION_REPLAY_ID]} != ${app.deviceId}/${app.sessionId}`);
    }
    for (const name of ['Page Ready', 'Buy Clicked']) sc.check(aEvents.some((e) => e.event_type === name), `analytics event "${name}" did not arrive`);

    const beacons = recs.filter((r) => r.kind === 'beacon');
    for (const r of beacons) {
      sc.check(r.query.api_key === sc.key, `beacon #${r.seq}: api_key in query is ${r.query.api_key ? 'a different value' : 'missing'}`);
      sc.check(!r.headers.authorization, `beacon #${r.seq}: has an Authorization header`);
      sc.check(Array.isArray(r.decoded.json?.events) && replayEvents(r).length > 0, `beacon #${r.seq}: body is not a JSON events batch`);
    }

    for (const r of recs.filter((x) => x.kind === 'interaction-beacon')) {
      sc.check(r.query.api_key === sc.key && r.query.type === 'interaction', `interaction beacon #${r.seq}: query ${JSON.stringify({ ...r.query, api_key: r.query.api_key ? '<set>' : undefined })}`);
      sc.check((r.headers['content-type'] || '').startsWith('text/plain'), `interaction beacon #${r.seq}: Content-Type ${r.headers['content-type']}`);
      sc.check(replayEvents(r).length > 0, `interaction beacon #${r.seq}: body is not an events batch`);
    }
    for (const r of beacons) {
      sc.check((r.headers['content-type'] || '').startsWith('application/json'), `beacon #${r.seq}: Content-Type ${r.headers['content-type']}, expected application/json`);
    }

    sc.checkUpstreamHeaders();
    sc.checkBodiesIdentical();
    sc.checkBrowserClean();
  } finally {
    await sc.finish();
  }
}

// Defines the scenarios for both SDKs against env (filled in by a before hook); `only` limits them.
function sdkSuites(env, where, only = null) {
  const scenario = (name, ...test) => {
    if (!only || only.includes(name)) it(...test);
  };
  for (const sdk of ['plugin', 'standalone']) describe(`${sdk} SDK ${where}`, { concurrency: 1 }, () => {
    scenario('session', 'session: config, gzip replay uploads, analytics with replay id, exit beacon', () => sessionScenario(env, sdk));

    scenario('large upload', 'large upload: a ~1.5 MB replay batch arrives byte for byte', async () => {
      const sc = new Scenario(env, sdk, 'large upload');
      try {
        await sc.open();
        await sc.interact('one');
        await sc.waitFake('the first replay upload', (rs) => rs.find((r) => r.kind === 'replay'), { timeoutMs: 12000, flushEveryMs: 1500 });
        const chars = await sc.browser.page.evaluate(() => window.__app.addBulk(1_500_000));
        await sc.flushReplay();
        const big = await sc.waitFake('a replay upload over 1 MB', (rs) => rs.find((r) => r.kind === 'replay' && r.body.length > 1_000_000),
          { timeoutMs: 15000, flushEveryMs: 2000 });
        await sc.quiesce();
        if (big) {
          sc.note(`added ${chars} characters of random text; upload #${big.seq} was ${big.body.length} bytes gzip, ${big.decoded.text?.length} bytes JSON`);
          sc.check(big.response.status === 200, `large upload answered ${big.response.status}`);
          sc.check(big.headers['content-length'] === String(big.body.length), `large upload: Content-Length ${big.headers['content-length']} but ${big.body.length} bytes arrived`);
          sc.check(replayEvents(big).some((e) => JSON.stringify(e).length > 1_000_000), 'the large rrweb event did not survive the trip');
        }
        sc.checkUpstreamHeaders();
        sc.checkBodiesIdentical();
        sc.checkBrowserClean();
      } finally {
        await sc.finish();
      }
    });

    scenario('413 split', '413 "payload exceeds": the SDK splits the batch and resends both halves', async () => {
      const sc = new Scenario(env, sdk, '413 split');
      const plan = failNext('replay', { status: 413, headers: { 'content-type': 'text/plain' }, body: FAKE_413_BODY },
        (r) => rawEvents(r).length >= 2);
      env.fake.setPlan(sc.key, plan);
      try {
        await sc.open();
        await sc.interact('one');
        const rejected = await sc.waitFake('a replay upload of >= 2 events (answered 413)', () => plan.fired(), { timeoutMs: 12000, flushEveryMs: 1500 });
        if (rejected) {
          const all = rawEvents(rejected);
          const mid = Math.floor(all.length / 2);
          const halves = [all.slice(0, mid), all.slice(mid)];
          sc.note(`413 on upload #${rejected.seq} of ${all.length} events; expecting halves of ${halves[0].length} and ${halves[1].length}`);
          const found = await sc.waitFake('both halves of the rejected batch resent',
            (rs) => {
              const later = uploadsAfter(rs, rejected.seq);
              const a = later.find((r) => sameEvents(rawEvents(r), halves[0]));
              const b = later.find((r) => sameEvents(rawEvents(r), halves[1]));
              return a && b && [a, b];
            }, { timeoutMs: 8000 });
          if (found) for (const r of found) sc.check(r.response.status === 200, `half #${r.seq} was answered ${r.response.status}`);
          await sc.browser.settle();
          const seen = sc.proxyRequests().find((q) => q.status === 413);
          sc.check(seen, 'the browser never saw the 413');
          if (seen) sc.check((seen.responseBody || '').includes('payload exceeds'), `the browser saw the 413 with body ${JSON.stringify(seen.responseBody)}, not the upstream's`);
          sc.check(sc.sdkLog(/splitting and retrying/), 'the SDK did not log that it split the batch');
        }
        sc.checkUpstreamHeaders();
        sc.checkBrowserClean({ allowStatuses: [413], allowWarnings: [/splitting and retrying/] });
      } finally {
        await sc.finish();
      }
    });

    scenario('503 retry', '503 then 200: the SDK retries and the data arrives once', async () => {
      const sc = new Scenario(env, sdk, '503 retry');
      const plan = failNext('replay', { status: 503, headers: { 'content-type': 'text/plain' }, body: 'upstream unavailable (fake)' });
      env.fake.setPlan(sc.key, plan);
      try {
        await sc.open();
        await sc.interact('one');
        const failed = await sc.waitFake('a replay upload (answered 503)', () => plan.fired(), { timeoutMs: 12000, flushEveryMs: 1500 });
        if (failed) {
          const retried = await sc.waitFake('the same batch resent after the 503',
            (rs) => uploadsAfter(rs, failed.seq).find((r) => sameEvents(rawEvents(r), rawEvents(failed))), { timeoutMs: 8000 });
          if (retried) sc.check(retried.response.status === 200, `retry #${retried.seq} answered ${retried.response.status}`);
          await sc.interact('two');
          await sc.flushReplay();
          await sc.waitFake('a later upload', (rs) => retried && uploadsAfter(rs, retried.seq).length > 0, { timeoutMs: 6000, flushEveryMs: 1500 });
          await sc.quiesce();
          // Data arrives once: every rrweb event is accepted (200) exactly once.
          const accepted = sc.replays().filter((r) => r.response.status === 200).flatMap(rawEvents);
          const counts = new Map();
          for (const e of accepted) counts.set(e, (counts.get(e) || 0) + 1);
          const dupes = [...counts.values()].filter((n) => n > 1).length;
          sc.check(dupes === 0, `${dupes} rrweb event(s) were accepted more than once`);
          sc.check(rawEvents(failed).every((e) => counts.get(e) === 1), 'not every event of the 503 batch was accepted exactly once');
          // The browser's own requests: the SDK retried (not the proxy), and nothing was lost in between.
          const browserUploads = sc.proxyRequests().filter((q) => q.method === 'POST' && q.url.includes('/sessions/v2/track?') && q.url.includes('type=replay') && !q.url.includes('api_key='));
          sc.check(browserUploads.length === sc.replays().length,
            `browser sent ${browserUploads.length} replay upload(s), the fake received ${sc.replays().length}`);
          sc.check(browserUploads.some((q) => q.status === 503), 'the browser never saw the 503');
        }
        sc.checkUpstreamHeaders();
        sc.checkBrowserClean({ allowStatuses: [503] });
      } finally {
        await sc.finish();
      }
    });

    scenario('4005 stop', '200 with X-Session-Replay-Event-Skipped: 4005: the SDK stops uploading the session', async () => {
      const sc = new Scenario(env, sdk, '4005 stop');
      const plan = failNext('replay', {
        status: 200,
        headers: { 'content-type': 'text/plain', 'X-Session-Replay-Event-Skipped': '4005' },
        body: 'success',
      });
      env.fake.setPlan(sc.key, plan);
      try {
        const app = await sc.open();
        await sc.interact('one');
        const skipped = await sc.waitFake('a replay upload (answered 200 + skipped 4005)', () => plan.fired(), { timeoutMs: 12000, flushEveryMs: 1500 });
        if (skipped) {
          // Keep recording and keep asking the SDK to flush for a while: it must not upload again.
          for (let i = 0; i < 3; i++) {
            await sc.interact(`after-${i}`);
            await sc.flushReplay();
            await new Promise((r) => setTimeout(r, 1300));
          }
          await sc.quiesce();
          const later = uploadsAfter(sc.records(), skipped.seq).filter((r) => r.query.session_id === String(app.sessionId));
          sc.check(later.length === 0, `${later.length} replay upload(s) for the stopped session arrived after the 4005`);
          const browserUploads = sc.proxyRequests().filter((q) => q.method === 'POST' && q.url.includes('/sessions/v2/track?') && q.url.includes('type=replay') && !q.url.includes('api_key='));
          sc.check(browserUploads.length === 1, `the browser sent ${browserUploads.length} replay uploads (expected 1: the one answered 4005)`);
          const first = browserUploads[0];
          const expose = (first?.responseHeaders?.['access-control-expose-headers'] || '').toLowerCase();
          sc.check(expose.includes('x-session-replay-event-skipped'), `the proxy's response does not expose X-Session-Replay-Event-Skipped (Access-Control-Expose-Headers: ${JSON.stringify(expose)})`);
          sc.check(sc.sdkLog(/capture stopped for session .* 4005/), 'the SDK did not log that the server stopped the session');
          // ...and it did try to send afterwards (so silence is not just an empty buffer).
          sc.check(sc.sdkLog(DROPPED_AFTER_SKIP), 'the SDK never dropped a later batch, so the test did not exercise the stop');
        }
        sc.checkUpstreamHeaders();
        sc.checkBrowserClean({ allowWarnings: [DROPPED_AFTER_SKIP] });
      } finally {
        await sc.finish();
      }
    });

    scenario('disallowed origin', 'disallowed page origin (ReplayProxy__AllowedOrigins set): nothing reaches Amplitude', { skip: DIRECT && 'direct mode' }, async () => {
      const sc = new Scenario(env, sdk, 'disallowed origin');
      try {
        await sc.open(env.pageOrigins[1]);
        sc.problems.length = 0; // the page may or may not finish init without its config; not the point here
        await sc.interact('one');
        await sc.flushReplay();
        await new Promise((r) => setTimeout(r, 2500));
        await sc.leavePage().catch(() => {});
        await new Promise((r) => setTimeout(r, 1500));
        await sc.browser.settle();
        const tried = sc.proxyRequests();
        sc.note(`page origin ${env.pageOrigins[1]} (allowed: ${env.pageOrigins[0]}); the browser made ${tried.length} request(s) to the proxy`);
        sc.check(tried.length > 0, 'the page never tried the proxy, so this proves nothing');
        sc.check(sc.records().length === 0, `${sc.records().length} request(s) from the disallowed origin reached the fake Amplitude`);
      } finally {
        await sc.finish();
      }
    });
  });
}

sdkSuites(env, HOST === 'functions' ? 'through the Functions host with platform CORS' : 'through the proxy');

// What Azure runs: the Functions host in front of the isolated worker, with platform CORS from the
// same origin list as the app's (the template sets both): the host answers every preflight and sets
// Access-Control-Allow-Origin/-Credentials on the worker's answers. The same fake and pages, a second
// proxy origin.
describe('through the Functions host with platform CORS (the real isolated worker)', { concurrency: 1, skip: (DIRECT && 'direct mode') || (HOST === 'functions' && 'every scenario already ran through the Functions host') }, () => {
  const platform = {};
  before(async () => {
    const proxy = await startProxy({ host: 'functions', upstream: env.fake.origin, allowedOrigins: env.pageOrigins[0], platformCors: [env.pageOrigins[0]] });
    Object.assign(platform, env, { proxy, target: proxy.origin });
    console.log(`# proxy (functions host, platform CORS for ${env.pageOrigins[0]}) ${proxy.origin} healthy after ${proxy.startupMs} ms`);
  });
  after(async () => { await platform.proxy?.stop(); });

  sdkSuites(platform, 'through the Functions host with platform CORS', PLATFORM_SCENARIOS);
});

describe('fake Amplitude, after all scenarios', () => {
  it('received nothing it could not attribute to a scenario (no forwarded preflights, no strays)', { skip: DIRECT && 'direct mode: the fake answers preflights itself' }, () => {
    const strays = env.fake.records.filter((r) => !r.apiKey || r.kind === 'other');
    if (strays.length) {
      throw new Error(`unattributed requests at the fake:\n${strays.map((r) => `  #${r.seq} ${r.method} ${r.target.replace(/(api_key=)[^&]+/, '$1<key>')} origin=${r.headers.origin}`).join('\n')}`);
    }
  });
});
