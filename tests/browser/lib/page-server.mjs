// The customer's site: serves the unmodified SDK bundles from vendor/ and a small page that wires
// them to the proxy. One server, several loopback ports = several origins (allowed, disallowed).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLES } from './vendor.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const publicDir = path.join(here, '..', 'public');

export const SITE_COOKIE = 'site_session=s3cr3t-first-party-session';

function appHtml(sdk) {
  const replayBundle = sdk === 'plugin' ? 'plugin' : 'standalone';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ReplayProxy browser test (${sdk})</title>
<style>body{font-family:sans-serif} .item{padding:2px;border-bottom:1px solid #ccc}</style>
<script src="/vendor/analytics.js"></script>
<script src="/vendor/${replayBundle}.js"></script>
</head><body>
<h1>Checkout</h1>
<form onsubmit="return false"><label>Name <input id="name" name="name" autocomplete="off"></label>
<button id="buy" type="button">Buy</button> <button id="add" type="button">Add item</button></form>
<ul id="list"></ul>
<p id="status">booting</p>
<script src="/app.js"></script>
</body></html>`;
}

export async function startPageServer(ports = 2) {
  const server = (port) => http.createServer((req, res) => {
    const url = new URL(req.url, 'http://page.invalid');
    const send = (status, type, body, extra = {}) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...extra });
      res.end(body);
    };
    if (url.pathname === '/app') {
      // An HttpOnly first-party session cookie, as a real site would have; app.js adds a script one.
      return send(200, 'text/html; charset=utf-8', appHtml(url.searchParams.get('sdk')), {
        'set-cookie': `${SITE_COOKIE}; Path=/; HttpOnly; SameSite=Lax`,
      });
    }
    if (url.pathname === '/app.js') return send(200, 'text/javascript', fs.readFileSync(path.join(publicDir, 'app.js')));
    if (url.pathname === '/bye') return send(200, 'text/html; charset=utf-8', '<!doctype html><title>bye</title><p>left the page</p>');
    const m = /^\/vendor\/(analytics|plugin|standalone)\.js$/.exec(url.pathname);
    if (m) return send(200, 'text/javascript', fs.readFileSync(BUNDLES[m[1]].file));
    if (url.pathname === '/favicon.ico') return send(204, 'image/x-icon', '');
    return send(404, 'text/plain', 'not found');
  });
  const servers = [];
  for (let i = 0; i < ports; i++) {
    const s = server();
    await new Promise((resolve, reject) => { s.once('error', reject); s.listen(0, '127.0.0.1', resolve); });
    servers.push(s);
  }
  return {
    origins: servers.map((s) => `http://127.0.0.1:${s.address().port}`),
    close: () => Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections?.(); s.close(() => r()); }))),
  };
}
