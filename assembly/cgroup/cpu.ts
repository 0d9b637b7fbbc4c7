// cpu: shares/weight and CFS quota/period (runc fs/cpu.go, fs2/cpu.go).

import { PERIOD_DEFAULT, Resources, Write } from "./resources";

/**
 * runc's ConvertCPUSharesToCgroupV2Value since 2025 (crun's formula): a quadratic in log2
 * space through (2, 1), (1024, 100) and (262144, 10000). See docs/policy-core.md.
 */
export function cpuSharesToWeight(shares: u64): u64 {
  if (shares == 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(<f64>shares);
  const exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
  return <u64>Math.ceil(Math.pow(10, exponent));
}

export function cpuV1(r: Resources, out: Write[]): void {
  if (r.shares != 0) out.push(new Write("cpu", "cpu.shares", r.shares.toString()));
  if (r.period != 0) out.push(new Write("cpu", "cpu.cfs_period_us", r.period.toString()));
  if (r.quota != 0) out.push(new Write("cpu", "cpu.cfs_quota_us", r.quota.toString()));
}

export function cpuV2(r: Resources, out: Write[]): void {
  if (r.shares != 0) out.push(new Write("cpu", "cpu.weight", cpuSharesToWeight(<u64>r.shares).toString()));
  if (r.quota != 0 || r.period != 0) {
    const quota = r.quota > 0 ? r.quota.toString() : "max";
    const period = r.period != 0 ? r.period : PERIOD_DEFAULT;
    out.push(new Write("cpu", "cpu.max", quota + " " + period.toString()));
  }
}
