"""A small seccomp filter for the boxes, as a classic BPF program handed to ``bwrap --seccomp``.

Namespaces and dropped capabilities already keep a box away from the host; this closes the
remaining ways for learner code to reach *into other processes of its own box* (``ptrace`` of
bwrap's pid 1, ``process_vm_readv``) and a few kernel interfaces a learner program never needs
and that are frequent sources of kernel bugs (``bpf``, ``perf_event_open``, ``userfaultfd``,
``io_uring``, the keyring). They fail with EPERM. Syscalls of another ABI (i386 or x32 on
x86-64) are refused altogether, so the filter cannot be sidestepped through them.

Only x86-64 and aarch64 are known; elsewhere ``program()`` returns ``None`` and boxes run
without the filter (the namespaces still hold).
"""

from __future__ import annotations

import platform
import struct

_EPERM = 1
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
_X32_BIT = 0x40000000

# name: (x86-64 number, aarch64 number)
BLOCKED = {
    "ptrace": (101, 117),
    "process_vm_readv": (310, 270),
    "process_vm_writev": (311, 271),
    "kcmp": (312, 272),
    "add_key": (248, 217),
    "request_key": (249, 218),
    "keyctl": (250, 219),
    "perf_event_open": (298, 241),
    "bpf": (321, 280),
    "userfaultfd": (323, 282),
    "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427),
}
_ARCHES = {"x86_64": (0xC000003E, 0), "aarch64": (0xC00000B7, 1)}


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def program(machine: str | None = None) -> bytes | None:
    """The filter for this machine's architecture (``None`` when unknown)."""
    arch = _ARCHES.get(machine or platform.machine())
    if arch is None:
        return None
    audit_arch, column = arch
    numbers = sorted({nrs[column] for nrs in BLOCKED.values()})
    body = [(_LD_W_ABS, 0, 0, 4), (_JEQ_K, 1, 0, audit_arch), ("deny",), (_LD_W_ABS, 0, 0, 0)]
    if column == 0:
        body.append((_JGE_K, "deny", 0, _X32_BIT))
    body += [(_JEQ_K, "deny", 0, nr) for nr in numbers]
    body += [(_RET_K, 0, 0, _RET_ALLOW), (_RET_K, 0, 0, _RET_ERRNO | _EPERM)]
    deny = len(body) - 1
    out = []
    for index, insn in enumerate(body):
        if insn == ("deny",):
            out.append(_insn(_RET_K, 0, 0, _RET_ERRNO | _EPERM))
            continue
        code, jt, jf, k = insn
        if jt == "deny":
            jt = deny - index - 1
        out.append(_insn(code, jt, jf, k))
    return b"".join(out)


PROGRAM = program()
