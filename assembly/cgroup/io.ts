// blkio (v1) and io (v2): weight and throttles (runc fs/blkio.go, fs2/io.go).

import { Host, KEY_RBPS, KEY_RIOPS, KEY_WBPS, KEY_WIOPS, Resources, Throttle, Write } from "./resources";

const V1_FILES: string[] = [
  "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
  "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device",
];
const V2_KEYS: string[] = ["rbps", "wbps", "riops", "wiops"];

/** runc's ConvertBlkIOToIOWeightValue: [10, 1000] → [1, 10000]. */
export function blkioWeightToIoWeight(weight: u64): u64 {
  if (weight == 0) return 0;
  return 1 + (weight - 10) * 9999 / 990;
}

export function blkioV1(host: Host, r: Resources, out: Write[]): void {
  if (r.blkioWeight != 0) {
    out.push(new Write("blkio", host.bfq ? "blkio.bfq.weight" : "blkio.weight", r.blkioWeight.toString()));
  }
  for (let key = KEY_RBPS; key <= KEY_WIOPS; key++) {
    for (let i = 0; i < r.throttles.length; i++) {
      const t = r.throttles[i];
      if (t.key != key) continue;
      out.push(new Write("blkio", V1_FILES[key], t.major.toString() + ":" + t.minor.toString() + " " + t.rate.toString()));
    }
  }
}

/** v2: one io.max line per device (first-seen order) with the last rate given per key. */
export function ioV2(host: Host, r: Resources, out: Write[]): void {
  if (r.blkioWeight != 0) {
    if (host.bfq) out.push(new Write("io", "io.bfq.weight", r.blkioWeight.toString()));
    else out.push(new Write("io", "io.weight", blkioWeightToIoWeight(<u64>r.blkioWeight).toString()));
  }
  const done = new Array<bool>(r.throttles.length);
  for (let i = 0; i < r.throttles.length; i++) {
    if (done[i]) continue;
    const first = r.throttles[i];
    const rates = new Array<Throttle | null>(4);
    for (let j = i; j < r.throttles.length; j++) {
      const t = r.throttles[j];
      if (t.major != first.major || t.minor != first.minor) continue;
      done[j] = true;
      rates[t.key] = t;
    }
    let line = first.major.toString() + ":" + first.minor.toString();
    for (let key = KEY_RBPS; key <= KEY_WIOPS; key++) {
      const t = rates[key];
      if (t !== null) line += " " + V2_KEYS[key] + "=" + t.rate.toString();
    }
    out.push(new Write("io", "io.max", line));
  }
}

export { KEY_RBPS, KEY_WBPS, KEY_RIOPS, KEY_WIOPS };
