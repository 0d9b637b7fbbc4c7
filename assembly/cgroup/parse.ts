// Parsing the human strings of docker's resource flags (docs/policy-core.md "Values"): sizes
// as go-units RAMInBytes reads them ("512m"), integers as strconv.ParseInt, `--cpus` as
// nano-CPUs, cpuset lists ("0-2,4"). Pure and exact (no floats); a refusal is a status-2
// Failure whose reason starts with the flag's name.

import { Failure, invalid, malformed } from "../abi";

export const I64_MAX: u64 = 0x7fffffffffffffff;
const NANO: u64 = 1000000000;

/** Where the first refusal of a request is kept; later checks see it and stop. */
export class Outcome {
  failure: Failure | null = null;

  get ok(): bool {
    return this.failure === null;
  }

  refuse(reason: string): void {
    if (this.failure === null) this.failure = invalid(reason);
  }

  malformed(reason: string): void {
    if (this.failure === null) this.failure = malformed(reason);
  }
}

@inline function isDigit(c: i32): bool {
  return c >= 48 && c <= 57;
}

export function allDigits(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/** Digits → u64, saturating at u64 max. */
export function digitsValue(s: string, start: i32, end: i32): u64 {
  let v: u64 = 0;
  for (let i = start; i < end; i++) {
    const d = <u64>(s.charCodeAt(i) - 48);
    if (v > (<u64>0xffffffffffffffff - d) / 10) return <u64>0xffffffffffffffff;
    v = v * 10 + d;
  }
  return v;
}

/** Compares two digit strings as numbers: -1, 0, 1. */
export function compareDecimal(a: string, b: string): i32 {
  let i = 0;
  while (i < a.length - 1 && a.charCodeAt(i) == 48) i++;
  let j = 0;
  while (j < b.length - 1 && b.charCodeAt(j) == 48) j++;
  const la = a.length - i;
  const lb = b.length - j;
  if (la != lb) return la < lb ? -1 : 1;
  for (let k = 0; k < la; k++) {
    const x = a.charCodeAt(i + k);
    const y = b.charCodeAt(j + k);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

function lower(c: i32): i32 {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** The shift of a size suffix ("", b, k, kb, kib, … p, pb, pib; any case), or -1. */
function suffixShift(text: string, from: i32): i32 {
  const n = text.length - from;
  if (n == 0) return 0;
  const c0 = lower(text.charCodeAt(from));
  if (n == 1 && c0 == 98) return 0; // "b"
  if (n > 3) return -1;
  let k = -1;
  if (c0 == 107) k = 1; // k
  else if (c0 == 109) k = 2; // m
  else if (c0 == 103) k = 3; // g
  else if (c0 == 116) k = 4; // t
  else if (c0 == 112) k = 5; // p
  if (k < 0) return -1;
  if (n == 2 && lower(text.charCodeAt(from + 1)) != 98) return -1;
  if (n == 3 && (lower(text.charCodeAt(from + 1)) != 105 || lower(text.charCodeAt(from + 2)) != 98)) return -1;
  return 10 * k;
}

/** A size in bytes: floor(number × multiple), fraction digits after the 15th ignored. */
export function parseSize(out: Outcome, field: string, text: string): i64 {
  const n = text.length;
  let i = 0;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  const intEnd = i;
  let fracStart = i;
  let fracEnd = i;
  if (i < n && text.charCodeAt(i) == 46) {
    i++;
    fracStart = i;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    fracEnd = i;
  }
  if (intEnd == 0 && fracEnd == fracStart) {
    out.refuse(field + ": invalid size: '" + text + "'");
    return 0;
  }
  if (i < n && text.charCodeAt(i) == 32) i++;
  const shift = suffixShift(text, i);
  if (shift < 0) {
    out.refuse(field + ": invalid suffix: '" + text.substring(i) + "'");
    return 0;
  }
  const whole = digitsValue(text, 0, intEnd);
  const tooLarge = field + ": invalid size: '" + text + "' (larger than 2^63-1 bytes)";
  if (whole > (I64_MAX >> <u64>shift)) {
    out.refuse(tooLarge);
    return 0;
  }
  let value = whole << <u64>shift;
  let digits = fracEnd - fracStart;
  if (digits > 15) digits = 15;
  if (digits > 0 && shift > 0) {
    let denominator: u64 = 1;
    for (let d = 0; d < digits; d++) denominator *= 10;
    // floor(f × 2^shift / 10^digits), exactly: multiply by 2 one bit at a time.
    let rem = digitsValue(text, fracStart, fracStart + digits);
    let part: u64 = 0;
    for (let s = 0; s < shift; s++) {
      rem <<= 1;
      part = (part << 1) + rem / denominator;
      rem %= denominator;
    }
    if (part > I64_MAX - value) {
      out.refuse(tooLarge);
      return 0;
    }
    value += part;
  }
  return <i64>value;
}

/** A decimal integer as strconv.ParseInt(text, 10, 64) reads it. */
export function parseInteger(out: Outcome, field: string, text: string): i64 {
  let start = 0;
  let negative = false;
  if (text.length > 0) {
    const c = text.charCodeAt(0);
    if (c == 43 || c == 45) {
      negative = c == 45;
      start = 1;
    }
  }
  if (start == text.length) {
    out.refuse(field + ": invalid argument \"" + text + "\": invalid syntax");
    return 0;
  }
  for (let i = start; i < text.length; i++) {
    if (!isDigit(text.charCodeAt(i))) {
      out.refuse(field + ": invalid argument \"" + text + "\": invalid syntax");
      return 0;
    }
  }
  const magnitude = digitsValue(text, start, text.length);
  const limit: u64 = negative ? I64_MAX + 1 : I64_MAX;
  if (magnitude > limit) {
    out.refuse(field + ": invalid argument \"" + text + "\": value out of range");
    return 0;
  }
  return negative ? <i64>(0 - magnitude) : <i64>magnitude;
}

/** `--cpus` as nano-CPUs; 0 means unset; otherwise from 0.01 to the host's count. */
export function parseNanoCpus(out: Outcome, text: string, hostCpus: u64): i64 {
  const n = text.length;
  let i = 0;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  const intEnd = i;
  let fracStart = i;
  let fracEnd = i;
  if (i < n && text.charCodeAt(i) == 46) {
    i++;
    fracStart = i;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    fracEnd = i;
  }
  if (i != n || (intEnd == 0 && fracEnd == fracStart)) {
    out.refuse("cpus: failed to parse " + text + " as a rational number");
    return 0;
  }
  for (let k = fracStart + 9; k < fracEnd; k++) {
    if (text.charCodeAt(k) != 48) {
      out.refuse("cpus: value is too precise: " + text);
      return 0;
    }
  }
  const range = "cpus: Range of CPUs is from 0.01 to " + hostCpus.toString() + ".00, as there are only " +
    hostCpus.toString() + " CPUs available";
  const whole = digitsValue(text, 0, intEnd);
  if (whole > hostCpus) {
    out.refuse(range);
    return 0;
  }
  let frac: u64 = 0;
  for (let k = 0; k < 9; k++) {
    const at = fracStart + k;
    frac = frac * 10 + (at < fracEnd ? <u64>(text.charCodeAt(at) - 48) : 0);
  }
  const nano = whole * NANO + frac;
  if (nano > hostCpus * NANO || (nano != 0 && nano < NANO / 100)) {
    out.refuse(range);
    return 0;
  }
  return <i64>nano;
}

/** Checks a cpuset list ("0-2,4") against `available` ids (0 … available−1). */
export function checkCpuset(out: Outcome, field: string, what: string, text: string, available: u64, noun: string): void {
  const items = text.split(",");
  let highest: u64 = 0;
  let any = false;
  for (let k = 0; k < items.length; k++) {
    const item = items[k];
    const dash = item.indexOf("-");
    let high: u64 = 0;
    if (dash < 0) {
      if (!allDigits(item)) {
        out.refuse(field + ": Invalid value " + text + " for cpuset " + what + ": invalid format: " + text);
        return;
      }
      high = digitsValue(item, 0, item.length);
    } else {
      const a = item.substring(0, dash);
      const b = item.substring(dash + 1);
      if (!allDigits(a) || !allDigits(b) || compareDecimal(b, a) < 0) {
        out.refuse(field + ": Invalid value " + text + " for cpuset " + what + ": invalid format: " + text);
        return;
      }
      high = digitsValue(b, 0, b.length);
    }
    if (!any || high > highest) highest = high;
    any = true;
  }
  if (highest >= available) {
    const list = available == 1 ? "0" : "0-" + (available - 1).toString();
    out.refuse(field + ": Requested " + noun + " are not available - requested " + text + ", available: " + list);
  }
}
