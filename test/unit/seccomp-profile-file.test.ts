// `--security-opt seccomp=FILE`: docker's profile format and the OCI one read from JSON, types
// checked (names are the core's), and a docker-format profile's conditions applied by the core.
import { describe, expect, it } from 'vitest';
import { compileSeccomp } from '../../ts/core/seccomp.js';
import { parseSeccompProfile } from '../../ts/runtime/seccomp-profile.js';
import { runFilter } from '../oracle/bpf-interpreter.js';

const X86_64 = 0xc000003e;

describe('a seccomp profile file', () => {
  it("reads docker's format: archMap for this host, includes/excludes, values over 2^53 exactly", () => {
    const text = `{
      "defaultAction": "SCMP_ACT_ERRNO",
      "archMap": [{ "architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"] },
                  { "architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] }],
      "syscalls": [
        { "names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 0, "value": 18446744073709551615, "op": "SCMP_CMP_NE" }] },
        { "names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_SYS_ADMIN"] } },
        { "names": ["write"], "action": "SCMP_ACT_ALLOW", "excludes": { "arches": ["amd64"] } },
        { "names": ["close"], "action": "SCMP_ACT_ALLOW", "includes": { "minKernel": "4.8" }, "comment": "ignored" }
      ]
    }`;
    const p = parseSeccompProfile(text, 'p.json');
    expect(p.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    expect(p.syscalls![0].args![0].value).toBe(0xffffffffffffffffn);
    const run = (caps: bigint | undefined, nr: number, a0 = 0n) => {
      const program = compileSeccomp({ mode: 'profile', profile: p }, { caps, kernel: '6.1.0' }).program;
      return runFilter(program, { nr, arch: X86_64, args: [a0] });
    };
    expect(run(undefined, 0)).toBe(0x7fff0000);
    expect(run(undefined, 0, 0xffffffffffffffffn)).toBe(0x00050001);
    expect(run(undefined, 165)).toBe(0x00050001); // mount: the container lacks CAP_SYS_ADMIN
    expect(run(1n << 21n, 165)).toBe(0x7fff0000);
    expect(run(undefined, 1)).toBe(0x00050001); // write: excluded on amd64
    expect(run(undefined, 3)).toBe(0x7fff0000);
  });

  it('names a field of the wrong type, and bad JSON', () => {
    expect(() => parseSeccompProfile('{"defaultAction": 1}', 'p.json')).toThrow(/^seccomp profile p\.json: defaultAction: not a string$/);
    expect(() => parseSeccompProfile('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": "read", "action": "SCMP_ACT_ALLOW"}]}', 'p.json')).toThrow(/syscalls\[0\]\.names: not a list of strings/);
    expect(() => parseSeccompProfile('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]}', 'p.json')).toThrow(/args\[0\]\.value: not a whole number/);
    expect(() => parseSeccompProfile('{', 'p.json')).toThrow(/^seccomp profile p\.json: JSON: /);
  });
});
