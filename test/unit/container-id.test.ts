// Container ids come from /dev/urandom; a host that gives a short read is named ('host'),
// not reported as a bug in husk.
import { afterEach, describe, expect, it, vi } from 'vitest';

// readSync passes through unless a test asks for a short read.
const short = vi.hoisted(() => ({ on: false }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const readSync = ((...args: Parameters<typeof fs.readSync>) => (short.on ? 7 : fs.readSync(...args))) as typeof fs.readSync;
  return { ...fs, default: { ...fs, readSync }, readSync };
});

const { newContainerId } = await import('../../ts/runtime/prepare.js');
const { HuskError, messageOf } = await import('../../ts/errors.js');

afterEach(() => {
  short.on = false;
});

describe('newContainerId', () => {
  it('is 64 hex digits, different each time', () => {
    const a = newContainerId();
    const b = newContainerId();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(b).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
  });

  it("a short read from /dev/urandom is a 'host' error with its own words, and the next call reads again", () => {
    // Ids come 8 to a read (256 bytes): within 9 calls one must read /dev/urandom again.
    short.on = true;
    let err: unknown;
    for (let i = 0; i < 9 && err === undefined; i++) {
      try {
        newContainerId();
      } catch (e) {
        err = e;
      }
    }
    expect(err).toBeInstanceOf(HuskError);
    expect((err as InstanceType<typeof HuskError>).code).toBe('host');
    expect(messageOf(err)).toBe('read /dev/urandom: a short read (7 of 256 bytes)');
    short.on = false;
    expect(newContainerId()).toMatch(/^[0-9a-f]{64}$/);
  });
});
