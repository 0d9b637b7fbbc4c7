// Reads the container log the monitor writes (docs/protocol.md "The container log"): CRI
// lines, `<RFC3339Nano time> <stdout|stderr> <F|P> <text>`. A P line is a piece of a line the
// container had not ended when the monitor read it: it is joined with what follows on the
// same stream, up to the next F line. Pure: bytes in, messages out.

export type LogStream = 'stdout' | 'stderr';

export interface LogMessage {
  /** The time of the message's first piece, as written: `2026-12-03T07:15:00.123456789Z`. */
  time: string;
  /** Nanoseconds since 1970, for --since and --until. */
  timeNs: bigint;
  stream: LogStream;
  /** The text with its newline: pieces joined, a message still open has none. */
  text: string;
}

const LINE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})) (stdout|stderr) ([FP]) (.*)$/s;

/** Nanoseconds since 1970 of an RFC 3339 time (up to 9 fraction digits), or undefined. */
export function rfc3339Ns(text: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** Splits log bytes into messages; feed it chunks in order, then `end()`. */
export class CriLogReader {
  private rest = '';
  private readonly open: Partial<Record<LogStream, LogMessage>> = {};
  private readonly decoder = new TextDecoder('utf-8');

  push(chunk: Uint8Array): LogMessage[] {
    const text = this.rest + this.decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    const out: LogMessage[] = [];
    for (const line of lines) this.line(line, out);
    return out;
  }

  /** What is left: a message whose last piece was P (the container's output ended there). */
  end(): LogMessage[] {
    const out: LogMessage[] = [];
    if (this.rest !== '') this.line(this.rest, out);
    this.rest = '';
    for (const stream of ['stdout', 'stderr'] as const) {
      const m = this.open[stream];
      if (m) out.push(m);
      delete this.open[stream];
    }
    return out;
  }

  /**
   * The text of lines not ended yet, taken now (a prompt, for `logs -f`): what follows on
   * their streams comes later as the rest of the same line.
   */
  takeOpen(): LogMessage[] {
    const out: LogMessage[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const m = this.open[stream];
      if (!m || m.text === '') continue;
      out.push({ ...m });
      m.text = '';
    }
    return out;
  }

  private line(line: string, out: LogMessage[]): void {
    const m = LINE.exec(line);
    if (!m) return; // Not the monitor's (a foreign or torn line): skipped, as docker's reader does.
    const timeNs = rfc3339Ns(m[1]);
    if (timeNs === undefined) return;
    const stream = m[2] as LogStream;
    const partial = m[3] === 'P';
    const open = this.open[stream];
    const message = open ?? { time: m[1], timeNs, stream, text: '' };
    message.text += partial ? m[4] : `${m[4]}\n`;
    if (partial) {
      this.open[stream] = message;
      return;
    }
    delete this.open[stream];
    out.push(message);
  }
}

/** Every message of a whole log. */
export function readCriLog(bytes: Uint8Array): LogMessage[] {
  const reader = new CriLogReader();
  return [...reader.push(bytes), ...reader.end()];
}
