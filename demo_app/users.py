"""The user store: a SQLite file, created and seeded with 1,000 users on first use."""
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from uuid import uuid4

SEED_USERS = 1_000

# A few names that a mailer must get right: accents, other scripts, and one
# that tries to smuggle a mail header in through a line break.
SPECIAL_NAMES = {
    2: "Zoë Ångström",
    3: "Łukasz Żółć",
    4: "李小龍",
    5: "Ольга Иванова",
    6: "Evil\r\nBcc: victim@example.com",
}


@dataclass(frozen=True)
class User:
    id: int
    name: str
    email: str


def seed_name(user_id: int) -> str:
    return SPECIAL_NAMES.get(user_id, f"User {user_id}")


def ensure_seeded(db_path: Path) -> None:
    """Create the user table and its 1,000 users if the file is missing."""
    if db_path.exists():
        return
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = db_path.with_name(f"{db_path.name}.{uuid4().hex}.tmp")  # one per concurrent seeder
    with sqlite3.connect(tmp_path) as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL)")
        db.executemany(
            "INSERT INTO users VALUES (?, ?, ?)",
            [(i, seed_name(i), f"user{i}@example.test") for i in range(1, SEED_USERS + 1)],
        )
    db.close()
    tmp_path.replace(db_path)  # atomic: a reader never sees a half-seeded file


@lru_cache
def open_store(db_path: Path) -> sqlite3.Connection:
    # One connection per process, shared by its threads: it only ever reads,
    # and reads of a local file take microseconds, so they may run on the event loop.
    return sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)


def get_user(db_path: Path, user_id: int) -> User | None:
    row = open_store(db_path).execute("SELECT id, name, email FROM users WHERE id = ?", (user_id,)).fetchone()
    return User(*row) if row else None


def delete_user(db_path: Path, user_id: int) -> None:
    with sqlite3.connect(db_path) as db:
        db.execute("DELETE FROM users WHERE id = ?", (user_id,))
    db.close()
