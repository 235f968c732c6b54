"""Dependencies shared by the routes."""
from typing import Annotated

from fastapi import Depends, HTTPException

from demo_app.broker import RedisBroker, SqliteBroker
from demo_app.queue import broker
from demo_app.settings import Settings, get_settings
from demo_app.users import User, get_user

async def settings() -> Settings:
    return get_settings()


SettingsDep = Annotated[Settings, Depends(settings)]


# Dependencies are `async def` on purpose: FastAPI runs a plain `def` one in a
# thread pool, and that hop would cost more than the work inside.


async def get_broker() -> RedisBroker | SqliteBroker:
    return broker


BrokerDep = Annotated[RedisBroker | SqliteBroker, Depends(get_broker)]


async def existing_user(user_id: int, settings: SettingsDep) -> User:
    user = get_user(settings.users_db, user_id)
    if user is None:
        raise HTTPException(status_code=404, detail=f"user {user_id} not found")
    return user


UserDep = Annotated[User, Depends(existing_user)]
