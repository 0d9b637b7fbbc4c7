// The client side of a monitor's attach socket (docs/protocol.md "The attach socket"), for
// `husk attach` and `husk run -t`: the container's output frames to our stdout and stderr,
// our stdin to INPUT frames, our terminal's size to RESIZE (now and on every SIGWINCH), the
// terminal in raw mode while attached (restored however we leave), and the detach keys
// (ctrl-p ctrl-q unless --detach-keys says otherwise) to leave the container running.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { basename, dirname } from 'node:path';
import { HuskError } from '../errors.js';

export const ATTACH_FRAME = { INPUT: 0x0058, RESIZE: 0x0059, INPUT_END: 0x005a, STDOUT: 0x8020, STDERR: 0x8021 } as const;
const INPUT_BYTES_MAX = 4096;
export const DEFAULT_DETACH_KEYS = [0x10, 0x11]; // ctrl-p ctrl-q

export interface AttachOptions {
  /** Send our stdin (the container keeps its stdin open: -i). */
  stdin: boolean;
  /** The container has a pty: raw mode, window size, detach keys. */
  tty: boolean;
  detachKeys?: readonly number[];
  /** How long to keep trying while the socket is not there yet (run -t starts it). */
  connectMs?: number;
}

export function frame(type: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.alloc(8 + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt16LE(type, 4);
  out.set(payload, 8);
  return out;
}

export function resizeFrame(rows: number, cols: number): Buffer {
  const p = Buffer.alloc(16);
  p.writeBigUInt64LE(BigInt(rows), 0);
  p.writeBigUInt64LE(BigInt(cols), 8);
  return frame(ATTACH_FRAME.RESIZE, p);
}

/** Splits the monitor's frames out of a byte stream. */
export class OutputFrames {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { type: number; payload: Buffer }[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const out: { type: number; payload: Buffer }[] = [];
    while (this.buffered.length >= 8) {
      const length = this.buffered.readUInt32LE(0);
      if (this.buffered.length < 8 + length) break;
      out.push({ type: this.buffered.readUInt16LE(4), payload: this.buffered.subarray(8, 8 + length) });
      this.buffered = this.buffered.subarray(8 + length);
    }
    return out;
  }
}

/**
 * Finds the detach sequence in what is typed: bytes that may start it are held back until
 * they do not (then they go on, as typed) or they complete it.
 */
export class DetachKeys {
  private held: number[] = [];
  constructor(private readonly keys: readonly number[]) {}

  /** The bytes to send, and whether the sequence was typed (nothing after it is sent). */
  push(chunk: Uint8Array): { send: Uint8Array; detach: boolean } {
    const send: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.held.length]) {
        this.held.push(byte);
        if (this.held.length === this.keys.length) return { send: Uint8Array.from(send), detach: true };
        continue;
      }
      send.push(...this.held);
      this.held = [];
      if (byte === this.keys[0]) this.held.push(byte);
      else send.push(byte);
    }
    return { send: Uint8Array.from(send), detach: false };
  }
}

/** Connects through the directory's fd: a state directory's path may be longer than sun_path allows. */
async function connectTo(path: string, waitMs: number): Promise<Socket> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    let dir: number | undefined;
    try {
      dir = openSync(dirname(path), 'r');
      const via = `/proc/self/fd/${dir}/${basename(path)}`;
      const socket = await new Promise<Socket>((resolve, reject) => {
        const s = connect(via);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
      return socket;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ECONNREFUSED') || Date.now() > deadline) {
        throw new HuskError('invalid-value', `cannot attach: the container's monitor does not answer (${code ?? (err as Error).message})`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 5));
    } finally {
      if (dir !== undefined) closeSync(dir);
    }
  }
}

/**
 * stty(1) on our terminal: node's setRawMode keeps output processing (ONLCR), so the pty's
 * `\r\n` would reach the terminal as `\r\r\n`; `stty raw` is cfmakeraw, as docker's client.
 */
function stty(args: string[]): string | undefined {
  const r = spawnSync('stty', args, { stdio: ['inherit', 'pipe', 'ignore'], encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Our terminal raw, no echo; returns its settings before (`stty -g`), to put back. */
function makeRaw(): string | undefined {
  const saved = stty(['-g']);
  if (saved !== undefined) stty(['raw', '-echo']);
  return saved;
}

/** Attached until the container ends ('ended': the monitor closed the socket) or we detach. */
export async function attach(socketPath: string, opts: AttachOptions): Promise<'ended' | 'detached'> {
  const socket = await connectTo(socketPath, opts.connectMs ?? 0);
  const stdin = process.stdin;
  const saved = opts.tty && opts.stdin && stdin.isTTY === true ? makeRaw() : undefined;
  const restore = () => {
    if (saved !== undefined) stty([saved]);
  };
  process.once('exit', restore);
  const onResize = () => {
    if (process.stdout.rows && process.stdout.columns) socket.write(resizeFrame(process.stdout.rows, process.stdout.columns));
  };
  if (opts.tty && process.stdout.isTTY) {
    onResize();
    process.stdout.on('resize', onResize);
  }
  const keys = opts.tty ? new DetachKeys(opts.detachKeys ?? DEFAULT_DETACH_KEYS) : undefined;
  try {
    return await new Promise<'ended' | 'detached'>((resolve) => {
      const frames = new OutputFrames();
      socket.on('data', (chunk: Buffer) => {
        for (const f of frames.push(chunk)) {
          if (f.type === ATTACH_FRAME.STDOUT) process.stdout.write(f.payload);
          else if (f.type === ATTACH_FRAME.STDERR) process.stderr.write(f.payload);
        }
      });
      socket.on('error', () => resolve('ended'));
      socket.on('close', () => resolve('ended'));
      if (!opts.stdin) return;
      stdin.on('data', (chunk: Buffer) => {
        const { send, detach } = keys ? keys.push(chunk) : { send: chunk, detach: false };
        for (let at = 0; at < send.length; at += INPUT_BYTES_MAX) socket.write(frame(ATTACH_FRAME.INPUT, send.subarray(at, at + INPUT_BYTES_MAX)));
        if (detach) {
          socket.end();
          resolve('detached');
        }
      });
      // Our stdin ended (a pipe, a file): so does the container's, unless it has a pty.
      stdin.once('end', () => {
        if (!opts.tty) socket.write(frame(ATTACH_FRAME.INPUT_END));
      });
      stdin.resume();
    });
  } finally {
    process.stdout.off('resize', onResize);
    restore();
    process.off('exit', restore);
    if (opts.stdin) stdin.destroy();
    socket.destroy();
  }
}
