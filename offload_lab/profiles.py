"""How hard and how long each experiment pushes: the `quick` and `standard` profiles.

The budgets are for the whole `offload-lab reproduce` on a 2-core machine,
stack start-ups, charts and the reliability experiment included:
quick ≤ 60 s, standard ≤ 3 min. The blocking variants set the pace: blocking
/sync serves one request per `mail_latency` for the whole app, so the load,
the provider latency and the client timeout are chosen together here, and the
table footer prints them (`Profile.parameters()`).
"""
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    budget_seconds: float  # wall time of the whole `reproduce`

    # latency: each variant under the same paced load, the bystanders beside it
    mail_latency: float  # seconds the mail provider takes per message
    users: int  # endpoint users (the bystander comes on top)
    pace: float  # requests per second per endpoint user
    latency_seconds: int  # Locust run time per variant (whole seconds, as Locust's --run-time)
    request_timeout: float  # the client gives up after this many seconds
    workers: int  # queue worker threads (must keep up with users * pace * mail_latency)
    drain_timeout: float  # how long to wait for queued jobs to be delivered after a run

    # throughput: saturation, worker scaling, CPU-bound jobs
    saturation_users: int  # users without pause: the app's accepted requests/s
    saturation_seconds: int
    scaling_mail_latency: float  # shorter, so that one worker clears the burst in time
    scaling_jobs: int  # the burst, the same for every worker count
    scaling_workers: tuple[int, ...] = (1, 2, 4, 8)
    cpu_work_ms: int = 40  # CPU time per CPU-bound job (CPU_WORK_MS)
    cpu_jobs: int = 24
    cpu_workers: int = 4  # more than the cores, so that processes can use them all

    # reliability (issue 4): chaos kills, Redis kill -9 per persistence mode, a broker outage
    reliability_jobs: int = 40  # requests per scenario (a blocking endpoint that falls behind sends fewer)
    reliability_seconds: float = 4.0  # the requests are spread over this long; the kills fall inside it
    reliability_kills: int = 2  # kills (and restarts) of the working process per scenario
    reliability_clients: int = 4  # concurrent HTTP clients per scenario
    reliability_transient_rate: float = 0.1  # share of messages the provider answers 451 (try again later)
    reliability_lease_seconds: float = 2.0  # acks late: a dead worker's job runs again after this long
    reliability_drain_timeout: float = 8.0  # how long a scenario may take to settle after the load
    reliability_seed: int = 4  # seeds the kill moments and the provider's 451s: a run can be repeated
    durability_jobs: int = 200  # backlog enqueued before Redis is killed with -9
    outage_seconds: float = 2.0  # Redis frozen for half of it, down for the other half
    outage_rps: float = 20.0  # queue requests per second during the outage run

    def parameters(self) -> dict:
        """The knobs as a flat dict, for summary.json and the table footer."""
        flat = asdict(self)
        flat["scaling_workers"] = ",".join(map(str, self.scaling_workers))
        return flat

    def footer(self) -> str:
        return (
            f"Profile {self.name}: mail provider {self.mail_latency:g} s per message; "
            f"{self.users} users x {self.pace:g} req/s per variant plus 10 bystanders at 1 req/s each; "
            f"{self.latency_seconds:g} s per variant; client timeout {self.request_timeout:g} s; "
            f"{self.workers} worker threads; saturation {self.saturation_users} users x {self.saturation_seconds:g} s; "
            f"scaling burst {self.scaling_jobs} jobs at {self.scaling_mail_latency:g} s per message."
        )


PROFILES = {
    "quick": Profile(
        name="quick",
        budget_seconds=60,
        mail_latency=0.2,
        users=6,
        pace=2,
        latency_seconds=2,
        request_timeout=10,
        workers=8,
        drain_timeout=10,
        saturation_users=16,
        saturation_seconds=1,
        scaling_mail_latency=0.08,
        scaling_jobs=16,
        cpu_work_ms=40,
        cpu_jobs=12,
        reliability_jobs=40,
        reliability_seconds=4,
        reliability_kills=2,
        reliability_drain_timeout=8,
        durability_jobs=200,
        outage_seconds=2,
    ),
    "standard": Profile(
        name="standard",
        budget_seconds=180,
        mail_latency=0.5,
        users=10,
        pace=1,
        latency_seconds=6,
        request_timeout=20,
        workers=8,
        drain_timeout=20,
        saturation_users=32,
        saturation_seconds=5,
        scaling_mail_latency=0.2,
        scaling_jobs=40,
        cpu_work_ms=50,
        cpu_jobs=64,
        reliability_jobs=120,
        reliability_seconds=10,
        reliability_kills=3,
        reliability_drain_timeout=15,
        durability_jobs=500,
        outage_seconds=5,
    ),
}
DEFAULT_PROFILE = "standard"


def get_profile(profile: "str | Profile") -> Profile:
    if isinstance(profile, Profile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}") from None
