/**
 * A real Chromium (Debian's package, driven by playwright-core) for tests where the browser is the judge.
 * .ci/run installs it with `apt-get install -y chromium`.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type LaunchOptions } from 'playwright-core';

export const CHROMIUM_PATH = process.env.PAYGUARD_CHROMIUM ?? '/usr/bin/chromium';

export interface ChromiumOptions {
  /** Send every request through this HTTP proxy (e.g. `http://127.0.0.1:PORT`), loopback included. */
  readonly proxy?: string;
}

/**
 * Launch headless Chromium with background networking off, so that only the page's own requests
 * happen (the machine's closed network refuses the rest), and with HTTPS upgrades off so http test
 * origins stay http.
 */
export async function launchChromium(options: ChromiumOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: run "apt-get install -y chromium" (see .ci/run)`);
  }
  const args = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--disable-domain-reliability',
    '--disable-client-side-phishing-detection',
    '--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,HttpsFirstModeV2,Translate,OptimizationHints,MediaRouter,AutofillServerCommunication',
  ];
  const launch: LaunchOptions = { executablePath: CHROMIUM_PATH, headless: true, args };
  if (options.proxy) {
    // '<-loopback>' makes Chromium send 127.0.0.1/localhost through the proxy too.
    launch.proxy = { server: options.proxy, bypass: '<-loopback>' };
  }
  return chromium.launch(launch);
}
