"""The `offload-lab` command."""
import argparse
import signal
import sys
import threading
from pathlib import Path

from rich.console import Console

console = Console()


def rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"a rate is between 0 and 1, got {value}")
    return value


def non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def run_mailsink(args: argparse.Namespace) -> int:
    from offload_lab.mailsink import MailSink

    sink = MailSink(
        log_path=args.log,
        host=args.host,
        port=args.port,
        latency=args.latency,
        transient_rate=args.transient_rate,
        permanent_rate=args.permanent_rate,
        seed=args.seed,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with sink:
        console.print(
            f"mail provider listening on smtp://{args.host}:{args.port} "
            f"(latency {args.latency}s, 451 rate {args.transient_rate}, 550 rate {args.permanent_rate}); "
            f"log: {args.log}",
            highlight=False,
        )
        stop.wait()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="offload-lab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    mailsink = commands.add_parser("mailsink", help="run the lab's mail provider (a slow SMTP server)")
    mailsink.add_argument("--host", default="127.0.0.1")
    mailsink.add_argument("--port", type=int, default=8025)
    mailsink.add_argument("--latency", type=non_negative, default=2.0, help="seconds before each reply (default 2)")
    mailsink.add_argument("--transient-rate", type=rate, default=0.0, help="share of messages refused with 451")
    mailsink.add_argument("--permanent-rate", type=rate, default=0.0, help="share of messages refused with 550")
    mailsink.add_argument("--seed", type=int, default=0, help="seed of the failure draws")
    mailsink.add_argument("--log", type=Path, default=Path("var/mail.jsonl"), help="JSON Lines delivery log")
    mailsink.set_defaults(run=run_mailsink)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ValueError as error:
        console.print(f"[red]error:[/red] {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
