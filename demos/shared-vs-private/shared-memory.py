#!/usr/bin/env python3
# shared-memory.py — the same experiment with an mmap(MAP_SHARED) page: the child doubles the value in the shared
# page and the parent reads 2000 after the child exits.
import mmap
import os
import sys

PAGE_SIZE = mmap.PAGESIZE
data = 1000
print("자식 프로세스 생성 전 데이터 값 (before fork): {}".format(data), flush=True)

# Anonymous shared mapping: after fork both processes map the same physical page.
shared_memory = mmap.mmap(-1, PAGE_SIZE, flags=mmap.MAP_SHARED)
shared_memory[0:8] = data.to_bytes(8, sys.byteorder)

pid = os.fork()
if pid == 0:
    # The child reads the value, doubles it and writes it back into the shared page.
    data = int.from_bytes(shared_memory[0:8], sys.byteorder)
    data *= 2
    shared_memory[0:8] = data.to_bytes(8, sys.byteorder)  # <- the child writes 2000 into the shared page
    sys.exit(0)

_, status = os.waitpid(pid, 0)  # the note ignored the child's status
if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
    sys.exit(f"child failed: status {status:#x}")
data = int.from_bytes(shared_memory[0:8], sys.byteorder)
print("자식 프로세스 종료 후 데이터 값 (after the child exited): {}".format(data), flush=True)
shared_memory.close()  # the note leaked the mapping until exit
