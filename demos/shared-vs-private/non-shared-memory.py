#!/usr/bin/env python3
# non-shared-memory.py — after fork() the child changes its copy of `data`; the parent still sees 1000.
import os
import sys

data = 1000
print("자식 프로세스 생성 전 데이터 값 (before fork): {}".format(data), flush=True)
pid = os.fork()
if pid == 0:
    data = 2  # the child's own copy (copy-on-write): the parent never sees this
    sys.exit(0)
_, status = os.waitpid(pid, 0)  # the note ignored the child's status
if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
    sys.exit(f"child failed: status {status:#x}")
print("자식 프로세스 종료 후 데이터 값 (after the child exited): {}".format(data), flush=True)
