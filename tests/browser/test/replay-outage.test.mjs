// Issue 20 with the real SDKs: Amplitude's ingestion fails for a while (503 for replay uploads and analytics), the
// proxy keeps every upload (the browser sees 200 with X-Replay-Proxy-Spooled, so the SDK neither retries nor drops),
// and once Amplitude is back each kept upload arrives at the fake byte-identical, exactly once: the replay is complete.
import { describe, it, before, after } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFakeAmplitude } from '../lib/fake-amplitude.mjs';
import { startPageServer } from '../lib/page-server.mjs';
import { startProxy } from '../lib/proxy.mjs';
import { Scenario, replayEvents } from '../lib/scenario.mjs';

const DIRECT = process.env.BROWSER_TEST_DIRECT === '1';
const env = { direct: DIRECT };
let spoolDir;

before(async () => {
  env.fake = await startFakeAmplitude({ cors: DIRECT });
  env.pages = await startPageServer(1);
  env.pageOrigins = env.pages.origins;
  if (!DIRECT) {
    spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'browser-spool-'));
    env.proxy = await startProxy({
      upstream: env.fake.origin,
      allowedOrigins: env.pageOrigins[0],
      env: { ReplayProxy__Spool__Directory: path.join(spoolDir, 'spool'), ReplayProxy__Spool__RetryMaxSeconds: '1' },
    });
    env.target = env.proxy.origin;
  }
});

after(async () => {
  await env.proxy?.stop();
  await env.pages?.close();
  await env.fake?.close();
  if (spoolDir) fs.rmSync(spoolDir, { recursive: true, force: true });
});

const DOWN = { status: 503, headers: { 'content-type': 'application/json' }, body: '{"code":503,"error":"fake outage"}' };

describe('plugin SDK: replay survives an Amplitude ingestion outage', { concurrency: 1, skip: DIRECT && 'needs the proxy' }, () => {
  it('uploads made while Amplitude answers 503 are acknowledged, kept, and arrive complete once it is back', async () => {
    const sc = new Scenario(env, 'plugin', 'Amplitude ingestion outage');
    let down = true;
    env.fake.setPlan(sc.key, (rec) => (down && (rec.kind === 'replay' || rec.kind === 'analytics') ? DOWN : undefined));
    try {
      await sc.open();
      await sc.interact('during the outage');
      const isSpooled = (q) => q.method === 'POST' && q.url.includes('/sessions/v2/track') && q.status === 200
        && q.responseHeaders?.['x-replay-proxy-spooled'] === 'true';
      // The browser got the proxy's 200 for a replay upload that Amplitude answered 503.
      const deadline = Date.now() + 20000;
      while (Date.now() < deadline && !sc.proxyRequests().some(isSpooled)) {
        await sc.flushReplay();
        await sc.browser.settle();
        await new Promise((r) => setTimeout(r, 500));
      }
      sc.check(sc.proxyRequests().some(isSpooled), 'no replay upload was acknowledged as kept during the outage');
      sc.check(sc.records().some((r) => r.kind === 'replay' && r.response?.status === 503), 'the fake never answered a replay upload 503');
      sc.check(!sc.records().some((r) => r.kind === 'replay' && r.response?.status === 200), 'a replay upload was accepted during the outage');

      down = false;
      const kept = sc.proxyRequests().filter((q) => q.method === 'POST' && q.responseHeaders?.['x-replay-proxy-spooled'] === 'true');
      const accepted = (q) => sc.records().filter((r) => r.method === 'POST' && r.response?.status === 200 && q.postData && r.body.equals(q.postData));
      await sc.waitFake('every kept upload accepted by Amplitude after recovery', () => kept.every((q) => accepted(q).length > 0), { timeoutMs: 30000 });
      await sc.quiesce(1500, 8000);
      for (const q of kept) {
        const copies = accepted(q);
        sc.check(copies.length === 1, `kept ${q.url.split('?')[0]} (${q.postData?.length} bytes) reached Amplitude ${copies.length} times, expected once`);
        const r = copies[0];
        if (r) sc.check(q.url.endsWith(r.target), `kept upload went to ${r.target}, the browser sent ${q.url}`);
      }
      const snapshot = sc.records().find((r) => r.kind === 'replay' && r.response?.status === 200 && replayEvents(r).some((e) => e.type === 2));
      sc.check(snapshot, 'no replay upload with a full snapshot reached Amplitude after the outage');
      sc.note(`${kept.length} upload(s) kept during the outage, delivered after it`);
      sc.checkUpstreamHeaders();
      sc.checkBrowserClean();
    } finally {
      env.fake.setPlan(sc.key, () => undefined);
      await sc.finish();
    }
  });
});
