"""How workers reach the race store.

On this machine (``serial``, ``local``) workers open the store's folder. Ray workers may run on
other machines that do not have it, so for them the store's season files travel as bytes inside
``shared`` (once per batch, through the object store) and each worker writes them into a private
temporary folder the first time it needs them and opens a :class:`RaceStore` there. Either way a
worker opens the store once per batch and keeps it, so its parsed seasons are reused by every
task the worker runs.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from f1analyzer.config import get_settings
from f1analyzer.data.store import RaceStore
from f1analyzer.models.asof import ASOF_DIR

#: name prefix of the folders shipped copies are written to (followed by the shipment id)
_PREFIX = "f1a-shipped-store-"
#: stores opened in this process, by shipment id
_OPEN: dict[str, RaceStore] = {}


@dataclass(frozen=True)
class StoreShipment:
    """A picklable handle on a race store: its folder, or (``files``) a copy of its season files."""

    root: str
    files: dict[str, bytes] | None = None
    ident: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def of(cls, store: RaceStore, *, by_value: bool) -> StoreShipment:
        """A shipment of ``store``; ``by_value`` copies its season files (workers elsewhere)."""
        if not by_value:
            return cls(root=str(store.root))
        files = {path.name: path.read_bytes() for _, _, path in store.season_files(None)}
        return cls(root=str(store.root), files=files)

    @property
    def size_bytes(self) -> int:
        return sum(len(b) for b in (self.files or {}).values())

    def open(self) -> RaceStore:
        """The store in this process (opened, or materialised from the copy, once)."""
        store = _OPEN.get(self.ident)
        if store is not None:
            return store
        # one batch's store at a time per worker (a long-lived Ray worker serves many batches):
        # the previous batch's copy, this process's own, goes
        for ident, old in list(_OPEN.items()):
            _OPEN.pop(ident)
            if old.root.name.startswith(_PREFIX):
                shutil.rmtree(old.root, ignore_errors=True)
        if self.files is None:
            store = RaceStore(Path(self.root))
        else:
            home = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{self.ident}-"))
            atexit.register(shutil.rmtree, home, ignore_errors=True)
            seasons = home / "seasons"
            seasons.mkdir()
            for name, blob in self.files.items():
                (seasons / name).write_bytes(blob)
            store = RaceStore(home)
        _OPEN[self.ident] = store
        return store

    def release(self) -> None:
        """Remove the copies workers on this machine made (after the batch). Workers exit
        without cleaning up when they are killed; copies on other machines go when their worker
        opens the next batch's store or exits."""
        if self.files is None:
            return
        for path in Path(tempfile.gettempdir()).glob(f"{_PREFIX}{self.ident}-*"):
            shutil.rmtree(path, ignore_errors=True)


def asof_cache_dir(executor) -> Path | None:
    """Where workers cache as-of model sets: the settings' folder on this machine; none on
    remote workers (another machine's folder is not ours to fill)."""
    if getattr(executor, "remote", False):
        return None
    return get_settings().models_dir / ASOF_DIR


def ship_store(store: RaceStore, executor) -> StoreShipment:
    """The store as ``executor``'s workers can reach it."""
    return StoreShipment.of(store, by_value=bool(getattr(executor, "remote", False)))


__all__ = ["StoreShipment", "ship_store", "asof_cache_dir"]
