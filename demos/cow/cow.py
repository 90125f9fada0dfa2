#!/usr/bin/env python3
# cow.py — copy-on-write after fork(), as in the seed note: reserve 100 MiB, touch it, fork, and let the child
# write every page. Prints `free`, `ps -o rss,maj_flt,min_flt` (as the note does) and one parsed summary line per
# step, so a reader (and the test) can compare the numbers without reading free's table.
import mmap, os, subprocess, sys

ALLOC_SIZE = 100 * 1024 * 1024
PAGE_SIZE = mmap.PAGESIZE  # the note hard-coded 4096


def access(data):
    for i in range(0, ALLOC_SIZE, PAGE_SIZE):
        data[i] = 0


def used_kib():
    # MemTotal - MemAvailable: the "used" figure free(1) derives, read directly so it is one number.
    info = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, value = line.split(":", 1)
            info[key] = int(value.split()[0])
    return info["MemTotal"] - info["MemAvailable"]


def min_faults():
    # Field 10 of /proc/self/stat; split after the ')' because the command name may contain spaces.
    with open("/proc/self/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[7])


def show_meminfo(msg, who):
    print(msg, flush=True)
    subprocess.run(["free"], check=True)
    subprocess.run(["ps", "-orss,maj_flt,min_flt", str(os.getpid())], check=True)
    print(f"SUMMARY {who} used_kib={used_kib()} min_flt={min_faults()}", flush=True)
    print(flush=True)


data = mmap.mmap(-1, ALLOC_SIZE, flags=mmap.MAP_PRIVATE)
access(data)

show_meminfo("*** 자식 생성 전 (before fork) ***", "parent")
pid = os.fork()

if pid == 0:
    show_meminfo("*** 자식 생성 직후 (child, right after fork) ***", "child-after-fork")
    access(data)  # <- every write here is a copy-on-write fault: the kernel copies the page for the child
    show_meminfo("*** 자식 메모리 접근 후 (child, after writing every page) ***", "child-after-write")
    sys.exit(0)

_, status = os.waitpid(pid, 0)
if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
    sys.exit(f"child failed: status {status:#x}")
data.close()
