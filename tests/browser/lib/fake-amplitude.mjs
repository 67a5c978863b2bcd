// A recording fake of Amplitude's three upstreams (replay upload, remote config, analytics), on one
// loopback port. It records every request exactly as it arrived (raw header list, body bytes) and
// attributes it to an API key, so scenarios running side by side each see only their own traffic.
// Per-key "plans" let a scenario make the fake answer a replay upload with a fault.
import http from 'node:http';
import zlib from 'node:zlib';

export const UPSTREAM_COOKIE = 'amp_upstream_tracker=set-by-fake-amplitude';

export const CONFIG_RESPONSE = {
  // Shape read from @amplitude/session-replay-browser 1.51.6: the remote-config client returns the
  // whole JSON body and the SDK subscribes to the key path `configs.sessionReplay`; capture needs
  // sr_sampling_config.capture_enabled, and sample_rate 1 samples every session.
  configs: {
    sessionReplay: {
      sr_sampling_config: { capture_enabled: true, sample_rate: 1 },
      // Heatmap clicks: sent as type=interaction, at page exit as a text/plain beacon.
      sr_interaction_config: { enabled: true },
    },
  },
};

function headerMap(rawHeaders) {
  const map = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const k = rawHeaders[i].toLowerCase();
    map[k] = k in map ? `${map[k]}, ${rawHeaders[i + 1]}` : rawHeaders[i + 1];
  }
  return map;
}

function decodeBody(headers, body) {
  if (!body.length) return { text: '' };
  try {
    const enc = (headers['content-encoding'] || '').toLowerCase();
    const raw = enc === 'gzip' ? zlib.gunzipSync(body) : body;
    const text = raw.toString('utf8');
    try { return { text, json: JSON.parse(text) }; } catch { return { text }; }
  } catch (e) {
    return { error: `could not decode body: ${e.message}` };
  }
}

function classify(method, url) {
  const p = url.pathname;
  if (method === 'GET' && p.startsWith('/config/')) return 'config';
  if (method === 'POST' && p === '/sessions/v2/track') {
    const type = url.searchParams.get('type');
    if (url.searchParams.has('api_key')) return type === 'interaction' ? 'interaction-beacon' : 'beacon';
    return type === 'interaction' ? 'interaction' : 'replay';
  }
  if (method === 'POST' && (p === '/2/httpapi' || p === '/batch')) return 'analytics';
  return 'other';
}

function apiKeyOf(kind, url, headers, decoded) {
  if (kind === 'config') {
    try { return decodeURIComponent(url.pathname.slice('/config/'.length)); } catch { return null; }
  }
  if (url.searchParams.get('api_key')) return url.searchParams.get('api_key');
  const auth = headers.authorization || '';
  if (auth.startsWith('Bearer ')) return auth.slice(7);
  if (decoded?.json?.api_key) return decoded.json.api_key;
  return null;
}

export async function startFakeAmplitude({ cors = false } = {}) {
  const records = [];
  const plans = new Map(); // api key -> (record, state) => response | undefined
  const waiters = new Set();
  let seq = 0;

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url, 'http://fake.invalid');
      const body = Buffer.concat(chunks);
      const headers = headerMap(req.rawHeaders);
      const kind = classify(req.method, url);
      const decoded = decodeBody(headers, body);
      const rec = {
        seq: ++seq,
        at: Date.now(),
        method: req.method,
        target: req.url,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        rawHeaders: req.rawHeaders.slice(),
        headers,
        body,
        decoded,
        kind,
        apiKey: apiKeyOf(kind, url, headers, decoded),
        socketPeer: req.socket.remoteAddress,
        response: null,
      };
      records.push(rec);

      const corsHeaders = {};
      if (cors && headers.origin) {
        // Only for BROWSER_TEST_DIRECT=1 (developing the test without the proxy).
        Object.assign(corsHeaders, {
          'access-control-allow-origin': headers.origin,
          'access-control-allow-credentials': 'true',
          'access-control-expose-headers': 'X-Session-Replay-Event-Skipped',
        });
        if (req.method === 'OPTIONS') {
          corsHeaders['access-control-allow-methods'] = 'GET, POST, OPTIONS';
          corsHeaders['access-control-allow-headers'] = headers['access-control-request-headers'] || '';
          corsHeaders['access-control-max-age'] = '7200';
        }
      }

      let out;
      const plan = rec.apiKey && plans.get(rec.apiKey);
      if (plan) out = plan(rec, records.filter((r) => r.apiKey === rec.apiKey));
      if (!out) out = defaultResponse(rec);
      // Outage control (config-outage.test.mjs): a plan may answer { hang: true } to accept the request and never
      // answer it; the socket is dropped when the fake closes.
      if (out.hang) {
        rec.response = { status: null, hung: true, headers: {}, body: '' };
        for (const w of waiters) w();
        return;
      }
      rec.response = { status: out.status, headers: out.headers || {}, body: out.body ?? '' };
      // Amplitude's own cookie must never be passed back to the site by the proxy.
      res.writeHead(out.status, { 'set-cookie': `${UPSTREAM_COOKIE}; Path=/`, ...corsHeaders, ...(out.headers || {}) });
      res.end(out.body ?? '');
      for (const w of waiters) w();
    });
  });

  function defaultResponse(rec) {
    if (rec.method === 'OPTIONS') return { status: 204 };
    switch (rec.kind) {
      case 'config':
        return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(CONFIG_RESPONSE) };
      case 'replay':
      case 'interaction':
      case 'beacon':
      case 'interaction-beacon':
        return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'success' };
      case 'analytics': {
        const n = rec.decoded?.json?.events?.length ?? 0;
        return {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ code: 200, events_ingested: n, payload_size_bytes: rec.body.length, server_upload_time: Date.now() }),
        };
      }
      default:
        return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'fake amplitude: no such route' };
    }
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();

  return {
    origin: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    records,
    forKey: (key) => records.filter((r) => r.apiKey === key),
    setPlan: (key, fn) => plans.set(key, fn),
    /** Resolves with predicate's truthy value, or null after timeoutMs. */
    waitFor(predicate, timeoutMs) {
      return new Promise((resolve) => {
        let done = false;
        const check = () => {
          if (done) return;
          let v;
          try { v = predicate(); } catch { v = null; }
          if (v) finish(v);
        };
        const finish = (v) => {
          done = true;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(v);
        };
        const timer = setTimeout(() => finish(null), timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}
