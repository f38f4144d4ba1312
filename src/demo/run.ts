/**
 * `payguard demo`: the whole picture in one process on one host. A shop, its payment gateway,
 * an attacker's look-alike host, and payguard in front of the shop with a policy signed a moment
 * ago. The newcomer opens the printed URLs and sees each tampered checkout succeed direct and
 * get blocked (and counted) through payguard.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAttacker } from './attacker.js';
import type { DemoConfig, DemoService } from './defaults.js';
import { startGateway } from './gateway.js';
import type { RunningSite } from './http.js';
import { startProtectedShop } from './payguard.js';
import { chooseAll, type ChosenPort } from './ports.js';
import { writeSignedDemoPolicy } from './sign.js';
import { untilStopSignal } from './signals.js';
import { startStorefront } from './storefront.js';
import { VARIANT_NAMES, VARIANTS, variantUrl } from './variants.js';


export async function runDemo(config: DemoConfig, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const ports = await chooseAll(config.host, config.ports);
  reportFallbacks(ports, out);
  const origin = (service: DemoService): string => `http://${hostForUrl(config.host)}:${ports[service].port}`;
  const stateDir = await mkdtemp(join(tmpdir(), 'payguard-demo-'));
  const running: { close(): Promise<void> }[] = [];
  try {
    running.push(await startGateway({ listen: { host: config.host, port: ports.gateway.port } }));
    running.push(
      await startAttacker({ listen: { host: config.host, port: ports.attacker.port }, gatewayOrigin: origin('gateway') }),
    );
    const storefront = await startStorefront({
      listen: { host: config.host, port: ports.storefront.port },
      publicOrigin: origin('payguard'),
      gatewayOrigin: origin('gateway'),
      attackerOrigin: origin('attacker'),
    });
    running.push(storefront);
    const files = await writeSignedDemoPolicy(stateDir, { site: origin('payguard'), gatewayOrigin: origin('gateway') });
    const shop = await startProtectedShop({
      upstream: storefront.url,
      listen: { host: config.host, port: ports.payguard.port },
      admin: { host: config.host, port: ports.admin.port },
      files,
      stateDir,
    });
    running.push(shop);
    out.write(banner({ ...shop, storefront, gateway: origin('gateway'), attacker: origin('attacker'), keyId: files.keyId }));
    const signal = await untilStopSignal();
    out.write(`\npayguard demo: ${signal}, shutting down\n`);
    return 0;
  } finally {
    // Last started, first stopped: payguard stops taking requests before the shop behind it goes.
    for (const service of running.reverse()) await service.close();
    await rm(stateDir, { recursive: true, force: true });
  }
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function reportFallbacks(ports: Record<DemoService, ChosenPort>, out: NodeJS.WritableStream): void {
  for (const [service, chosen] of Object.entries(ports) as [DemoService, ChosenPort][]) {
    if (chosen.fellBackFrom !== undefined) {
      out.write(`payguard demo: port ${chosen.fellBackFrom} for the ${service} is taken; using ${chosen.port} instead\n`);
    }
  }
}

interface BannerInput {
  readonly url: string;
  readonly adminUrl: string;
  readonly storefront: RunningSite;
  readonly gateway: string;
  readonly attacker: string;
  readonly keyId: string;
}

/**
 * What to open, in the order a newcomer should. The label column is stable: test/demo reads
 * the URLs from it.
 */
export function banner(b: BannerInput): string {
  const row = (label: string, url: string): string => `  ${label.padEnd(34)} ${url}\n`;
  let text = `\npayguard demo is running (policy signed just now by key ${b.keyId}; the secret key was discarded)\n\n`;
  text += row('shop through payguard', `${b.url}/`);
  text += row('shop direct (no protection)', `${b.storefront.url}/`);
  text += row('demo control page', `${b.url}/demo`);
  text += row('payment gateway', `${b.gateway}/`);
  text += row("attacker's loot", `${b.attacker}/`);
  text += row('metrics', `${b.adminUrl}/metrics`);
  text += row('health', `${b.adminUrl}/healthz`);
  text += row('readiness', `${b.adminUrl}/readyz`);
  text += '\nTampered checkouts (each works direct, and is blocked with a 502 through payguard):\n';
  for (const name of VARIANT_NAMES) {
    text += row(`${name} through payguard`, variantUrl(b.url, name));
    text += row(`${name} direct`, variantUrl(b.storefront.url, name));
    text += `  ${' '.repeat(34)} (blocked as ${VARIANTS[name].reason})\n`;
  }
  text += '\nViolations are logged below as JSON lines. Press Ctrl-C to stop.\n\n';
  return text;
}
