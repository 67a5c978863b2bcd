// `npm test` runs this first. Idempotent: installs what is missing, and only that.
//  1. playwright-core from package-lock.json (npm ci) when node_modules lacks it;
//  2. the pinned Amplitude SDK tarballs via `npm pack` into vendor/ (gitignored), integrity-checked,
//     and unpacked (a plain `npm install` of the SDKs fails on this registry: a transitive
//     dependency version is missing; the lib/scripts bundles are self-contained);
//  3. the proxy hosts (dotnet build -c Release) when a dll is missing or older than its sources: the
//     standalone host, and the Functions test host with the Functions app it runs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGES, VENDOR_DIR, ROOT, packageDir, BUNDLES } from '../lib/vendor.mjs';
import { REPO_ROOT, SERVER_DLL, SERVER_PROJECT, FUNCTIONS_HOST_DLL, FUNCTIONS_HOST_PROJECT, FUNCTIONS_APP_PROJECT } from '../lib/proxy.mjs';

const log = (m) => console.log(`[setup] ${m}`);
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...opts });

if (!fs.existsSync('/usr/bin/chromium') && !process.env.CHROMIUM_PATH) {
  console.error('[setup] /usr/bin/chromium is missing: apt-get update && apt-get install -y chromium');
  process.exit(1);
}

if (!fs.existsSync(path.join(ROOT, 'node_modules', 'playwright-core', 'package.json'))) {
  log('npm ci (playwright-core)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: ROOT, stdio: 'inherit' });
}

fs.mkdirSync(VENDOR_DIR, { recursive: true });
for (const pkg of PACKAGES) {
  const dir = packageDir(pkg);
  const wanted = Object.values(BUNDLES).filter((b) => b.pkg === pkg).map((b) => b.file);
  if (wanted.every((f) => fs.existsSync(f))) continue;
  log(`npm pack ${pkg.name}@${pkg.version}`);
  const out = JSON.parse(run('npm', ['pack', `${pkg.name}@${pkg.version}`, '--json', '--pack-destination', VENDOR_DIR], { cwd: VENDOR_DIR }));
  const info = out[0];
  if (info.integrity !== pkg.integrity) {
    throw new Error(`${pkg.name}@${pkg.version}: integrity ${info.integrity} != pinned ${pkg.integrity}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  run('tar', ['-xzf', path.join(VENDOR_DIR, info.filename), '-C', dir]);
  for (const f of wanted) if (!fs.existsSync(f)) throw new Error(`bundle missing after unpack: ${f}`);
}

function newestMtime(p) {
  let newest = 0;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'bin' || e.name === 'obj') continue;
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (/\.(cs|csproj|props|targets|json|proto)$/.test(e.name)) newest = Math.max(newest, fs.statSync(f).mtimeMs);
    }
  };
  walk(p);
  return newest;
}

if (process.env.BROWSER_TEST_DIRECT === '1' || process.env.REPLAYPROXY_SKIP_BUILD === '1') {
  log('skipping proxy build');
} else {
  const src = path.join(REPO_ROOT, 'src');
  const props = ['Directory.Build.props', 'Directory.Packages.props'].map((f) => path.join(REPO_ROOT, f)).filter((f) => fs.existsSync(f));
  const newestSource = Math.max(newestMtime(src), ...props.map((f) => fs.statSync(f).mtimeMs));
  const functionsApp = path.join(FUNCTIONS_APP_PROJECT, 'bin', 'Release', 'net10.0', 'ReplayProxy.Functions.dll');
  const builds = [
    { project: SERVER_PROJECT, output: SERVER_DLL, newest: newestSource },
    { project: FUNCTIONS_APP_PROJECT, output: functionsApp, newest: newestSource },
    { project: FUNCTIONS_HOST_PROJECT, output: FUNCTIONS_HOST_DLL, newest: Math.max(newestSource, newestMtime(FUNCTIONS_HOST_PROJECT)) },
  ];
  for (const { project, output, newest } of builds) {
    const built = fs.existsSync(output) ? fs.statSync(output).mtimeMs : 0;
    if (built >= newest) {
      log(`${path.relative(REPO_ROOT, project)} build is up to date`);
    } else {
      log(`dotnet build ${path.relative(REPO_ROOT, project)} -c Release`);
      execFileSync('dotnet', ['build', project, '-c', 'Release', '-nologo', '-v', 'q'], { cwd: REPO_ROOT, stdio: 'inherit' });
    }
  }
}
log('ready');
