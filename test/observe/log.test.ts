import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, MAX_LOGGED_FINDINGS } from '../../src/observe/log.js';
import type { Finding } from '../../src/verify/types.js';
import { PolicyError } from '../../src/errors.js';

const CARD = '4111111111111111';
const CARD_GROUPED = '4111 1111 1111 1111';
const CARD_DASHED = '5500-0000-0000-0004';

function captured() {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  return {
    logger: createLogger(out),
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const skimmerFinding: Finding = {
  kind: 'form-action',
  list: 'form',
  raw: `https://pay.evil.example/collect?pan=${CARD}&cvc=123`,
  url: `https://user:pw@pay.evil.example/collect?pan=${CARD}&cvc=123#frag`,
  origin: 'https://pay.evil.example',
  element: 'form',
  attribute: 'action',
  line: 12,
  col: 5,
  allowed: false,
  reason: 'foreign-form-action',
  context: 'template',
};

describe('payguard log', () => {
  it('writes one JSON line per violation with each finding as kind, list, origin, element, line:col, reason, context', () => {
    const { logger, lines } = captured();
    logger.violation({
      requestId: 'r-1',
      method: 'POST',
      path: '/checkout/pay',
      route: '/checkout/**',
      verdict: 'blocked',
      findings: [skimmerFinding],
    });
    const [line, ...rest] = lines();
    expect(rest).toEqual([]);
    expect(line).toMatchObject({
      level: 'warn',
      event: 'violation',
      requestId: 'r-1',
      method: 'POST',
      path: '/checkout/pay',
      route: '/checkout/**',
      verdict: 'blocked',
      findings: [
        {
          kind: 'form-action',
          list: 'form',
          origin: 'https://pay.evil.example',
          url: 'https://pay.evil.example/collect',
          element: 'form',
          attribute: 'action',
          at: '12:5',
          reason: 'foreign-form-action',
          context: 'template',
        },
      ],
    });
    expect(Number.isNaN(Date.parse(String(line!.time)))).toBe(false);
  });

  it('never writes a card number or a query string value, whatever field carries it', () => {
    const { logger, text } = captured();
    logger.violation({
      requestId: 'r-2',
      method: 'GET',
      path: `/checkout/confirm?card=${CARD}&name=Taro`,
      route: '/checkout/**',
      verdict: 'blocked',
      findings: [skimmerFinding, { ...skimmerFinding, url: `https://x.example/?q=${CARD_GROUPED}`, origin: undefined }],
    });
    logger.event('request', {
      path: `/search?q=${CARD_DASHED}`,
      url: `https://shop.example/checkout?pan=${CARD}`,
      body: `cardnumber=${CARD}&cvc=123`,
      query: { pan: CARD },
      headers: { cookie: `session=${CARD}`, referer: `https://shop.example/?pan=${CARD}`, 'content-type': 'text/html' },
      note: `form field value ${CARD_GROUPED} typed by the customer`,
    });
    logger.error('upstream-error', new Error(`connect failed for https://shop.example/pay?pan=${CARD}&cvc=123`), {
      path: `/checkout/pay?pan=${CARD}`,
    });
    const out = text();
    for (const secret of [CARD, CARD_GROUPED, CARD_DASHED, 'cvc=123', 'name=Taro', 'pan=', 'q=', 'session=', 'user:pw', 'frag']) {
      expect(out).not.toContain(secret);
    }
    // Redaction removes the secret, not the context a person needs.
    expect(out).toContain('/checkout/confirm');
    expect(out).toContain('[redacted-pan]');
    expect(out).toContain('"content-type":"text/html"');
  });

  it('keeps numbers that are not card numbers (Luhn check) and keeps allowlisted headers only', () => {
    const { logger, lines } = captured();
    logger.event('slow-upstream', { bytes: 1234567890123, id: '4111111111111112', headers: [['location', '/x?y=1'], ['set-cookie', 'a=b']] });
    const [line] = lines();
    expect(line).toMatchObject({ level: 'info', event: 'slow-upstream', bytes: 1234567890123, id: '4111111111111112' });
    expect(line!.headers).toEqual({ location: '/x' });
  });

  it('logs a typed error with its code and cause', () => {
    const { logger, lines } = captured();
    logger.error('policy-reload-rejected', new PolicyError('why is required', { file: 'p.yaml', line: 3, column: 5 }), {
      file: 'p.yaml',
    });
    const [line] = lines();
    expect(line).toMatchObject({
      level: 'error',
      event: 'policy-reload-rejected',
      file: 'p.yaml',
      error: { name: 'PolicyError', code: 'PG_POLICY_INVALID', message: 'p.yaml:3:5: why is required' },
    });
  });

  it(`lists at most ${MAX_LOGGED_FINDINGS} findings and says how many more there were`, () => {
    const { logger, lines } = captured();
    const many = Array.from({ length: 120 }, (_, i) => ({ ...skimmerFinding, line: i + 1 }));
    logger.violation({ requestId: 'r', method: 'GET', path: '/', route: '/**', verdict: 'rewritten', findings: many });
    const [line] = lines();
    expect((line!.findings as unknown[]).length).toBe(MAX_LOGGED_FINDINGS);
    expect(line!.findingsOmitted).toBe(70);
  });

  it('survives a log sink that fails (EPIPE) and stops writing to it', async () => {
    let writes = 0;
    const dead = new Writable({
      write(_chunk, _enc, callback) {
        writes++;
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const logger = createLogger(dead);
    logger.event('first', {});
    await new Promise((resolve) => setImmediate(resolve));
    logger.event('second', {});
    logger.error('third', new Error('x'));
    expect(writes).toBe(1);
  });
});
