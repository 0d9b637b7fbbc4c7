// The resources a request asks for: each docker flag read once, docker's checks across flags,
// then docker's defaults (swap twice the memory, --cpus as quota over a 100 ms period).
// Controllers (memory.ts, cpu.ts, …) turn a Resources into writes for v1 or v2.

import { checkCpuset, allDigits, digitsValue, Outcome, parseInteger, parseNanoCpus, parseSize } from "./parse";
import { checkMemory, memoryDefaults, readMemoryFlag } from "./memory";

export const LAYOUT_V1: u64 = 1;
export const LAYOUT_V2: u64 = 2;
/** Host flag bit 0: BFQ weight files (blkio.bfq.weight / io.bfq.weight). */
export const HOST_BFQ: u64 = 1;
/** Host flag bit 1: no swap accounting (no memory.memsw.* / memory.swap.max). */
export const HOST_NO_SWAP: u64 = 2;
export const HOST_FLAGS_KNOWN: u64 = 3;
export const HOST_CPUS_MAX: u64 = 65536;

export const PERIOD_DEFAULT: i64 = 100000;
const NANO: i64 = 1000000000;

export const KEY_RBPS: i32 = 0;
export const KEY_WBPS: i32 = 1;
export const KEY_RIOPS: i32 = 2;
export const KEY_WIOPS: i32 = 3;

export class Host {
  layout: u64 = 0;
  cpus: u64 = 0;
  mems: u64 = 0;
  flags: u64 = 0;

  get bfq(): bool {
    return (this.flags & HOST_BFQ) != 0;
  }

  get swapAccounting(): bool {
    return (this.flags & HOST_NO_SWAP) == 0;
  }
}

export class Throttle {
  constructor(public major: u64, public minor: u64, public key: i32, public rate: u64) {}
}

export class Write {
  constructor(public controller: string, public file: string, public value: string) {}
}

export class Resources {
  memory: i64 = 0;
  swap: i64 = 0;
  reservation: i64 = 0;
  nanoCpus: i64 = 0;
  shares: i64 = 0;
  quota: i64 = 0;
  period: i64 = 0;
  cpusetCpus: string = "";
  cpusetMems: string = "";
  hasPids: bool = false;
  pids: i64 = 0;
  blkioWeight: i64 = 0;
  throttles: Throttle[] = [];
}

/** The resource flags, docker's names without `--`, in the order `husk info` shows them. */
export const FLAG_NAMES: string[] = [
  "memory", "memory-swap", "memory-reservation", "cpus", "cpu-shares", "cpu-quota", "cpu-period",
  "cpuset-cpus", "cpuset-mems", "pids-limit", "blkio-weight", "device-read-bps",
  "device-write-bps", "device-read-iops", "device-write-iops",
];
/** The controller a resource flag needs, by its v1 name (the one table of flag → controller). */
export function controllerOfFlag(flag: string): string {
  if (flag.startsWith("memory")) return "memory";
  if (flag.startsWith("cpuset")) return "cpuset";
  if (flag == "cpus" || flag.startsWith("cpu-")) return "cpu";
  if (flag == "pids-limit") return "pids";
  return "blkio";
}

/** The v2 name of a v1 controller (blkio is io on v2). */
export function v2Name(controller: string): string {
  return controller == "blkio" ? "io" : controller;
}

const F_MEMORY = 0;
const F_SWAP = 1;
const F_RESERVATION = 2;
const F_CPUS = 3;
const F_SHARES = 4;
const F_QUOTA = 5;
const F_PERIOD = 6;
const F_CPUSET_CPUS = 7;
const F_CPUSET_MEMS = 8;
const F_PIDS = 9;
const F_BLKIO_WEIGHT = 10;
const F_DEVICE_FIRST = 11;

export function checkHost(out: Outcome, host: Host): void {
  if (host.layout != LAYOUT_V1 && host.layout != LAYOUT_V2) {
    out.malformed("host: layout " + host.layout.toString() + " (1 = v1, 2 = v2)");
  } else if (host.cpus < 1 || host.cpus > HOST_CPUS_MAX) {
    out.malformed("host: cpus " + host.cpus.toString() + " (1 to 65536)");
  } else if (host.mems < 1 || host.mems > HOST_CPUS_MAX) {
    out.malformed("host: mems " + host.mems.toString() + " (1 to 65536)");
  } else if ((host.flags & ~HOST_FLAGS_KNOWN) != 0) {
    out.malformed("host: flags " + host.flags.toString() + " (unknown bits)");
  }
}

function readThrottle(out: Outcome, name: string, key: i32, text: string, r: Resources): void {
  const parts = text.split(":");
  if (parts.length != 3 || !allDigits(parts[0]) || !allDigits(parts[1])) {
    out.malformed(name + ": \"" + text + "\" is not MAJOR:MINOR:RATE");
    return;
  }
  const major = digitsValue(parts[0], 0, parts[0].length);
  const minor = digitsValue(parts[1], 0, parts[1].length);
  if (major > 4095 || minor > 1048575) {
    out.malformed(name + ": device " + parts[0] + ":" + parts[1] + " out of range");
    return;
  }
  const rateText = parts[2];
  let rate: u64 = 0;
  if (key == KEY_RBPS || key == KEY_WBPS) {
    const probe = new Outcome();
    rate = <u64>parseSize(probe, name, rateText);
    if (!probe.ok) {
      out.refuse(name + ": invalid rate for device: " + rateText +
        ". The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb");
      return;
    }
  } else {
    if (!allDigits(rateText) || compareDecimal20(rateText)) {
      out.refuse(name + ": invalid rate for device: " + rateText +
        ". The correct format is <device-path>:<number>. Number must be a positive integer");
      return;
    }
    rate = digitsValue(rateText, 0, rateText.length);
  }
  r.throttles.push(new Throttle(major, minor, key, rate));
}

/** True when a digit string is above u64 max. */
function compareDecimal20(s: string): bool {
  let i = 0;
  while (i < s.length - 1 && s.charCodeAt(i) == 48) i++;
  const n = s.length - i;
  if (n != 20) return n > 20;
  const max = "18446744073709551615";
  for (let k = 0; k < 20; k++) {
    const c = s.charCodeAt(i + k);
    const m = max.charCodeAt(k);
    if (c != m) return c > m;
  }
  return false;
}

/** Reads one flag into `r`; `seen` is a bit set of the flags read so far. */
export function readFlag(out: Outcome, host: Host, name: string, value: string, r: Resources, seen: u32[]): void {
  let id = -1;
  for (let k = 0; k < FLAG_NAMES.length; k++) {
    if (FLAG_NAMES[k] == name) {
      id = k;
      break;
    }
  }
  if (id < 0) {
    out.malformed("flag: unknown flag \"" + name + "\"");
    return;
  }
  if (id < F_DEVICE_FIRST) {
    if ((seen[0] & (1 << id)) != 0) {
      out.malformed(name + ": given twice");
      return;
    }
    seen[0] |= 1 << id;
  }
  switch (id) {
    case F_MEMORY:
    case F_SWAP:
    case F_RESERVATION:
      readMemoryFlag(out, id - F_MEMORY, name, value, r);
      break;
    case F_CPUS:
      r.nanoCpus = parseNanoCpus(out, value, host.cpus);
      break;
    case F_SHARES: {
      r.shares = parseInteger(out, name, value);
      if (out.ok && r.shares != 0 && (r.shares < 2 || r.shares > 262144)) {
        out.refuse("cpu-shares: must be between 2 and 262144 (0 = the default, 1024)");
      }
      break;
    }
    case F_QUOTA: {
      r.quota = parseInteger(out, name, value);
      if (!out.ok) return;
      if (r.quota < -1) out.refuse("cpu-quota: must be -1 (unlimited) or at least 1000");
      else if (r.quota > 0 && r.quota < 1000) out.refuse("cpu-quota: CPU cfs quota can not be less than 1ms (i.e. 1000)");
      break;
    }
    case F_PERIOD: {
      r.period = parseInteger(out, name, value);
      if (out.ok && r.period != 0 && (r.period < 1000 || r.period > 1000000)) {
        out.refuse("cpu-period: CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
      }
      break;
    }
    case F_CPUSET_CPUS:
      if (value.length > 0) checkCpuset(out, name, "cpus", value, host.cpus, "CPUs");
      r.cpusetCpus = value;
      break;
    case F_CPUSET_MEMS:
      if (value.length > 0) checkCpuset(out, name, "mems", value, host.mems, "memory nodes");
      r.cpusetMems = value;
      break;
    case F_PIDS:
      r.pids = parseInteger(out, name, value);
      r.hasPids = true;
      break;
    case F_BLKIO_WEIGHT: {
      r.blkioWeight = parseInteger(out, name, value);
      if (out.ok && r.blkioWeight != 0 && (r.blkioWeight < 10 || r.blkioWeight > 1000)) {
        out.refuse("blkio-weight: Range of blkio weight is from 10 to 1000");
      }
      break;
    }
    default:
      readThrottle(out, name, id - F_DEVICE_FIRST, value, r);
  }
}

/** Docker's checks across flags (in its order), then its defaults. */
export function finishResources(out: Outcome, r: Resources): void {
  if (!out.ok) return;
  checkMemory(out, r);
  if (!out.ok) return;
  if (r.nanoCpus > 0 && r.period > 0) {
    out.refuse("cpus: Conflicting options: Nano CPUs and CPU Period cannot both be set");
  } else if (r.nanoCpus > 0 && r.quota != 0) {
    out.refuse("cpus: Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  }
  if (!out.ok) return;
  memoryDefaults(r);
  if (r.nanoCpus > 0) {
    r.period = PERIOD_DEFAULT;
    r.quota = r.nanoCpus * PERIOD_DEFAULT / NANO;
  }
}
