#!/usr/bin/env python3
# libseccomp's own BPF for a profile, as a reference for husk's compiler (tests only).
# stdin: a JSON list of profiles, each {"default": N, "arches": ["x86", ...], "rules":
#         [{"names": [...], "action": N, "args": [[index, op, datum_a, datum_b], ...]}]}
#         (actions and ops as seccomp.h numbers); one process for many (python's start is slow)
# stdout: a JSON list, per profile {"unknown": [names libseccomp cannot resolve], "bpf": "<hex>"}.
# Names libseccomp does not know are skipped (as runc skips them); a rule whose action is the
# default is skipped too (libseccomp refuses it; runc skips it).
import ctypes, ctypes.util, json, os, sys

lib = ctypes.CDLL(ctypes.util.find_library("seccomp") or "libseccomp.so.2", use_errno=True)

class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]

lib.seccomp_init.restype = ctypes.c_void_p
lib.seccomp_init.argtypes = [ctypes.c_uint32]
lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(ArgCmp)]
lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
lib.seccomp_release.argtypes = [ctypes.c_void_p]

ARCHES = {"x86": 0x40000003}

def export(spec):
    ctx = lib.seccomp_init(spec["default"])
    assert ctx, "seccomp_init"
    for arch in spec.get("arches", []):
        if arch in ARCHES:
            rc = lib.seccomp_arch_add(ctx, ARCHES[arch])
            assert rc == 0, ("seccomp_arch_add", arch, rc)
    unknown = set()
    for rule in spec["rules"]:
        if rule["action"] == spec["default"]:
            continue
        args = rule.get("args", [])
        array = (ArgCmp * max(1, len(args)))(*[ArgCmp(a[0], a[1], a[2], a[3]) for a in args])
        for name in rule["names"]:
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr == -1:  # __NR_SCMP_ERROR
                unknown.add(name)
                continue
            rc = lib.seccomp_rule_add_array(ctx, rule["action"], nr, len(args), array)
            assert rc == 0, ("seccomp_rule_add", name, rule, rc)
    fd = os.memfd_create("bpf")
    rc = lib.seccomp_export_bpf(ctx, fd)
    assert rc == 0, ("seccomp_export_bpf", rc)
    lib.seccomp_release(ctx)
    os.lseek(fd, 0, 0)
    data = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    os.close(fd)
    return {"unknown": sorted(unknown), "bpf": data.hex()}

print(json.dumps([export(spec) for spec in json.load(sys.stdin)]))
