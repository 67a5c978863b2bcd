// One scenario = one fresh Chromium profile, one page, one API key. The fake attributes every
// request to its API key, so a scenario sees only its own traffic. Problems are collected, not
// thrown, so that a failing scenario reports everything it saw at once.
import crypto from 'node:crypto';
import os from 'node:os';
import { openBrowser } from './browser.mjs';
import { describeScenario, replayEvents } from './report.mjs';
import { SITE_COOKIE } from './page-server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const SECRETS = [SITE_COOKIE.split('=')[1], 'dark-mode-'];

export class Scenario {
  constructor(env, sdk, name) {
    this.env = env; // { fake, proxy, target, pageOrigins, direct }
    this.sdk = sdk;
    this.name = `${sdk}: ${name}`;
    // 32 hex characters, like a real Amplitude API key; unique per scenario and run.
    this.key = crypto.createHash('md5').update(`${this.name}|${process.pid}|${Date.now()}|${Math.random()}`).digest('hex');
    this.problems = [];
    this.notes = [];
    this.t0 = Date.now();
    this.browser = null;
  }

  check(cond, message) {
    if (!cond) this.problems.push(message);
    return !!cond;
  }

  note(message) { this.notes.push(message); }

  /** Printed even when the scenario passes. */
  warn(message) {
    this.notes.push(`WARNING: ${message}`);
    console.log(`# warning (${this.name}): ${message}`);
  }

  records() { return this.env.fake.forKey(this.key); }

  replays() { return this.records().filter((r) => r.kind === 'replay'); }

  /** beforeLoad({ context, page }) runs once the browser is open, before the page loads (clock, routes). */
  async open(pageOrigin = this.env.pageOrigins[0], { beforeLoad } = {}) {
    this.pageOrigin = pageOrigin;
    // The page's own server and the proxy; in direct mode the target is the fake itself.
    this.browser = await openBrowser({ allowedOrigins: [pageOrigin, this.env.target] });
    this.t0 = this.browser.cap.t0;
    if (beforeLoad) await beforeLoad(this.browser);
    const url = `${pageOrigin}/app?sdk=${this.sdk}&key=${this.key}&proxy=${encodeURIComponent(this.env.target)}`;
    await this.browser.page.goto(url);
    await this.browser.page.waitForFunction(() => window.__app && (window.__app.ready || window.__app.error), null, { timeout: 15000 })
      .catch(() => this.problems.push('page did not report ready within 15 s'));
    this.app = await this.browser.page.evaluate(() => ({ ...window.__app })).catch(() => ({}));
    this.check(!this.app.error, `page init failed: ${this.app.error}`);
    return this.app;
  }

  /** Clicks, typing and DOM changes: what rrweb records. */
  async interact(label = 'x') {
    const { page } = this.browser;
    await page.fill('#name', '');
    await page.type('#name', `Ada ${label}`, { delay: 15 });
    await page.click('#buy');
    for (let i = 0; i < 2; i++) await page.click('#add');
    await page.evaluate((l) => window.__app.addItem(`changed by script ${l}`), label);
  }

  /** The replay SDK sends its buffered events when the window loses focus. */
  async flushReplay() {
    await this.browser.page.evaluate(() => window.dispatchEvent(new Event('blur'))).catch(() => {});
  }

  /** Waits until predicate() over this scenario's fake records is truthy; flushes replay meanwhile. */
  async waitFake(what, predicate, { timeoutMs = 10000, flushEveryMs = 0 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let lastFlush = Date.now();
    for (;;) {
      let v;
      try { v = predicate(this.records()); } catch { v = null; }
      if (v) return v;
      if (Date.now() > deadline) {
        this.problems.push(`timed out after ${timeoutMs} ms waiting for: ${what}`);
        return null;
      }
      if (flushEveryMs && Date.now() - lastFlush >= flushEveryMs) {
        lastFlush = Date.now();
        await this.flushReplay();
      }
      await this.env.fake.waitFor(() => false, 100);
    }
  }

  /** Waits until neither the fake nor the browser has seen anything new for quietMs. */
  async quiesce(quietMs = 700, maxMs = 5000) {
    const deadline = Date.now() + maxMs;
    let last = -1;
    let since = Date.now();
    while (Date.now() < deadline) {
      await this.browser.settle();
      const n = this.records().length + this.browser.cap.requests.length;
      const inFlight = this.browser.cap.requests.some((q) => !q.url.startsWith('blob:') && q.status === null && !q.failure);
      if (n !== last || inFlight) { last = n; since = Date.now(); }
      else if (Date.now() - since >= quietMs) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async leavePage() {
    const { page } = this.browser;
    await page.evaluate(() => window.__app.addItem('last change before leaving')).catch(() => {});
    this.leftAt = Date.now() - this.browser.cap.t0;
    await page.goto(`${this.pageOrigin}/bye`);
  }

  /** Requests the page made to the proxy (or, in direct mode, the fake). */
  proxyRequests() {
    return this.browser.cap.requests.filter((q) => q.url.startsWith(`${this.env.target}/`));
  }

  /** Fake-side rules every request must satisfy when it came through the proxy. */
  checkUpstreamHeaders() {
    const { fake, direct } = this.env;
    for (const r of this.records()) {
      const id = `#${r.seq} ${r.method} ${r.path} [${r.kind}]`;
      if (!(direct && r.method === 'OPTIONS')) this.check(r.kind !== 'other', `${id}: unexpected request at the fake`);
      this.check(r.headers.host === fake.host, `${id}: Host is ${r.headers.host}, expected the upstream ${fake.host}`);
      if (direct) continue;
      this.check(!('cookie' in r.headers), `${id}: a Cookie header reached Amplitude (${r.headers.cookie?.length} chars)`);
      for (const [k, v] of Object.entries(r.headers)) {
        for (const s of SECRETS) this.check(!v.includes(s), `${id}: header ${k} carries the site's cookie value "${s}"`);
      }
      this.check(r.headers['x-forwarded-for'] === '127.0.0.1', `${id}: X-Forwarded-For is ${JSON.stringify(r.headers['x-forwarded-for'])}, expected the client address 127.0.0.1`);
    }
  }

  /** The first-party promise: the page talks to its own server and the proxy, and to no one else. */
  checkOnlyProxy() {
    for (const request of this.browser.cap.elsewhere) {
      this.problems.push(`the page sent a request to neither its own origin nor the proxy (${this.env.target}): ${request}`);
    }
  }

  /** Browser-side: no CORS error, no failed request, no error log. */
  checkBrowserClean({ allowStatuses = [], allowWarnings = [] } = {}) {
    const { cap } = this.browser;
    this.check(cap.pageErrors.length === 0, `page errors: ${cap.pageErrors.join(' | ')}`);
    const allowedStatusText = allowStatuses.map((s) => `status of ${s}`);
    for (const c of cap.console) {
      if (/CORS|Access-Control-Allow/i.test(c.text)) this.problems.push(`CORS error in the browser: ${c.text}`);
      else if (c.type === 'error' && !allowedStatusText.some((s) => c.text.includes(s))) this.problems.push(`console error: ${c.text}`);
      else if (c.type === 'warning' && /Amplitude/.test(c.text) && !allowWarnings.some((re) => re.test(c.text))) {
        this.problems.push(`SDK warning: ${c.text}`);
      }
    }
    for (const q of cap.requests) {
      if (q.url.startsWith('blob:')) continue;
      // A response that had arrived, whose unread body Chromium then dropped at page unload, is
      // reported as net::ERR_ABORTED; the request itself succeeded.
      if (q.failure && !(q.failure === 'net::ERR_ABORTED' && q.status !== null && q.status < 400)) {
        // A keepalive upload sent from pagehide is also reported aborted once the document is gone,
        // though the network service still delivers it: accept it only if it provably arrived.
        const delivered = q.failure === 'net::ERR_ABORTED' && this.leftAt !== undefined && q.at >= this.leftAt && q.postData?.length
          && this.records().find((r) => r.body.equals(q.postData) && r.response?.status < 300);
        // The remote-config client aborts an attempt after 1 s and retries (3 attempts). On a
        // loaded machine an attempt can miss that; it is not a proxy failure if a later attempt on
        // the same page got its 200. Reported as a warning, not hidden.
        const configRetried = q.failure === 'net::ERR_ABORTED' && q.method === 'GET' && q.url.includes('/config/') && q.status === null
          && cap.requests.some((o) => o !== q && o.url === q.url && o.at > q.at && o.status === 200);
        if (configRetried) {
          this.warn(`config attempt at +${q.at} ms got no response within the SDK's 1 s budget (aborted by the SDK); a later attempt succeeded. Machine load: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
        } else if (delivered) this.note(`${q.method} ${q.url.split('?')[0]} sent during page exit: Chromium reports ${q.failure}, the fake received it (#${delivered.seq}, answered ${delivered.response.status})`);
        else this.problems.push(`request failed in the browser: ${q.method} ${q.url} -> ${q.failure}`);
      }
      else if (q.status >= 400 && !allowStatuses.includes(q.status)) this.problems.push(`browser got ${q.status} for ${q.method} ${q.url}`);
      if (!this.env.direct && q.url.startsWith(`${this.env.target}/`) && q.responseHeaders?.['set-cookie']) {
        this.problems.push(`the proxy passed Set-Cookie back: ${q.method} ${q.url.split('?')[0]} -> ${q.responseHeaders['set-cookie']}`);
      }
    }
  }

  /** Each upload/analytics POST the browser sent must reach the fake byte for byte. */
  checkBodiesIdentical() {
    const recs = this.records();
    for (const q of this.proxyRequests()) {
      if (q.method !== 'POST' || !q.postData?.length) continue;
      const same = recs.find((r) => r.method === 'POST' && r.body.equals(q.postData));
      this.check(same, `browser POST ${q.url.split('?')[0]} (${q.postData.length} bytes) has no byte-identical copy at the fake`);
    }
  }

  sdkLog(re) { return this.browser.cap.console.find((c) => re.test(c.text)); }

  /** Every scenario ends here, so every scenario checks that nothing bypassed the proxy. */
  async finish() {
    if (this.browser) {
      this.checkOnlyProxy();
      await this.browser.close();
    }
    await sleep(50);
    const report = describeScenario({
      name: this.name,
      t0: this.t0,
      fakeRecords: this.records(),
      browser: this.browser,
      notes: this.notes,
      proxyOutput: this.problems.length && this.env.proxy ? this.env.proxy.output() : '',
    });
    if (this.problems.length) {
      const err = new Error(`${this.name}: ${this.problems.length} problem(s)\n- ${this.problems.join('\n- ')}\n\n${report}`);
      err.stack = err.message;
      throw err;
    }
    if (process.env.BROWSER_TEST_VERBOSE === '1') console.log(report);
  }
}

export { replayEvents };
