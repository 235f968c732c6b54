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
    with sink:
        console.print(
            f"mail provider listening on smtp://{args.host}:{args.port} "
            f"(latency {args.latency}s, 451 rate {args.transient_rate}, 550 rate {args.permanent_rate}); "
            f"log: {args.log}",
            highlight=False,
        )
        wait_for_ctrl_c()
    return 0


def wait_for_ctrl_c() -> None:
    """Block until Ctrl-C or SIGTERM; the caller's `with` block then stops what it started."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()


def run_demo(args: argparse.Namespace) -> int:
    from offload_lab.stack import Stack

    stack = Stack(
        args.run_dir,
        broker=args.broker,
        workers=args.workers,
        mail_latency=args.latency,
        access_log=True,
        web_port=args.port,
        smtp_port=args.smtp_port,
    )
    with stack:
        console.print(demo_banner(stack), highlight=False, soft_wrap=True)
        wait_for_ctrl_c()
        console.print("stopping broker, mail provider, web app and worker…")
    console.print("all stopped.")
    return 0


def demo_banner(stack) -> str:
    url = stack.web_url
    broker_note = "a private redis-server" if stack.broker == "redis" else "SQLite (no redis-server on PATH)"
    return f"""[bold]Offload Lab demo is running[/bold] — Ctrl-C stops everything.

  web app        {url}   (API docs: {url}/docs)
  broker         {stack.broker_url}   ({broker_note})
  mail provider  smtp://127.0.0.1:{stack.smtp_port}   ({stack.mail_latency}s per message; log: {stack.mail_log})
  worker         {stack.workers} threads;  logs of every part: {stack.logs}/

Try, in another terminal:

  curl -i -X POST '{url}/blocking/users/1/welcome-email?mode=await'
  curl -i -X POST '{url}/blocking/users/1/welcome-email?mode=sync'
  curl -i -X POST {url}/fire-and-forget/users/2/welcome-email
  curl -i -X POST {url}/queue/users/3/welcome-email
  curl {url}/jobs/<job_id from the answer above>
  curl {url}/health
  tail -f {stack.mail_log}
"""


def run_reproduce(args: argparse.Namespace) -> int:
    from offload_lab import results, table
    from offload_lab.reproduce import reproduce

    run_dir = reproduce(args.profile, broker=args.broker, results_dir=args.results_dir, console=console)
    summary = results.load_summary(run_dir)
    console.print(table.render_rich(summary))
    console.print(f"\nwrote {run_dir}/ (summary.json, table.md, charts, CSVs, provenance.json); "
                  f"{args.results_dir}/latest points at it", highlight=False, soft_wrap=True)  # fmt: skip
    return 0


def run_one_experiment(args: argparse.Namespace) -> int:
    """`offload-lab latency|throughput|reliability`: one experiment, its raw result as JSON."""
    from rich.pretty import Pretty

    from offload_lab import results
    from offload_lab.reproduce import run_experiments

    run_dir = results.create_run_dir(args.results_dir)
    measured = run_experiments([args.command], args.profile, run_dir, args.broker, console)[args.command]
    path = results.write_json(run_dir / f"{args.command}.json", measured)
    headline = {key: value for key, value in measured.items() if key not in ("history", "backlog", "parameters")}
    console.print(Pretty(headline, max_length=12))
    console.print(f"\nwrote {path}", highlight=False, soft_wrap=True)
    return 0


def add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", choices=["quick", "standard"], default="standard",
                        help="quick: about a minute; standard (default): about three")  # fmt: skip
    parser.add_argument("--broker", default="auto",
                        help="auto (private redis-server if installed, else SQLite), redis, sqlite, or a URL")  # fmt: skip
    parser.add_argument("--results-dir", type=Path, default=Path("results"), help="where run folders go")


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
    demo = commands.add_parser("demo", help="start the whole stack for a class demo; Ctrl-C stops it")
    demo.add_argument("--broker", default="auto", help="auto (default), redis, sqlite, or a BROKER_URL")
    demo.add_argument("--port", type=int, default=8000, help="web app port (default 8000)")
    demo.add_argument("--smtp-port", type=int, default=8025, help="mail provider port (default 8025)")
    demo.add_argument("--workers", type=int, default=4, help="worker threads (default 4)")
    demo.add_argument("--latency", type=non_negative, default=2.0, help="mail provider latency (default 2 s)")
    demo.add_argument("--run-dir", type=Path, default=Path("var/demo"), help="logs, mail log and data (var/demo)")
    demo.set_defaults(run=run_demo)

    reproduce = commands.add_parser("reproduce", help="run every experiment, print the measured table")
    add_run_options(reproduce)
    reproduce.set_defaults(run=run_reproduce)
    for name, text in (("latency", "each variant under the same load, with a bystander"),
                       ("throughput", "accepted requests/s, worker scaling, CPU-bound jobs, backlog"),
                       ("reliability", "kill processes on purpose and count what was lost")):  # fmt: skip
        experiment = commands.add_parser(name, help=text)
        add_run_options(experiment)
        experiment.set_defaults(run=run_one_experiment)
    return parser


def stop_like_ctrl_c(signum, frame):
    # SIGTERM takes Ctrl-C's path, so that every process the lab started is stopped.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, stop_like_ctrl_c)
    from offload_lab.stack import StackError

    try:
        return args.run(args)
    except ValueError as error:
        console.print(f"[red]error:[/red] {error}", highlight=False)
        return 2
    except StackError as error:
        console.print(f"[red]could not start the stack:[/red] {error}", highlight=False)
        return 1
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]: every process the lab started has been stopped")
        return 130


if __name__ == "__main__":
    sys.exit(main())
