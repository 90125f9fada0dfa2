#!/usr/bin/env python3
# mp_queue.py — Python multiprocessing.Queue with two producers and one consumer (the notes' example, with shorter
# pauses). Underneath, the Queue is a pipe plus a lock and a semaphore: the trace shows both producers writing into
# one pipe and the consumer reading from it.
import random
import time
from multiprocessing import Process, Queue


def producer(queue, producer_id, num_items):
    rng = random.Random(producer_id)  # seeded: the same run every time
    for i in range(num_items):
        item = {"id": f"{producer_id}-{i}", "value": rng.randint(1, 100)}
        queue.put(item)
        print(f"Producer {producer_id}: Produced {item['id']}", flush=True)
        time.sleep(rng.uniform(0.01, 0.05))
    queue.put(None)  # this producer is done
    print(f"Producer {producer_id}: Done", flush=True)


def consumer(queue, consumer_id, num_producers):
    done_count = 0
    consumed = 0
    while done_count < num_producers:
        item = queue.get()
        if item is None:
            done_count += 1
            print(f"Consumer {consumer_id}: Producer finished ({done_count}/{num_producers})", flush=True)
            continue
        consumed += 1
        print(f"Consumer {consumer_id}: Consumed {item['id']} = {item['value']}", flush=True)
    print(f"Consumer {consumer_id}: Done, {consumed} items", flush=True)


def main():
    queue = Queue(maxsize=10)
    producers = [Process(target=producer, args=(queue, i, 5)) for i in range(2)]
    consumer_proc = Process(target=consumer, args=(queue, 0, 2))
    for p in producers:
        p.start()
    consumer_proc.start()
    for p in producers + [consumer_proc]:
        p.join()
    failed = [p.name for p in producers + [consumer_proc] if p.exitcode != 0]  # the notes never checked
    if failed:
        raise SystemExit(f"failed: {failed}")
    print("All processes completed", flush=True)


if __name__ == "__main__":
    main()
