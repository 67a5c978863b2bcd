// The customer's integration, as Amplitude's docs describe it, with every Amplitude URL pointed at
// the first-party proxy. The SDK bundles themselves are loaded unmodified by <script> tags.
(function () {
  const params = new URLSearchParams(location.search);
  const sdk = params.get('sdk'); // 'plugin' | 'standalone'
  const key = params.get('key');
  const proxy = params.get('proxy'); // e.g. http://127.0.0.1:5123
  const status = document.getElementById('status');
  const app = (window.__app = { sdk, ready: false, error: null, tracked: [] });

  // A first-party cookie set by script (the server also set an HttpOnly one).
  document.cookie = 'site_pref=dark-mode-' + key.slice(0, 6) + '; path=/; SameSite=Lax';

  const trackServerUrl = proxy + '/sessions/v2/track';
  const configServerUrl = proxy + '/config';
  // Both analytics routes and both body forms go through the proxy: the plugin page sends gzip
  // bodies to /2/httpapi, the standalone page plain bodies to /batch (batch mode).
  const analyticsOptions = {
    serverUrl: proxy + (sdk === 'plugin' ? '/2/httpapi' : '/batch'),
    useBatch: sdk !== 'plugin',
    enableRequestBodyCompression: sdk === 'plugin',
    remoteConfig: { serverUrl: configServerUrl },
    flushIntervalMillis: 250,
    autocapture: { attribution: true, pageViews: true, sessions: true, formInteractions: true, fileDownloads: true },
    logLevel: amplitude.Types.LogLevel.Verbose,
  };

  function track(name, props) {
    app.tracked.push(name);
    amplitude.track(name, props);
  }

  document.getElementById('buy').addEventListener('click', () => {
    track('Buy Clicked', { name: document.getElementById('name').value });
    status.textContent = 'bought at ' + new Date().toISOString();
  });
  document.getElementById('add').addEventListener('click', () => app.addItem());
  app.addItem = function (text) {
    const li = document.createElement('li');
    li.className = 'item';
    li.textContent = text || 'item ' + (document.querySelectorAll('#list li').length + 1);
    document.getElementById('list').appendChild(li);
  };

  /** A block of incompressible text, so the next replay upload is large (about `bytes` gzip). */
  app.addBulk = function (bytes) {
    const buf = new Uint8Array(Math.ceil(bytes * 0.75));
    for (let i = 0; i < buf.length; i += 65536) crypto.getRandomValues(buf.subarray(i, Math.min(i + 65536, buf.length)));
    let bin = '';
    for (let i = 0; i < buf.length; i += 8192) bin += String.fromCharCode.apply(null, buf.subarray(i, i + 8192));
    const pre = document.createElement('pre');
    pre.style.whiteSpace = 'pre-wrap';
    pre.style.wordBreak = 'break-all';
    pre.textContent = btoa(bin);
    document.body.appendChild(pre);
    return pre.textContent.length;
  };

  async function start() {
    if (sdk === 'plugin') {
      amplitude.add(sessionReplay.plugin({ sampleRate: 1, trackServerUrl, configServerUrl }));
      await amplitude.init(key, analyticsOptions).promise;
    } else {
      // Standalone replay SDK, wired as Amplitude's docs describe: analytics first, then the replay
      // SDK with the same device and session ids, then an enrichment plugin that copies the replay
      // properties ([Amplitude] Session Replay ID) onto every later analytics event.
      await amplitude.init(key, analyticsOptions).promise;
      await sessionReplay.init(key, {
        deviceId: amplitude.getDeviceId(),
        sessionId: amplitude.getSessionId(),
        sampleRate: 1,
        trackServerUrl,
        configServerUrl,
        logLevel: amplitude.Types.LogLevel.Verbose,
      }).promise;
      await amplitude.add({
        name: 'session-replay-properties',
        type: 'enrichment',
        setup: async () => undefined,
        execute: async (event) => {
          event.event_properties = Object.assign({}, event.event_properties, sessionReplay.getSessionReplayProperties());
          return event;
        },
      }).promise;
    }
    app.deviceId = amplitude.getDeviceId();
    app.sessionId = amplitude.getSessionId();
    track('Page Ready', { sdk });
    app.ready = true;
    status.textContent = 'ready';
  }

  start().catch((e) => {
    app.error = String((e && e.stack) || e);
    status.textContent = 'error';
  });
})();
