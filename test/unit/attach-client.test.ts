// The pure parts of attaching (ts/runtime/attach-client.ts, ts/cli/flags-stdio.ts): the
// detach sequence found in what is typed, the monitor's frames split out of a byte stream,
// docker's --detach-keys, and -it / -dit on the command line.
import { describe, expect, it } from 'vitest';
import { ATTACH_FRAME, DetachKeys, OutputFrames, frame, resizeFrame } from '../../ts/runtime/attach-client.js';
import { parseDetachKeys } from '../../ts/cli/flags-stdio.js';
import { parseArgs } from '../../ts/cli/args.js';

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('the detach keys', () => {
  it('detach on ctrl-p ctrl-q, sending what came before, even split across reads', () => {
    const k = new DetachKeys([0x10, 0x11]);
    expect(k.push(bytes(0x61, 0x10))).toEqual({ send: bytes(0x61), detach: false });
    expect(k.push(bytes(0x11, 0x62))).toEqual({ send: bytes(), detach: true });
  });

  it('send a held ctrl-p on as typed when the next key is another', () => {
    const k = new DetachKeys([0x10, 0x11]);
    expect(k.push(bytes(0x10, 0x61))).toEqual({ send: bytes(0x10, 0x61), detach: false });
    expect(k.push(bytes(0x10, 0x10, 0x11))).toEqual({ send: bytes(0x10), detach: true });
  });

  it('are read as docker reads --detach-keys', () => {
    expect(parseDetachKeys('ctrl-p,ctrl-q')).toEqual([0x10, 0x11]);
    expect(parseDetachKeys('ctrl-x,x')).toEqual([0x18, 0x78]);
    expect(parseDetachKeys('ctrl-@,ctrl-_')).toEqual([0, 0x1f]);
    expect(() => parseDetachKeys('ctrl-')).toThrow(/--detach-keys/);
    expect(() => parseDetachKeys('alt-x')).toThrow(/--detach-keys/);
  });
});

describe('the attach socket frames', () => {
  it('are split out of a stream cut anywhere', () => {
    const stream = Buffer.concat([frame(ATTACH_FRAME.STDOUT, Buffer.from('hi')), frame(ATTACH_FRAME.STDERR, Buffer.from('oops'))]);
    const f = new OutputFrames();
    const got = [...f.push(stream.subarray(0, 5)), ...f.push(stream.subarray(5, 13)), ...f.push(stream.subarray(13))];
    expect(got.map((x) => [x.type, x.payload.toString()])).toEqual([[0x8020, 'hi'], [0x8021, 'oops']]);
  });

  it('RESIZE carries rows then columns as u64', () => {
    const r = resizeFrame(24, 80);
    expect(r.readUInt32LE(0)).toBe(16);
    expect(r.readUInt16LE(4)).toBe(0x0059);
    expect([r.readBigUInt64LE(8), r.readBigUInt64LE(16)]).toEqual([24n, 80n]);
  });
});

describe('-i, -t on the command line', () => {
  it('combine as docker lets them: -it, -dit', () => {
    const it1 = parseArgs(['run', '-it', 'host', 'sh']);
    expect(it1.name === 'run' && it1.flags.stdio).toEqual({ tty: true, interactive: true });
    const dit = parseArgs(['run', '-dit', '--detach-keys', 'ctrl-a,b', 'host', 'sh']);
    expect(dit.name === 'run' && [dit.flags.lifecycle.detach, dit.flags.stdio]).toEqual([true, { tty: true, interactive: true, detachKeys: 'ctrl-a,b' }]);
    expect(() => parseArgs(['run', '-iz', 'host', 'sh'])).toThrow(/unknown flag: -iz/);
  });
});
