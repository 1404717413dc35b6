#!/usr/bin/env python3
"""Which failed build-asan suites may run again: those whose only failure is
LeakSanitizer's own crash at exit.

usage: asan_rerun.py MESON_TESTLOG_JSON

LeakSanitizer stops every thread with ptrace when the process exits; with
PoCL's worker threads alive, its tracer thread itself sometimes dies ("Tracer
caught signal 11 ... LeakSanitizer has encountered a fatal error", seen once in
4 runs of test_leak and once in gemm): the suite had passed and no check ran.
Session 18 found the cause (google/sanitizers#1322: the runtime's __tls_get_addr
interceptor reading a dynamic TLS range that is not one); tools/test.sh now runs
the suites with intercept_tls_get_addr=0, and this rerun stays as the net.
Prints the names of the failed suites whose output has that message and none
of a real finding (a leak report, an ASan error, a UBSan runtime error, a
failed or erroring test), one per line, and exits 0; exits 1 when any failed
suite has another cause (then nothing may run again). tools/test.sh runs the
printed suites once more, and that run must pass.
"""
import json
import sys

TOOL_CRASH = "LeakSanitizer has encountered a fatal error"
FINDINGS = ("ERROR: LeakSanitizer: detected memory leaks", "ERROR: AddressSanitizer", "runtime error:",
            "[  FAILED  ]", "[  ERROR   ]", "SUMMARY: UndefinedBehaviorSanitizer")


def main():
    again = []
    for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
        t = json.loads(line)
        if t.get("result") in ("OK", "SKIP", "EXPECTEDFAIL"):
            continue
        out = (t.get("stdout") or "") + (t.get("stderr") or "")
        if TOOL_CRASH not in out or any(f in out for f in FINDINGS):
            print(f"asan_rerun: {t.get('name')} failed ({t.get('result')}) for another reason", file=sys.stderr)
            return 1
        again.append(t["name"])
    print("\n".join(again))
    return 0


if __name__ == "__main__":
    sys.exit(main())
