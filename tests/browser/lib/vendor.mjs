// The pinned, unmodified Amplitude SDK packages and the self-contained bundles the page loads.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const VENDOR_DIR = path.join(ROOT, 'vendor');

export const PACKAGES = [
  {
    name: '@amplitude/analytics-browser',
    version: '2.48.1',
    integrity: 'sha512-KEavyfKaPze3nXxtnOwAh4PCm5saJelzST3vatccs3GuE65uhS9ev/YEFR2r6szi6byZBUKWB0cHjlZ0fMqv2A==',
    bundles: { analytics: 'lib/scripts/amplitude-min.js' },
  },
  {
    name: '@amplitude/plugin-session-replay-browser',
    version: '1.35.2',
    integrity: 'sha512-kYOVrDv3hA3kJl9jdKTYU45lIMPIeHG7C/7qlPgmyZQHheeWQVb3F7EEgOxmdhoRDbS4WuanIyMJ4GRBrQqQTA==',
    bundles: { plugin: 'lib/scripts/plugin-session-replay-browser-min.js' },
  },
  {
    name: '@amplitude/session-replay-browser',
    version: '1.51.6',
    integrity: 'sha512-iA4KrGjjSG9h0HO5yM4UBhoJZlK0Rnk+iStTNmV3z41wu5GuPMnYb/MMfpHQK7Y/u3pdLQ/Jj1MYs5QlFd8ZYQ==',
    bundles: { standalone: 'lib/scripts/session-replay-browser-min.js' },
  },
];

export const packageDir = (pkg) => path.join(VENDOR_DIR, `${pkg.name.replace('@', '').replace('/', '-')}-${pkg.version}`);

export const BUNDLES = Object.fromEntries(
  PACKAGES.flatMap((pkg) =>
    Object.entries(pkg.bundles).map(([id, rel]) => [id, { pkg, file: path.join(packageDir(pkg), 'package', rel) }]),
  ),
);
