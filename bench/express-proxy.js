// Express 5 + http-proxy-middleware contender for bench/run.sh.
// The recipe people copy: one process, one proxy middleware per Amplitude host, plus a keep-alive
// agent so upstream connections are reused (without it Node opens a new connection per request).
// Usage: node express-proxy.js <listen port> <upstream url>
'use strict';
const http = require('node:http');
const express = require('express');
const { createProxyMiddleware } = require('http-proxy-middleware');

const port = Number(process.argv[2]);
const upstream = process.argv[3];
if (!port || !upstream) {
  console.error('usage: node express-proxy.js <port> <upstream url>');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });

// pathFilter (not app.use(path, ...)) so Express does not strip the path before forwarding.
const proxyTo = (target, pathFilter) => createProxyMiddleware({
  target,
  pathFilter,
  agent,
  changeOrigin: true,
  xfwd: true,
  on: {
    proxyReq: (proxyReq) => proxyReq.removeHeader('cookie'),
    proxyRes: (proxyRes) => { delete proxyRes.headers['set-cookie']; },
    error: (err, req, res) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"code":502}');
    },
  },
});

const app = express();
app.disable('x-powered-by');
app.get('/healthz', (req, res) => res.send('ok'));
app.use(proxyTo(upstream, '/sessions/v2/track')); // replay upload (api-sr)
app.use(proxyTo(upstream, '/config'));            // remote config (sr-client-cfg)
app.use(proxyTo(upstream, ['/2/httpapi', '/batch'])); // analytics (api2)

const server = app.listen(port, '127.0.0.1');
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.requestTimeout = 0;
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
