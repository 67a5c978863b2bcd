// Helpers to read what the fake received and to explain a scenario when it fails.

/** rrweb events of a replay upload/beacon: the body is {"version":N,"events":["<json>",...]}. */
export function replayEvents(rec) {
  const events = rec.decoded?.json?.events;
  if (!Array.isArray(events)) return [];
  return events.map((e) => {
    try { return typeof e === 'string' ? JSON.parse(e) : e; } catch { return { unparsable: String(e).slice(0, 80) }; }
  });
}

export function analyticsEvents(rec) {
  return Array.isArray(rec.decoded?.json?.events) ? rec.decoded.json.events : [];
}

const NOISE = /Timeline\.apply|No targeting config set|Event tracked successfully/;

function redactQuery(target) {
  return target.replace(/(api_key=)[^&]+/, '$1<key>');
}

function fakeLine(r, t0) {
  const h = r.headers;
  const shown = ['host', 'origin', 'authorization', 'content-type', 'content-encoding', 'content-length', 'x-forwarded-for', 'cookie', 'x-client-library', 'x-client-version', 'x-client-sample-rate', 'x-sampling-hash-alg']
    .filter((k) => k in h)
    .map((k) => `${k}=${k === 'authorization' ? h[k].replace(/Bearer .*/, 'Bearer <key>') : k === 'cookie' ? `<${h[k].length} chars>` : h[k]}`)
    .join(' ');
  let content = '';
  if (r.kind === 'replay' || r.kind === 'beacon' || r.kind === 'interaction' || r.kind === 'interaction-beacon') {
    const ev = replayEvents(r);
    content = `v${r.decoded?.json?.version} ${ev.length} events types=[${ev.map((e) => e.type).join(',')}]`;
  } else if (r.kind === 'analytics') {
    content = analyticsEvents(r).map((e) => e.event_type).join(', ');
  }
  if (r.decoded?.error) content += ` ${r.decoded.error}`;
  return `  #${r.seq} +${r.at - t0}ms ${r.method} ${redactQuery(r.target)} [${r.kind}] -> ${r.response?.status}${r.response?.headers?.['x-session-replay-event-skipped'] ? ' skipped=' + r.response.headers['x-session-replay-event-skipped'] : ''}\n      ${shown}${content ? `\n      body: ${content}` : ''}`;
}

export function describeScenario({ name, t0, fakeRecords, browser, proxyOutput, notes = [] }) {
  const lines = [`===== what scenario "${name}" saw =====`];
  if (notes.length) lines.push('notes:', ...notes.map((n) => `  ${n}`));
  lines.push(`fake Amplitude received ${fakeRecords.length} request(s):`);
  for (const r of fakeRecords) lines.push(fakeLine(r, t0));
  if (browser) {
    const { cap } = browser;
    lines.push(`browser (Chromium ${cap.version}) made ${cap.requests.length} request(s):`);
    for (const q of cap.requests) {
      if (q.url.startsWith('blob:')) continue;
      lines.push(`  +${q.at}ms ${q.method} ${redactQuery(q.url)} (${q.resourceType}) -> ${q.status ?? 'no response seen'}${q.ms !== undefined ? ` in ${q.ms} ms` : ''}${q.failure ? ` FAILED ${q.failure}` : ''}${q.responseBody ? ` body=${JSON.stringify(q.responseBody.slice(0, 200))}` : ''}`);
    }
    if (cap.elsewhere.length) lines.push('requests to neither the page nor the proxy:', ...cap.elsewhere.map((u) => `  ${redactQuery(u)}`));
    lines.push('browser console (SDK log noise filtered):');
    for (const c of cap.console) if (!NOISE.test(c.text)) lines.push(`  +${c.at}ms ${c.type}: ${c.text.slice(0, 400)}`);
    if (cap.pageErrors.length) lines.push('page errors:', ...cap.pageErrors.map((e) => `  ${e}`));
  }
  if (proxyOutput) lines.push('proxy output (tail):', ...proxyOutput.split('\n').slice(-40).map((l) => `  ${l}`));
  return lines.join('\n');
}
