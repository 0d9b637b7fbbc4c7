// `--security-opt seccomp=FILE`: the profile file read and its JSON shape checked (types
// only). docker's format (archMap, includes/excludes) and the OCI one (architectures) are both
// taken; every name inside (actions, operators, architectures, flags, capabilities) is the
// policy core's to judge (assembly/seccomp/items.ts), which names the field.
import { closeSync, fstatSync, openSync, readSync, constants } from 'node:fs';
import { HuskError } from '../errors.js';
import type { SeccompArg, SeccompProfile, SeccompSyscall } from '../core/seccomp.js';

/** A profile larger than this is refused (docker's own is 20 KB). */
const PROFILE_BYTES_MAX = 1 << 20;

class Shape {
  constructor(private readonly file: string) {}

  fail(field: string, what: string): never {
    throw new HuskError('invalid-value', `seccomp profile ${this.file}: ${field}: ${what}`);
  }

  object(field: string, v: unknown): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, 'not an object');
    return v as Record<string, unknown>;
  }

  string(field: string, v: unknown): string {
    if (typeof v !== 'string') this.fail(field, 'not a string');
    return v;
  }

  strings(field: string, v: unknown): string[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) this.fail(field, 'not a list of strings');
    return v as string[];
  }

  /** A whole number; numbers over 2^53 were turned into strings before parsing (see `parse`). */
  number(field: string, v: unknown): number | bigint | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return BigInt(v);
    this.fail(field, 'not a whole number');
  }
}

function arg(s: Shape, field: string, v: unknown): SeccompArg {
  const o = s.object(field, v);
  return {
    index: Number(s.number(`${field}.index`, o.index) ?? s.fail(`${field}.index`, 'missing')),
    value: s.number(`${field}.value`, o.value) ?? 0,
    valueTwo: s.number(`${field}.valueTwo`, o.valueTwo) ?? 0,
    op: s.string(`${field}.op`, o.op),
  };
}

function syscall(s: Shape, field: string, v: unknown): SeccompSyscall {
  const o = s.object(field, v);
  const names = s.strings(`${field}.names`, o.names) ?? (typeof o.name === 'string' ? [o.name] : s.fail(`${field}.names`, 'missing'));
  const args = o.args === undefined || o.args === null ? undefined : Array.isArray(o.args) ? o.args.map((a, i) => arg(s, `${field}.args[${i}]`, a)) : s.fail(`${field}.args`, 'not a list');
  const errnoRet = s.number(`${field}.errnoRet`, o.errnoRet);
  const out: SeccompSyscall = { names, action: s.string(`${field}.action`, o.action), args, errnoRet: errnoRet === undefined ? undefined : Number(errnoRet) };
  if (o.includes !== undefined && o.includes !== null) {
    const inc = s.object(`${field}.includes`, o.includes);
    const minKernel = inc.minKernel === undefined || inc.minKernel === null ? undefined : s.string(`${field}.includes.minKernel`, inc.minKernel);
    out.includes = { caps: s.strings(`${field}.includes.caps`, inc.caps), arches: s.strings(`${field}.includes.arches`, inc.arches), minKernel };
  }
  if (o.excludes !== undefined && o.excludes !== null) {
    const exc = s.object(`${field}.excludes`, o.excludes);
    out.excludes = { caps: s.strings(`${field}.excludes.caps`, exc.caps), arches: s.strings(`${field}.excludes.arches`, exc.arches) };
  }
  return out;
}

/**
 * The profile in `text` (from `file`, for messages). docker's archMap gives the architectures
 * of this host's entry (SCMP_ARCH_X86_64 and its subArchitectures) when `architectures` is absent.
 */
export function parseSeccompProfile(text: string, file: string): SeccompProfile {
  const s = new Shape(file);
  let json: unknown;
  try {
    // JSON numbers over 2^53 would lose bits: values and masks are read as strings instead.
    json = JSON.parse(text.replace(/("(?:value|valueTwo)"\s*:\s*)(\d{16,})/g, '$1"$2"'));
  } catch (err) {
    s.fail('JSON', (err as Error).message);
  }
  const o = s.object('profile', json);
  let architectures = s.strings('architectures', o.architectures);
  if (architectures === undefined && Array.isArray(o.archMap)) {
    for (const [i, entry] of o.archMap.entries()) {
      const m = s.object(`archMap[${i}]`, entry);
      if (m.architecture === 'SCMP_ARCH_X86_64') architectures = [m.architecture, ...(s.strings(`archMap[${i}].subArchitectures`, m.subArchitectures) ?? [])];
    }
  }
  const errno = s.number('defaultErrnoRet', o.defaultErrnoRet);
  const syscalls = o.syscalls === undefined || o.syscalls === null ? [] : Array.isArray(o.syscalls) ? o.syscalls.map((c, i) => syscall(s, `syscalls[${i}]`, c)) : s.fail('syscalls', 'not a list');
  return {
    defaultAction: s.string('defaultAction', o.defaultAction),
    defaultErrnoRet: errno === undefined ? undefined : Number(errno),
    architectures,
    flags: s.strings('flags', o.flags),
    syscalls,
  };
}

/** Reads a profile file: a regular file of at most 1 MiB. */
export function readSeccompProfile(file: string): SeccompProfile {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new HuskError('invalid-value', `seccomp profile ${file}: ${code === 'ENOENT' ? 'no such file' : code}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new HuskError('invalid-value', `seccomp profile ${file}: not a regular file`);
    if (st.size > PROFILE_BYTES_MAX) throw new HuskError('invalid-value', `seccomp profile ${file}: larger than 1 MiB`);
    const buf = Buffer.alloc(st.size);
    let at = 0;
    while (at < buf.length) {
      const n = readSync(fd, buf, at, buf.length - at, null);
      if (n === 0) break;
      at += n;
    }
    return parseSeccompProfile(buf.toString('utf8', 0, at), file);
  } finally {
    closeSync(fd);
  }
}
