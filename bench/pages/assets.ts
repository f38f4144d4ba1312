/**
 * The static assets a checkout page loads (50 KB each): a script, a stylesheet and an image.
 * payguard must stream these through untouched, so they measure its non-document path.
 */
import { crc32, deflateSync } from 'node:zlib';
import { seededRandom } from './random.js';

export const ASSET_BYTES = 50 * 1024;

export function scriptAsset(targetBytes = ASSET_BYTES): Buffer {
  const parts: string[] = ['"use strict";\n'];
  let bytes = parts[0]!.length;
  for (let i = 0; bytes < targetBytes; i += 1) {
    const part = `function updateCartLine${i}(cart, sku, quantity) {\n  const line = cart.lines.find((l) => l.sku === sku);\n  if (!line) return cart;\n  line.quantity = Math.max(0, Math.min(9, quantity));\n  cart.total = cart.lines.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0);\n  document.dispatchEvent(new CustomEvent('cart:changed', { detail: { sku, quantity: line.quantity } }));\n  return cart;\n}\n`;
    parts.push(part);
    bytes += part.length;
  }
  return Buffer.from(parts.join('').slice(0, targetBytes));
}

export function styleAsset(targetBytes = ASSET_BYTES): Buffer {
  const parts: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < targetBytes; i += 1) {
    const part = `.product-card:nth-child(${i + 1}) .name { color: #${(0x203040 + i * 97).toString(16).slice(-6)}; font: 500 14px/1.4 "Noto Sans JP", sans-serif; }\n.checkout .step-${i} { margin: ${i % 16}px 0; padding: 4px 8px; border-bottom: 1px solid #e5e5e5; }\n`;
    parts.push(part);
    bytes += part.length;
  }
  return Buffer.from(parts.join('').slice(0, targetBytes));
}

/**
 * A valid PNG (RGB, 8 bits) of noise, sized so the file is about `targetBytes`: noise does not
 * compress, as a real photo's JPEG or PNG data barely does. PNG chunks: ISO/IEC 15948 §5.3.
 */
export function imageAsset(targetBytes = ASSET_BYTES): Buffer {
  const side = Math.ceil(Math.sqrt(targetBytes / 3));
  const random = seededRandom(50);
  const raw = Buffer.alloc(side * (side * 3 + 1));
  for (let row = 0; row < side; row += 1) {
    const start = row * (side * 3 + 1);
    raw[start] = 0; // filter type None
    for (let i = 1; i <= side * 3; i += 1) raw[start + i] = Math.floor(random() * 256);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type 2 (RGB), deflate, adaptive filters, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}
