import { describe, expect, it } from 'vitest';
import { upstreamAcceptEncoding } from '../../src/proxy/document/content-coding.js';

// payguard serves a clean page as the upstream's original bytes, so it may only ask the upstream
// for codings the client can read, and only those payguard can decode to verify (H-01).
describe('Accept-Encoding sent upstream on the document path', () => {
  it('keeps only the codings the client offered that payguard decodes', () => {
    expect(upstreamAcceptEncoding(['gzip, deflate, br, zstd, dcb'])).toMatch(/^gzip, deflate, br(, zstd)?$/);
    expect(upstreamAcceptEncoding(['gzip'])).toBe('gzip');
    expect(upstreamAcceptEncoding(['x-gzip;q=0.5'])).toBe('gzip');
  });

  it('asks for identity when the client offered nothing payguard can decode', () => {
    expect(upstreamAcceptEncoding([])).toBe('identity');
    expect(upstreamAcceptEncoding(['dcb, dcz'])).toBe('identity');
    expect(upstreamAcceptEncoding(['gzip;q=0, br;q=0'])).toBe('identity');
  });

  it('reads * as any coding and honours q=0 exclusions across several header lines', () => {
    expect(upstreamAcceptEncoding(['*'])).toMatch(/^gzip, deflate, br/);
    expect(upstreamAcceptEncoding(['*', 'br;q=0'])).not.toContain('br');
  });
});
