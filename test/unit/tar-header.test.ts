import { describe, expect, it } from 'vitest';
import { BadHeader, parseHeader } from '../../ts/image/tar-header.js';
import { headerOf } from '../../ts/image/tar-writer.js';

/** A header with bytes of every value in its name, at `offset` in a bigger buffer. */
function placed(t: number, offset: number): Buffer {
  const name = Array.from({ length: 1 + (t % 99) }, (_, i) => String.fromCharCode(0x21 + ((t * 7 + i * 13) % 222))).join('');
  const h = headerOf({ name, size: t * 977, mode: 0o644, mtime: 1_700_000_000 + t, uid: t % 70_000, gid: t % 3 });
  const buf = Buffer.alloc(512 + 16);
  h.copy(buf, offset);
  return buf;
}

describe('tar header checksum', () => {
  it('is the same at every alignment in memory: good headers pass, one changed byte is caught', () => {
    for (let t = 0; t < 4000; t++) {
      const offset = t % 8; // the sum reads 4 bytes at a time only where the header is aligned
      const buf = placed(t, offset);
      expect(parseHeader(buf, offset).size).toBe(t * 977);
      // One byte outside the checksum field, before it or after it.
      const at = t % 2 ? t % 148 : 156 + (t % 356);
      buf[offset + at] ^= 1 + (t % 255);
      expect(() => parseHeader(buf, offset)).toThrow(BadHeader);
    }
  });

  it('accepts the signed sum some old tars wrote (bytes over 127 counted negative)', () => {
    const buf = placed(5, 4);
    buf[4 + 10] = 0xe9; // a name byte over 127
    let signed = 8 * 0x20;
    for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) signed += buf[4 + i] > 127 ? buf[4 + i] - 256 : buf[4 + i];
    buf.write(signed.toString(8).padStart(6, '0') + '\0 ', 4 + 148, 'latin1');
    expect(parseHeader(buf, 4).size).toBe(5 * 977);
  });
});
