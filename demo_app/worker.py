"""The worker: `python -m demo_app.worker [huey_consumer options]`.

A thin wrapper around Huey's own consumer, the same as running:

    huey_consumer demo_app.queue.huey [options]
"""
import sys

from huey.bin.huey_consumer import consumer_main

if __name__ == "__main__":
    sys.argv = ["huey_consumer", "demo_app.queue.huey", *sys.argv[1:]]
    consumer_main()
