#!/usr/bin/env python3
# mp_shared_memory.py — Python multiprocessing.shared_memory: a writer process fills a 10x10 array of doubles five
# times, a reader process follows along; -1 everywhere means "done".
# Changed from the notes: no numpy (a memoryview cast to doubles does the job); the reader waits for each round
# through a round counter in the block instead of sleeping and hoping; shorter pauses.
import struct
import time
from multiprocessing import Process, shared_memory

N = 100  # 10 x 10 doubles
HEADER = 8  # one int64 round counter before the array


def view(shm):
    return shm.buf[HEADER:HEADER + N * 8].cast("d")


def writer_process(shm_name):
    shm = shared_memory.SharedMemory(name=shm_name)
    array = view(shm)
    for r in range(1, 6):
        for i in range(N):
            array[i] = r * 10.0 + i / 100
        struct.pack_into("q", shm.buf, 0, r)  # publish the round after the data
        print(f"Writer: round {r}, sum = {sum(array):.2f}", flush=True)
        time.sleep(0.05)
    for i in range(N):
        array[i] = -1.0
    struct.pack_into("q", shm.buf, 0, -1)
    del array
    shm.close()
    print("Writer: Done", flush=True)


def reader_process(shm_name):
    shm = shared_memory.SharedMemory(name=shm_name)
    array = view(shm)
    seen = 0
    while True:
        (r,) = struct.unpack_from("q", shm.buf, 0)
        if r == -1 and all(x == -1.0 for x in array):
            print("Reader: Received termination signal", flush=True)
            break
        if r != seen and r > 0:
            seen = r
            print(f"Reader: round {r}, array sum = {sum(array):.2f}", flush=True)
        time.sleep(0.005)  # polling: the reader spins on the shared block
    del array
    shm.close()
    print("Reader: Done", flush=True)


def main():
    shm = shared_memory.SharedMemory(create=True, size=HEADER + N * 8)
    print(f"Created shared memory: {shm.name}", flush=True)
    try:
        shm.buf[:] = bytes(len(shm.buf))
        procs = [Process(target=writer_process, args=(shm.name,)), Process(target=reader_process, args=(shm.name,))]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        if any(p.exitcode != 0 for p in procs):
            raise SystemExit("a child failed")
    finally:
        shm.close()
        shm.unlink()  # always, even when a child failed
    print("Shared memory cleaned up", flush=True)


if __name__ == "__main__":
    main()
