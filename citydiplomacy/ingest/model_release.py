"""Record which version of the model data (five-level model, catalogues) a registry was built with."""

from __future__ import annotations

from sqlalchemy import Engine, select

from citydiplomacy.model import load_model
from citydiplomacy.store import db
from citydiplomacy.store.schema import ModelRelease


def record_model_release(engine: Engine | None = None) -> tuple[str, bool]:
    """Validate the bundled model data and record its version and checksum in the registry.

    Returns
    -------
    tuple[str, bool]
        The model version and whether it was newly recorded (False when already present).
    """
    model = load_model()
    with db.session_scope(engine) as session:
        found = session.scalar(select(ModelRelease).where(ModelRelease.version == model.version))
        if found is not None and found.checksum == model.checksum:
            return model.version, False
        if found is None:
            session.add(ModelRelease(version=model.version, checksum=model.checksum))
        else:  # same version label, edited data: keep the latest checksum
            found.checksum = model.checksum
    return model.version, True
