/**
 * The forms docker-compose runs: `payguard demo storefront|gateway|attacker|policy`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startPayguardCli, type Child } from './child.js';

const run = promisify(execFile);
const children: Child[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.process.exitCode === null) child.process.kill('SIGKILL');
  }
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function started(args: string[]): Child {
  const child = startPayguardCli(args);
  children.push(child);
  return child;
}

const LISTENING = /listening on (http:\/\/\S+)/;

describe('payguard demo sub-commands', () => {
  it('demo policy writes the three files, verified by the real minisign, and exits 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'payguard-demo-cli-'));
    dirs.push(dir);
    const child = started(['demo', 'policy', '--out', dir, '--site', 'http://shop.localhost:8080', '--gateway-origin', 'http://gateway.localhost:3001']);
    expect(await child.exited).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['payguard.pub', 'policy.yaml', 'policy.yaml.minisig']);
    const { stdout } = await run('minisign', ['-V', '-p', join(dir, 'payguard.pub'), '-m', join(dir, 'policy.yaml')]);
    expect(stdout).toContain('Signature and comment signature verified');
    expect(stdout).toContain('for http://shop.localhost:8080');
  });

  it('demo gateway serves the payment page and stops with exit 0 on SIGTERM', async () => {
    const child = started(['demo', 'gateway', '--listen', '127.0.0.1:0']);
    const [, url] = await child.waitFor(LISTENING);
    const res = await request(`${url}/pay`, { method: 'POST', body: 'card=4111111111111111&amount=1800', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const html = await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(html).toContain('Payment accepted');
    expect(html).not.toContain('4111');
    child.process.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(child.stdout() + child.stderr()).not.toContain('4111');
  });

  it('demo storefront serves the tampered checkout with the origins it was given', async () => {
    const child = started([
      'demo', 'storefront', '--listen', '127.0.0.1:0',
      '--public-origin', 'http://shop.localhost:8080',
      '--gateway-origin', 'http://gateway.localhost:3001',
      '--attacker-origin', 'http://attacker.localhost:3002',
    ]);
    const [, url] = await child.waitFor(LISTENING);
    const clean = await (await request(`${url}/checkout`)).body.text();
    expect(clean).toContain('action="http://gateway.localhost:3001/pay"');
    const tampered = await (await request(`${url}/checkout?variant=fake-form-2019`)).body.text();
    expect(tampered).toContain('action="http://attacker.localhost:3002/pay"');
    child.process.kill('SIGINT');
    expect(await child.exited).toBe(0);
  });

  it('demo attacker serves the skimmer aimed at itself', async () => {
    const child = started(['demo', 'attacker', '--listen', '127.0.0.1:0', '--gateway-origin', 'http://gateway.localhost:3001']);
    const [, url] = await child.waitFor(LISTENING);
    const res = await request(`${url}/skimmer.js`);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(await res.body.text()).toContain(`${url}/collect`);
    child.process.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  });

  it('refuses a missing or malformed flag with a usage error (exit 2)', async () => {
    const missing = started(['demo', 'storefront', '--listen', '127.0.0.1:0']);
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toContain('--public-origin is required');
    const bad = started(['demo', 'gateway', '--listen', 'nowhere']);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toContain('--listen must be HOST:PORT');
    const unknown = started(['demo', '--bogus']);
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr()).toContain("Unknown option '--bogus'");
  });
});
