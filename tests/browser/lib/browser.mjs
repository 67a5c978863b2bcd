// Debian's Chromium (never a downloaded browser) driven by playwright-core, one fresh profile per
// scenario. Everything the browser does is captured: requests and their outcomes, console, page
// errors. Any network request to an origin outside `allowedOrigins` (the page and the proxy) is
// recorded as a violation, and DNS for every name but 127.0.0.1 is mapped to "not found" so
// nothing can leave the machine anyway.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];

export async function openBrowser({ allowedOrigins }) {
  const allowed = new Set(allowedOrigins);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'replayproxy-chromium-'));
  const t0 = Date.now();
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1000, height: 700 },
  });
  const cap = { t0, console: [], pageErrors: [], requests: [], elsewhere: [], version: context.browser()?.version() };
  const byReq = new Map();
  const rel = () => Date.now() - t0;

  const onRequest = (req) => {
    const url = req.url();
    const entry = {
      at: rel(),
      method: req.method(),
      url,
      resourceType: req.resourceType(),
      isNavigation: req.isNavigationRequest(),
      status: null,
      failure: null,
      responseHeaders: null,
      requestHeaders: null,
      postData: null,
      responseBody: null,
    };
    try { entry.postData = req.postDataBuffer(); } catch { /* not available */ }
    let u;
    try { u = new URL(url); } catch { u = null; }
    // blob: and data: URLs never touch the network; everything else must go to an allowed origin.
    if (!u || (!['blob:', 'data:'].includes(u.protocol) && !allowed.has(u.origin))) {
      cap.elsewhere.push(`${req.method()} ${url}`);
    }
    byReq.set(req, entry);
    cap.requests.push(entry);
    req.allHeaders().then((h) => { entry.requestHeaders = h; }, () => {});
  };
  const onResponse = (res) => {
    const entry = byReq.get(res.request());
    if (!entry) return;
    entry.status = res.status();
    entry.ms = rel() - entry.at;
    entry.pending = res.allHeaders().then((h) => { entry.responseHeaders = h; }, () => {});
    if (entry.status >= 400) {
      entry.pendingBody = res.text().then((t) => { entry.responseBody = t; }, () => {});
    }
  };
  const onFailed = (req) => {
    const entry = byReq.get(req);
    if (entry) entry.failure = req.failure()?.errorText || 'failed';
  };
  context.on('request', onRequest);
  context.on('response', onResponse);
  context.on('requestfailed', onFailed);
  context.on('console', (msg) => cap.console.push({ at: rel(), type: msg.type(), text: msg.text() }));
  context.on('weberror', (err) => cap.pageErrors.push(String(err.error()?.stack || err.error())));

  const page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (err) => cap.pageErrors.push(String(err.stack || err)));

  return {
    context,
    page,
    cap,
    async settle() {
      await Promise.all(cap.requests.flatMap((e) => [e.pending, e.pendingBody].filter(Boolean)));
    },
    async close() {
      await this.settle().catch(() => {});
      await context.close().catch(() => {});
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
