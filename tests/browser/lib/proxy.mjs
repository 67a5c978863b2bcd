// Starts a proxy on a loopback port, upstreams = the fake: the standalone host (src/ReplayProxy.Server),
// or the Functions test host (tests/ReplayProxy.FunctionsHost) running the real isolated worker, optionally
// with platform CORS on (platformCors: origins), as Flex Consumption runs it: the host answers every
// preflight itself and sets the CORS headers on the worker's responses.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { ROOT } from './vendor.mjs';

export const REPO_ROOT = path.resolve(ROOT, '..', '..');
export const SERVER_PROJECT = path.join(REPO_ROOT, 'src', 'ReplayProxy.Server');
export const SERVER_DLL = process.env.REPLAYPROXY_DLL || path.join(SERVER_PROJECT, 'bin', 'Release', 'net10.0', 'ReplayProxy.Server.dll');
export const FUNCTIONS_HOST_PROJECT = path.join(REPO_ROOT, 'tests', 'ReplayProxy.FunctionsHost');
export const FUNCTIONS_HOST_DLL = path.join(FUNCTIONS_HOST_PROJECT, 'bin', 'Release', 'net10.0', 'ReplayProxy.FunctionsHost.dll');
export const FUNCTIONS_APP_PROJECT = path.join(REPO_ROOT, 'src', 'ReplayProxy.Functions');

// The worker starts after the host: allow it longer on a loaded machine.
const READY_MS = { standalone: 30000, functions: 90000 };

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function startProxy({ host = 'standalone', upstream, allowedOrigins = '', platformCors = null, env = {} }) {
  if (!READY_MS[host]) throw new Error(`unknown proxy host "${host}" (standalone or functions)`);
  if (platformCors && host !== 'functions') throw new Error('platform CORS is the Functions host\'s');
  // What the platform sets from the template's siteConfig.cors: { allowedOrigins, supportCredentials: true }.
  const platform = platformCors ? { CORS_ALLOWED_ORIGINS: JSON.stringify(platformCors), CORS_SUPPORT_CREDENTIALS: 'True' } : {};
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const output = [];
  // Run as `dotnet <dll>` (not `dotnet run`) so that SIGTERM reaches the host, which then ends its worker.
  const dll = host === 'functions' ? FUNCTIONS_HOST_DLL : SERVER_DLL;
  const child = spawn('dotnet', [dll, '--urls', origin], {
    cwd: host === 'functions' ? REPO_ROOT : path.dirname(SERVER_DLL),
    env: {
      ...process.env,
      DOTNET_NOLOGO: '1',
      DOTNET_CLI_TELEMETRY_OPTOUT: '1',
      ASPNETCORE_ENVIRONMENT: 'Production',
      ReplayProxy__Upstreams__Replay: upstream,
      ReplayProxy__Upstreams__Config: upstream,
      ReplayProxy__Upstreams__Analytics: upstream,
      ReplayProxy__AllowedOrigins: allowedOrigins,
      ...platform,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (b) => {
    output.push(b.toString());
    if (output.length > 400) output.splice(0, output.length - 400);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  child.on('exit', (code, sig) => { exited = { code, sig }; });

  const t0 = Date.now();
  let lastErr = '';
  while (Date.now() - t0 < READY_MS[host]) {
    if (exited) throw new Error(`proxy exited (${JSON.stringify(exited)}) before healthy:\n${output.join('')}`);
    try {
      const r = await fetch(`${origin}/healthz`);
      const body = await r.text();
      if (r.status === 200) {
        return {
          origin,
          port,
          startupMs: Date.now() - t0,
          health: body,
          output: () => output.join(''),
          stop: () => new Promise((resolve) => {
            if (exited) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 15000).unref();
          }),
        };
      }
      lastErr = `GET /healthz -> ${r.status} ${body}`;
    } catch (e) {
      lastErr = e.message;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  // SIGTERM lets the Functions test host end its worker too; the standalone host ends on either.
  child.kill('SIGTERM');
  throw new Error(`${host} proxy not healthy after ${READY_MS[host] / 1000} s (${lastErr}):\n${output.join('')}`);
}
