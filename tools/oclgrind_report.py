#!/usr/bin/env python3
"""Summarizes an Oclgrind log (stderr of a run under oclgrind) per kernel.

usage: oclgrind_report.py LOG KNOWN_FILE

Each report Oclgrind prints (a data race, an invalid or uninitialized access,
an API error, a fatal simulator error) becomes a finding keyed by kernel and
kind, with the configurations that showed it (from kernel_sweep's
"sweep: run FILE CONFIG KERNEL" lines, when present). Findings listed in
KNOWN_FILE (lines "kernel<TAB>kind prefix", '#' comments) are reported as
known; any other finding makes the exit status 1. A known finding not seen
is pointed out so that the list shrinks when a kernel is fixed.
"""
import re
import sys

STARTS = ("Read-write data race", "Write-write data race", "Invalid ", "Uninitialized ",
          "OCLGRIND FATAL ERROR", "Oclgrind - OpenCL runtime error", "Work-group divergence",
          "Work-item divergence", "Unaligned ", "Out-of-bounds", "Kernel argument")


def parse(path):
    findings = {}
    context = "-"
    block = None
    with open(path, errors="replace") as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"sweep: run (\S+) (\S+) (\S+)", line)
        if m:
            context = f"{m.group(1)} {m.group(2)}"
            continue
        if line.startswith(STARTS):
            kind = re.sub(r"0x[0-9a-fA-F]+", "ADDR", line.strip())
            kind = re.sub(r"\(\d+\)", "", kind)
            kernel = "?"
            for nxt in lines[i + 1:i + 8]:
                km = re.match(r"\s+Kernel: (\S+)", nxt)
                if km:
                    kernel = km.group(1)
                    break
                fm = re.match(r"\s+Function: (\S+)", nxt)
                if fm:
                    kernel = "api:" + fm.group(1)
                    break
            if kind.startswith("OCLGRIND FATAL"):
                detail = next((x.strip() for x in lines[i + 1:i + 3] if x.strip()), "")
                kind = "FATAL " + detail
            key = (kernel, kind)
            entry = findings.setdefault(key, {"count": 0, "configs": set()})
            entry["count"] += 1
            entry["configs"].add(context)
    return findings


def main():
    log, known_path = sys.argv[1], sys.argv[2]
    known = []
    with open(known_path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#") and "\t" in line:
                kernel, kind = line.split("\t", 1)
                known.append((kernel, kind))
    findings = parse(log)
    new = 0
    seen_known = set()
    for (kernel, kind), e in sorted(findings.items()):
        k = next((kk for kk in known if kk[0] == kernel and kind.startswith(kk[1])), None)
        tag = "known" if k else "NEW"
        if k:
            seen_known.add(k)
        else:
            new += 1
        configs = sorted(e["configs"])
        shown = ", ".join(configs[:6]) + (f", ... ({len(configs)} configurations)" if len(configs) > 6 else "")
        print(f"oclgrind: {tag}: {kernel}: {kind} ({e['count']} reports; {shown})")
    for k in known:
        if k not in seen_known:
            print(f"oclgrind: known finding not seen in this run (fixed? remove it from {known_path}): {k[0]}: {k[1]}")
    print(f"oclgrind: {len(findings)} distinct findings, {new} new")
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
