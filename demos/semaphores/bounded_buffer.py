#!/usr/bin/env python3
# bounded_buffer.py — the same bounded buffer with threading.Semaphore and threading.Lock (the notes' 5.5).
# CPython builds its locks on POSIX semaphores, so the trace shows sem_wait/sem_post under the Python code.
# Changed from the notes: seeded random pauses, shorter; the consumers' totals are checked.
import random
import threading
import time


class BoundedBuffer:
    def __init__(self, size):
        self.buffer = []
        self.size = size
        self.mutex = threading.Lock()
        self.empty = threading.Semaphore(size)  # free slots
        self.full = threading.Semaphore(0)  # filled slots

    def produce(self, item):
        self.empty.acquire()  # blocks while the buffer is full
        with self.mutex:
            self.buffer.append(item)
            print(f"Produced: {item}, Buffer: {self.buffer}", flush=True)
        self.full.release()

    def consume(self):
        self.full.acquire()  # blocks while the buffer is empty
        with self.mutex:
            item = self.buffer.pop(0)
            print(f"Consumed: {item}, Buffer: {self.buffer}", flush=True)
        self.empty.release()
        return item


def producer(buffer, producer_id, num_items):
    rng = random.Random(producer_id)
    for i in range(num_items):
        buffer.produce(f"P{producer_id}-{i}")
        time.sleep(rng.uniform(0.005, 0.03))


def consumer(buffer, consumer_id, num_items, got):
    rng = random.Random(100 + consumer_id)
    for _ in range(num_items):
        got.append(buffer.consume())
        time.sleep(rng.uniform(0.005, 0.02))


def main():
    buffer = BoundedBuffer(5)
    got = []
    threads = [threading.Thread(target=producer, args=(buffer, i, 5)) for i in range(2)]
    threads += [threading.Thread(target=consumer, args=(buffer, i, 5, got)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = sorted(f"P{p}-{i}" for p in range(2) for i in range(5))
    if sorted(got) != expected:
        raise SystemExit(f"lost or duplicated items: {sorted(got)}")
    print("All threads completed: every item consumed exactly once", flush=True)


if __name__ == "__main__":
    main()
