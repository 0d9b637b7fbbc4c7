// Plain TypeScript reference of assembly/cgroup/: the same rules, written for reading, not
// for speed. The differential test and the fuzzer compare it with the Wasm core answer by
// answer (docs/policy-core.md). Integers are bigint so that i64 edges are exact.

import type { CgroupFlag, CgroupHost, CgroupWrite } from '../../ts/core/types.js';

export type { CgroupFlag, CgroupHost, CgroupWrite };

export const LAYOUT_V1 = 1;
export const LAYOUT_V2 = 2;
/** Host flag: the blkio/io controller has BFQ weight files (blkio.bfq.weight, io.bfq.weight). */
export const HOST_BFQ = 1;
/** Host flag: no swap accounting (no memory.memsw.* / memory.swap.max). */
export const HOST_NO_SWAP = 2;

export type Answer<T> = { status: 0; value: T } | { status: 1 | 2; reason: string };

export const FLAG_NAMES = [
  'memory', 'memory-swap', 'memory-reservation', 'cpus', 'cpu-shares', 'cpu-quota', 'cpu-period',
  'cpuset-cpus', 'cpuset-mems', 'pids-limit', 'blkio-weight', 'device-read-bps',
  'device-write-bps', 'device-read-iops', 'device-write-iops',
] as const;

const I64_MAX = (1n << 63n) - 1n;
const MEMORY_MIN = 6n * 1024n * 1024n;
const MEMORY_MAX = 1n << 62n;
const SHARES_MIN = 2n;
const SHARES_MAX = 262144n;
const PERIOD_DEFAULT = 100000n;
const NANO = 1000000000n;

class Refusal {
  constructor(public status: 1 | 2, public reason: string) {}
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function allDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (const c of s) if (!isDigit(c)) return false;
  return true;
}

/**
 * A size as docker's go-units RAMInBytes reads it ("512m", "1.5g", "1 GiB", "100"), binary
 * multiples, computed exactly: floor(number × multiple); fraction digits after the 15th are
 * ignored. Sizes over i64 max are refused.
 */
export function parseSize(field: string, text: string): bigint {
  const bad = new Refusal(2, `${field}: invalid size: '${text}'`);
  let i = 0;
  let intText = '';
  while (i < text.length && isDigit(text[i])) intText += text[i++];
  let fracText = '';
  let dot = false;
  if (i < text.length && text[i] === '.') {
    dot = true;
    i++;
    while (i < text.length && isDigit(text[i])) fracText += text[i++];
  }
  if (intText.length === 0 && fracText.length === 0) throw bad;
  if (dot && intText.length === 0 && fracText.length === 0) throw bad;
  if (i < text.length && text[i] === ' ') i++;
  const suffix = text.slice(i).toLowerCase();
  let shift = -1;
  if (suffix === '' || suffix === 'b') shift = 0;
  else if (suffix.length <= 3) {
    const k = 'kmgtp'.indexOf(suffix[0]);
    const rest = suffix.slice(1);
    if (k >= 0 && (rest === '' || rest === 'b' || rest === 'ib')) shift = 10 * (k + 1);
  }
  if (shift < 0) throw new Refusal(2, `${field}: invalid suffix: '${text.slice(i)}'`);
  const whole = BigInt(intText === '' ? '0' : intText);
  const frac15 = fracText.slice(0, 15);
  const multiple = 1n << BigInt(shift);
  let value = whole * multiple;
  if (frac15.length > 0) value += (BigInt(frac15) * multiple) / 10n ** BigInt(frac15.length);
  if (value > I64_MAX) throw new Refusal(2, `${field}: invalid size: '${text}' (larger than 2^63-1 bytes)`);
  return value;
}

/** A decimal integer as Go's strconv.ParseInt reads it (optional sign, digits, i64 range). */
export function parseInteger(field: string, text: string): bigint {
  let body = text;
  let negative = false;
  if (body.startsWith('+') || body.startsWith('-')) {
    negative = body[0] === '-';
    body = body.slice(1);
  }
  if (!allDigits(body)) throw new Refusal(2, `${field}: invalid argument "${text}": invalid syntax`);
  const magnitude = BigInt(body);
  const value = negative ? -magnitude : magnitude;
  if (value > I64_MAX || value < -I64_MAX - 1n) {
    throw new Refusal(2, `${field}: invalid argument "${text}": value out of range`);
  }
  return value;
}

/** `--cpus` as nano-CPUs: a decimal with at most 9 significant fraction digits. */
export function parseNanoCpus(text: string, hostCpus: bigint): bigint {
  const range = new Refusal(2, `cpus: Range of CPUs is from 0.01 to ${hostCpus}.00, as there are only ${hostCpus} CPUs available`);
  let i = 0;
  let intText = '';
  while (i < text.length && isDigit(text[i])) intText += text[i++];
  let fracText = '';
  if (i < text.length && text[i] === '.') {
    i++;
    while (i < text.length && isDigit(text[i])) fracText += text[i++];
  }
  if (i !== text.length || (intText.length === 0 && fracText.length === 0)) {
    throw new Refusal(2, `cpus: failed to parse ${text} as a rational number`);
  }
  if (/[1-9]/.test(fracText.slice(9))) throw new Refusal(2, `cpus: value is too precise: ${text}`);
  const whole = BigInt(intText === '' ? '0' : intText);
  if (whole > hostCpus) throw range;
  const nano = whole * NANO + BigInt((fracText.slice(0, 9) + '000000000').slice(0, 9));
  if (nano > hostCpus * NANO) throw range;
  if (nano !== 0n && nano < NANO / 100n) throw range;
  return nano;
}

/** A cpuset list ("0-2,4"): the highest number named, or -1 when the list is empty. */
export function parseCpuset(field: string, what: string, text: string, available: bigint, noun: string): bigint {
  const format = new Refusal(2, `${field}: Invalid value ${text} for cpuset ${what}: invalid format: ${text}`);
  let highest = -1n;
  for (const item of text.split(',')) {
    const dash = item.indexOf('-');
    let low: bigint;
    let high: bigint;
    if (dash < 0) {
      if (!allDigits(item)) throw format;
      low = high = BigInt(item);
    } else {
      const a = item.slice(0, dash);
      const b = item.slice(dash + 1);
      if (!allDigits(a) || !allDigits(b)) throw format;
      low = BigInt(a);
      high = BigInt(b);
      if (high < low) throw format;
    }
    if (high > highest) highest = high;
  }
  if (highest >= available) {
    const list = available === 1n ? '0' : `0-${available - 1n}`;
    throw new Refusal(2, `${field}: Requested ${noun} are not available - requested ${text}, available: ${list}`);
  }
  return highest;
}

/** runc's ConvertCPUSharesToCgroupV2Value since 2025 (crun's): 2 → 1, 1024 → 100, 262144 → 10000. */
export function cpuSharesToWeight(shares: bigint): bigint {
  if (shares === 0n) return 0n;
  if (shares <= 2n) return 1n;
  if (shares >= 262144n) return 10000n;
  const l = Math.log2(Number(shares));
  const exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
  return BigInt(Math.ceil(Math.pow(10, exponent)));
}

/** runc's ConvertBlkIOToIOWeightValue: 10 → 1, 500 → 4950, 1000 → 10000. */
export function blkioWeightToIoWeight(weight: bigint): bigint {
  if (weight === 0n) return 0n;
  return 1n + ((weight - 10n) * 9999n) / 990n;
}

interface Throttle {
  major: bigint;
  minor: bigint;
  key: 'rbps' | 'wbps' | 'riops' | 'wiops';
  rate: bigint;
}

const THROTTLE_KEYS: Record<string, Throttle['key']> = {
  'device-read-bps': 'rbps',
  'device-write-bps': 'wbps',
  'device-read-iops': 'riops',
  'device-write-iops': 'wiops',
};

const V1_THROTTLE_FILES: Record<Throttle['key'], string> = {
  rbps: 'blkio.throttle.read_bps_device',
  wbps: 'blkio.throttle.write_bps_device',
  riops: 'blkio.throttle.read_iops_device',
  wiops: 'blkio.throttle.write_iops_device',
};

function parseThrottle(name: string, text: string): Throttle {
  const key = THROTTLE_KEYS[name];
  const parts = text.split(':');
  if (parts.length !== 3 || !allDigits(parts[0]) || !allDigits(parts[1])) {
    throw new Refusal(1, `${name}: "${text}" is not MAJOR:MINOR:RATE`);
  }
  const major = BigInt(parts[0]);
  const minor = BigInt(parts[1]);
  if (major > 4095n || minor > 1048575n) throw new Refusal(1, `${name}: device ${parts[0]}:${parts[1]} out of range`);
  const rateText = parts[2];
  let rate: bigint;
  if (key === 'rbps' || key === 'wbps') {
    try {
      rate = parseSize(name, rateText);
    } catch {
      throw new Refusal(2, `${name}: invalid rate for device: ${rateText}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`);
    }
  } else {
    if (!allDigits(rateText) || BigInt(rateText) > (1n << 64n) - 1n) {
      throw new Refusal(2, `${name}: invalid rate for device: ${rateText}. The correct format is <device-path>:<number>. Number must be a positive integer`);
    }
    rate = BigInt(rateText);
  }
  return { major, minor, key, rate };
}

interface Resources {
  memory: bigint;
  swap: bigint;
  reservation: bigint;
  nanoCpus: bigint;
  shares: bigint;
  quota: bigint;
  period: bigint;
  cpusetCpus: string;
  cpusetMems: string;
  pids: bigint | null;
  blkioWeight: bigint;
  throttles: Throttle[];
}

function validateHost(host: CgroupHost): void {
  if (host.layout !== LAYOUT_V1 && host.layout !== LAYOUT_V2) throw new Refusal(1, `host: layout ${host.layout} (1 = v1, 2 = v2)`);
  if (host.cpus < 1n || host.cpus > 65536n) throw new Refusal(1, `host: cpus ${host.cpus} (1 to 65536)`);
  if (host.mems < 1n || host.mems > 65536n) throw new Refusal(1, `host: mems ${host.mems} (1 to 65536)`);
  if ((host.flags & ~3n) !== 0n) throw new Refusal(1, `host: flags ${host.flags} (unknown bits)`);
}

function readResources(host: CgroupHost, flags: CgroupFlag[]): Resources {
  const r: Resources = {
    memory: 0n, swap: 0n, reservation: 0n, nanoCpus: 0n, shares: 0n, quota: 0n, period: 0n,
    cpusetCpus: '', cpusetMems: '', pids: null, blkioWeight: 0n, throttles: [],
  };
  const seen = new Set<string>();
  for (const { name, value } of flags) {
    if (!(FLAG_NAMES as readonly string[]).includes(name)) throw new Refusal(1, `flag: unknown flag "${name}"`);
    if (!name.startsWith('device-')) {
      if (seen.has(name)) throw new Refusal(1, `${name}: given twice`);
      seen.add(name);
    }
    switch (name) {
      case 'memory': {
        r.memory = parseSize(name, value);
        if (r.memory !== 0n && r.memory < MEMORY_MIN) throw new Refusal(2, 'memory: Minimum memory limit allowed is 6MB');
        if (r.memory > MEMORY_MAX) throw new Refusal(2, 'memory: larger than 4 EiB');
        break;
      }
      case 'memory-swap':
        r.swap = value === '-1' ? -1n : parseSize(name, value);
        break;
      case 'memory-reservation':
        r.reservation = parseSize(name, value);
        if (r.reservation !== 0n && r.reservation < MEMORY_MIN) throw new Refusal(2, 'memory-reservation: Minimum memory reservation allowed is 6MB');
        break;
      case 'cpus':
        r.nanoCpus = parseNanoCpus(value, host.cpus);
        break;
      case 'cpu-shares':
        r.shares = parseInteger(name, value);
        if (r.shares !== 0n && (r.shares < SHARES_MIN || r.shares > SHARES_MAX)) {
          throw new Refusal(2, 'cpu-shares: must be between 2 and 262144 (0 = the default, 1024)');
        }
        break;
      case 'cpu-quota':
        r.quota = parseInteger(name, value);
        if (r.quota < -1n) throw new Refusal(2, 'cpu-quota: must be -1 (unlimited) or at least 1000');
        if (r.quota > 0n && r.quota < 1000n) throw new Refusal(2, 'cpu-quota: CPU cfs quota can not be less than 1ms (i.e. 1000)');
        break;
      case 'cpu-period':
        r.period = parseInteger(name, value);
        if (r.period !== 0n && (r.period < 1000n || r.period > 1000000n)) {
          throw new Refusal(2, 'cpu-period: CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
        }
        break;
      case 'cpuset-cpus':
        if (value !== '') parseCpuset(name, 'cpus', value, host.cpus, 'CPUs');
        r.cpusetCpus = value;
        break;
      case 'cpuset-mems':
        if (value !== '') parseCpuset(name, 'mems', value, host.mems, 'memory nodes');
        r.cpusetMems = value;
        break;
      case 'pids-limit':
        r.pids = parseInteger(name, value);
        break;
      case 'blkio-weight':
        r.blkioWeight = parseInteger(name, value);
        if (r.blkioWeight !== 0n && (r.blkioWeight < 10n || r.blkioWeight > 1000n)) {
          throw new Refusal(2, 'blkio-weight: Range of blkio weight is from 10 to 1000');
        }
        break;
      default:
        r.throttles.push(parseThrottle(name, value));
    }
  }
  // Docker's cross-field checks, in its order.
  if (r.memory > 0n && r.swap > 0n && r.swap < r.memory) {
    throw new Refusal(2, 'memory-swap: Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (r.memory === 0n && r.swap > 0n) {
    throw new Refusal(2, 'memory-swap: You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (r.memory > 0n && r.reservation > 0n && r.reservation > r.memory) {
    throw new Refusal(2, 'memory-reservation: Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (r.nanoCpus > 0n && r.period > 0n) throw new Refusal(2, 'cpus: Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (r.nanoCpus > 0n && r.quota !== 0n) throw new Refusal(2, 'cpus: Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  // Docker's defaults: swap twice the memory; --cpus as quota over a 100ms period.
  if (r.memory > 0n && r.swap === 0n) r.swap = r.memory * 2n;
  if (r.nanoCpus > 0n) {
    r.period = PERIOD_DEFAULT;
    r.quota = (r.nanoCpus * PERIOD_DEFAULT) / NANO;
  }
  return r;
}

function v1Writes(host: CgroupHost, r: Resources): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  const w = (controller: string, file: string, value: string) => out.push({ controller, file, value });
  const swapAccounting = (host.flags & BigInt(HOST_NO_SWAP)) === 0n;
  // cpuset
  if (r.cpusetCpus !== '') w('cpuset', 'cpuset.cpus', r.cpusetCpus);
  if (r.cpusetMems !== '') w('cpuset', 'cpuset.mems', r.cpusetMems);
  // memory: runc writes swap first when it raises the limit past the current (max) one.
  const swap = swapAccounting ? r.swap : 0n;
  if (r.memory !== 0n && swap === -1n) {
    w('memory', 'memory.memsw.limit_in_bytes', '-1');
    w('memory', 'memory.limit_in_bytes', r.memory.toString());
  } else {
    if (r.memory !== 0n) w('memory', 'memory.limit_in_bytes', r.memory.toString());
    if (swap !== 0n) w('memory', 'memory.memsw.limit_in_bytes', swap.toString());
  }
  if (r.reservation !== 0n) w('memory', 'memory.soft_limit_in_bytes', r.reservation.toString());
  // cpu
  if (r.shares !== 0n) w('cpu', 'cpu.shares', r.shares.toString());
  if (r.period !== 0n) w('cpu', 'cpu.cfs_period_us', r.period.toString());
  if (r.quota !== 0n) w('cpu', 'cpu.cfs_quota_us', r.quota.toString());
  // pids
  if (r.pids !== null) w('pids', 'pids.max', r.pids > 0n ? r.pids.toString() : 'max');
  // blkio
  const bfq = (host.flags & BigInt(HOST_BFQ)) !== 0n;
  if (r.blkioWeight !== 0n) w('blkio', bfq ? 'blkio.bfq.weight' : 'blkio.weight', r.blkioWeight.toString());
  for (const key of ['rbps', 'wbps', 'riops', 'wiops'] as const) {
    for (const t of r.throttles) {
      if (t.key === key) w('blkio', V1_THROTTLE_FILES[key], `${t.major}:${t.minor} ${t.rate}`);
    }
  }
  return out;
}

function v2Writes(host: CgroupHost, r: Resources): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  const w = (controller: string, file: string, value: string) => out.push({ controller, file, value });
  const swapAccounting = (host.flags & BigInt(HOST_NO_SWAP)) === 0n;
  // pids
  if (r.pids !== null) w('pids', 'pids.max', r.pids > 0n ? r.pids.toString() : 'max');
  // memory: runc's ConvertMemorySwapToCgroupV2Value (swap.max = memory+swap − memory).
  if (swapAccounting && r.swap !== 0n) {
    const swapMax = r.swap === -1n ? 'max' : (r.swap - r.memory).toString();
    w('memory', 'memory.swap.max', swapMax);
  }
  if (r.memory !== 0n) w('memory', 'memory.max', r.memory.toString());
  if (r.reservation !== 0n) w('memory', 'memory.low', r.reservation.toString());
  // io
  const bfq = (host.flags & BigInt(HOST_BFQ)) !== 0n;
  if (r.blkioWeight !== 0n) {
    if (bfq) w('io', 'io.bfq.weight', r.blkioWeight.toString());
    else w('io', 'io.weight', blkioWeightToIoWeight(r.blkioWeight).toString());
  }
  const devices: string[] = [];
  const lines = new Map<string, Map<string, bigint>>();
  for (const t of r.throttles) {
    const dev = `${t.major}:${t.minor}`;
    if (!lines.has(dev)) {
      devices.push(dev);
      lines.set(dev, new Map());
    }
    lines.get(dev)!.set(t.key, t.rate);
  }
  for (const dev of devices) {
    const keys = lines.get(dev)!;
    let line = dev;
    for (const key of ['rbps', 'wbps', 'riops', 'wiops']) {
      const rate = keys.get(key);
      if (rate !== undefined) line += ` ${key}=${rate}`;
    }
    w('io', 'io.max', line);
  }
  // cpu
  if (r.shares !== 0n) w('cpu', 'cpu.weight', cpuSharesToWeight(r.shares).toString());
  if (r.quota !== 0n || r.period !== 0n) {
    const quota = r.quota > 0n ? r.quota.toString() : 'max';
    const period = r.period !== 0n ? r.period : PERIOD_DEFAULT;
    w('cpu', 'cpu.max', `${quota} ${period}`);
  }
  // cpuset
  if (r.cpusetCpus !== '') w('cpuset', 'cpuset.cpus', r.cpusetCpus);
  if (r.cpusetMems !== '') w('cpuset', 'cpuset.mems', r.cpusetMems);
  return out;
}

/** The cgroup file writes for these flags on a host of this layout, in runc's order. */
export function cgroupWrites(host: CgroupHost, flags: CgroupFlag[]): Answer<CgroupWrite[]> {
  try {
    validateHost(host);
    const r = readResources(host, flags);
    return { status: 0, value: host.layout === LAYOUT_V1 ? v1Writes(host, r) : v2Writes(host, r) };
  } catch (e) {
    if (e instanceof Refusal) return { status: e.status, reason: e.reason };
    throw e;
  }
}
