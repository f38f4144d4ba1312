/**
 * `payguard demo`: payguard in front of an embedded demo shop, in one process (what `npm start`
 * runs), and the demo's parts one at a time for docker-compose (`demo storefront|gateway|attacker|policy`).
 */
import { UsageError } from '../../errors.js';
import { parseCommandLine } from '../args.js';
import type { Command } from '../command.js';
import { startAttacker } from '../../demo/attacker.js';
import { startGateway } from '../../demo/gateway.js';
import { parseOrigin, type RunningSite } from '../../demo/http.js';
import { parseListenAddress } from '../../listen.js';
import { DEMO_DEFAULTS, type DemoConfig } from '../../demo/defaults.js';
import { writeSignedDemoPolicy } from '../../demo/sign.js';
import { untilStopSignal } from '../../demo/signals.js';
import { startStorefront } from '../../demo/storefront.js';

const USAGE = `Usage:
  payguard demo [--host HOST] [--port N] [--admin-port N] [--storefront-port N]
                [--gateway-port N] [--attacker-port N]
      payguard in front of the embedded demo shop, with a policy signed at start by a
      key made on the spot. Prints the URLs to open; Ctrl-C stops everything.
      Defaults: --host ${DEMO_DEFAULTS.host}, payguard ${DEMO_DEFAULTS.ports.payguard}, admin ${DEMO_DEFAULTS.ports.admin},
      storefront ${DEMO_DEFAULTS.ports.storefront}, gateway ${DEMO_DEFAULTS.ports.gateway}, attacker ${DEMO_DEFAULTS.ports.attacker}.
      A taken port is replaced by a free one (the demo says so); 0 always picks a free one.

  payguard demo storefront --listen HOST:PORT --public-origin URL --gateway-origin URL --attacker-origin URL
      Only the demo shop. --public-origin is payguard's address (the shop as customers see it).
  payguard demo gateway --listen HOST:PORT
      Only the demo payment gateway.
  payguard demo attacker --listen HOST:PORT --gateway-origin URL
      Only the demo attacker host (look-alike payment page, skimmer script).
  payguard demo policy --out DIR --site URL --gateway-origin URL
      Writes policy.yaml, policy.yaml.minisig and payguard.pub into DIR, signed by a key made
      on the spot and then discarded; exits 0.

Tampered checkouts: add ?variant=NAME to a storefront URL (the shop's /demo page lists them):
  fake-form-2019, skimmer-script, redirect-302 (on /checkout/pay), inline-skimmer, meta-refresh,
  skimmed-bundle, carried-payment-url.
`;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run payguard in front of an embedded demo shop with tampered checkouts to try',
  usage: USAGE,
  async run(argv) {
    const [first, ...rest] = argv;
    switch (first) {
      case 'storefront':
        return serveUntilStopped('storefront', await startStorefront(storefrontArgs(rest)));
      case 'gateway':
        return serveUntilStopped('gateway', await startGateway(gatewayArgs(rest)));
      case 'attacker':
        return serveUntilStopped('attacker', await startAttacker(attackerArgs(rest)));
      case 'policy':
        return writePolicy(rest);
      default: {
        const config = demoArgs(argv);
        // Loaded only here: the proxy (parse5, verifier workers) is not needed to run one demo site.
        const { runDemo } = await import('../../demo/run.js');
        return runDemo(config);
      }
    }
  },
};

function parse<const T extends Record<string, { type: 'string' }>>(argv: readonly string[], options: T) {
  return parseCommandLine(argv, options, false).values;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined) throw new UsageError(`${flag} is required`);
  return value;
}

function demoArgs(argv: readonly string[]): DemoConfig {
  const v = parse(argv, {
    host: { type: 'string' },
    port: { type: 'string' },
    'admin-port': { type: 'string' },
    'storefront-port': { type: 'string' },
    'gateway-port': { type: 'string' },
    'attacker-port': { type: 'string' },
  });
  const d = DEMO_DEFAULTS.ports;
  return {
    host: v.host ?? DEMO_DEFAULTS.host,
    ports: {
      payguard: portFlag(v.port, '--port', d.payguard),
      admin: portFlag(v['admin-port'], '--admin-port', d.admin),
      storefront: portFlag(v['storefront-port'], '--storefront-port', d.storefront),
      gateway: portFlag(v['gateway-port'], '--gateway-port', d.gateway),
      attacker: portFlag(v['attacker-port'], '--attacker-port', d.attacker),
    },
  };
}

function portFlag(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port > 65535) throw new UsageError(`${flag} must be a port number 0-65535, got "${value}"`);
  return port;
}

function storefrontArgs(argv: readonly string[]) {
  const v = parse(argv, {
    listen: { type: 'string' },
    'public-origin': { type: 'string' },
    'gateway-origin': { type: 'string' },
    'attacker-origin': { type: 'string' },
  });
  return {
    listen: parseListenAddress('--listen', required(v.listen, '--listen')),
    publicOrigin: parseOrigin(required(v['public-origin'], '--public-origin'), '--public-origin'),
    gatewayOrigin: parseOrigin(required(v['gateway-origin'], '--gateway-origin'), '--gateway-origin'),
    attackerOrigin: parseOrigin(required(v['attacker-origin'], '--attacker-origin'), '--attacker-origin'),
  };
}

function gatewayArgs(argv: readonly string[]) {
  const v = parse(argv, { listen: { type: 'string' } });
  return { listen: parseListenAddress('--listen', required(v.listen, '--listen')) };
}

function attackerArgs(argv: readonly string[]) {
  const v = parse(argv, { listen: { type: 'string' }, 'gateway-origin': { type: 'string' } });
  return {
    listen: parseListenAddress('--listen', required(v.listen, '--listen')),
    gatewayOrigin: parseOrigin(required(v['gateway-origin'], '--gateway-origin'), '--gateway-origin'),
  };
}

async function writePolicy(argv: readonly string[]): Promise<number> {
  const v = parse(argv, { out: { type: 'string' }, site: { type: 'string' }, 'gateway-origin': { type: 'string' } });
  const files = await writeSignedDemoPolicy(required(v.out, '--out'), {
    site: parseOrigin(required(v.site, '--site'), '--site'),
    gatewayOrigin: parseOrigin(required(v['gateway-origin'], '--gateway-origin'), '--gateway-origin'),
  });
  process.stdout.write(
    `wrote ${files.policyFile}, ${files.signatureFile} and ${files.publicKeyFile} (key ${files.keyId}; its secret key was not kept)\n`,
  );
  return 0;
}

async function serveUntilStopped(what: string, site: RunningSite): Promise<number> {
  process.stdout.write(`payguard demo ${what} listening on ${site.url}\n`);
  const signal = await untilStopSignal();
  process.stdout.write(`payguard demo ${what}: ${signal}, stopping\n`);
  await site.close();
  return 0;
}
