"""``NetworkView``: load a trained network, its checkpoints and decoders from disk.

A ``NetworkView`` opens a ``NetworkDir`` (``results/<task>/<ensemble>/<model>``)
written by :class:`flyvis.solver.MultiTaskSolver` (or by flyvis 1.2.0), selects
checkpoints (``"best"`` by validation EPE, or by position) and restores the
network and the task decoders. This module is the I/O core: the
``NetworkView`` users get from ``flyvis.NetworkView``/``flyvis.network.NetworkView``
is :class:`flyvis.analysis.views.NetworkView`, a subclass that adds the cached
stimulus-response analyses and ``connectome_view`` (the core never imports
:mod:`flyvis.analysis`).

Example::

    view = NetworkView("flow/0000/000")
    network = view.init_network()            # best checkpoint, eval mode
    decoder = view.init_decoder()["flow"]
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Union

import torch
from datamate import Directory, Namespace

from flyvis.network.directories import NetworkDir, resolve_results_path
from flyvis.utils.chkpt_utils import (
    Checkpoints,
    best_checkpoint_default_fn,
    load_checkpoint,
    recover_decoder,
    recover_network,
    resolve_checkpoints,
)

__all__ = ["NetworkView", "CheckpointedNetwork", "check_state_shapes"]

logger = logging.getLogger(__name__)


def _default_network_class():
    from flyvis.network.network import Network

    return Network


def default_connectome_getter(config: Mapping[str, Any]) -> Any:
    """The connectome directory for a ``network.connectome`` config."""
    from flyvis.connectome import init_connectome

    return init_connectome(**dict(config))


def _make_hashable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return tuple(sorted((str(k), _make_hashable(v)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)):
        return tuple(_make_hashable(v) for v in obj)
    if isinstance(obj, set):
        return tuple(sorted(_make_hashable(v) for v in obj))
    if isinstance(obj, Path):
        return str(obj)
    return obj


def check_state_shapes(
    network: torch.nn.Module, state: Mapping[str, Any], name: str = ""
) -> None:
    """Checks that a checkpoint's network state fits a network's parameter shapes.

    Args:
        network: The network module.
        state: A checkpoint dict (with a ``"network"`` entry) or a state dict.
        name: Model name used in the message.

    Raises:
        ValueError: Naming the first mismatching parameter, the shape stored in
            the checkpoint and the shape the network expects (typically a
            checkpoint trained on a different connectome or config), or the
            missing/unexpected keys.
    """
    state = state.get("network", state) if isinstance(state, Mapping) else state
    expected = {k: tuple(v.shape) for k, v in network.state_dict().items()}
    where = f" of {name}" if name else ""
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        raise ValueError(
            f"checkpoint{where} does not match the network: missing parameters "
            f"{missing}, unexpected parameters {unexpected}."
        )
    for key, shape in expected.items():
        stored = tuple(torch.as_tensor(state[key]).shape)
        if stored != shape:
            raise ValueError(
                f"checkpoint{where}: parameter {key!r} has shape {stored} in the "
                f"checkpoint but {shape} in the network; the checkpoint belongs to a "
                "different connectome or network config."
            )


@dataclass
class CheckpointedNetwork:
    """A picklable, hashable handle: network class + config + checkpoint.

    Hash and equality use ``(network_class, name, config, checkpoint,
    recover_fn name)``; the network module itself is dropped when pickling, so
    the handle is a stable cache key.

    Attributes:
        network_class: Class used to build the network.
        config: Network config (``connectome``, ``dynamics``, ...).
        name: Network name, e.g. ``"flow/0000/000"``.
        checkpoint: Checkpoint path (or state dict).
        recover_fn: ``recover_fn(network, checkpoint)`` loads the parameters.
        network: The module, once built.
    """

    network_class: Any
    config: Dict[str, Any]
    name: str
    checkpoint: Any
    recover_fn: Callable = recover_network
    network: Optional[torch.nn.Module] = field(default=None, compare=False, repr=False)
    device: Optional[Union[str, torch.device]] = field(
        default=None, compare=False, repr=False
    )

    def init(self, eval: bool = True) -> torch.nn.Module:
        """Builds the network (if needed) and returns it.

        Args:
            eval: Put the module into eval mode.

        Returns:
            The network module (not yet recovered).
        """
        if self.network is None:
            self.network = self.network_class(**dict(self.config), device=self.device)
        if eval:
            self.network.eval()
        return self.network

    def recover(self, checkpoint: Any = None) -> torch.nn.Module:
        """Loads the checkpoint (default: ``self.checkpoint``) into the network.

        Args:
            checkpoint: Path or state dict to load instead.

        Returns:
            The recovered network module.
        """
        network = self.init(eval=self.network is None or not self.network.training)
        return self.recover_fn(
            network, checkpoint if checkpoint is not None else self.checkpoint
        )

    def _key(self):
        fn = getattr(self.recover_fn, "__name__", repr(self.recover_fn))
        checkpoint = self.checkpoint
        if isinstance(checkpoint, (str, os.PathLike)):
            checkpoint = str(checkpoint)
        elif checkpoint is not None:
            checkpoint = id(checkpoint)
        return (
            getattr(self.network_class, "__qualname__", repr(self.network_class)),
            self.name,
            _make_hashable(self.config),
            checkpoint,
            fn,
        )

    def __hash__(self) -> int:
        return hash(self._key())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CheckpointedNetwork) and self._key() == other._key()

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state["network"] = None
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)


class NetworkView:
    """View of a trained network directory: checkpoints, network and decoders.

    Args:
        network_dir: A ``NetworkDir``, or a path (absolute, or relative to
            ``root_dir``), e.g. ``"flow/0000/000"``.
        network_class: Class of the network (default ``flyvis.network.Network``).
        root_dir: Directory relative names are resolved against; default:
            the flyvis results directory *at call time*, then the models
            shipped with the package (e.g. ``"flow/0000/000"``).
        connectome_getter: ``getter(connectome_config)`` -> connectome.
        checkpoint_mapper: ``mapper(network_dir)`` -> :class:`Checkpoints`.
        best_checkpoint_fn: ``fn(path, **kwargs)`` -> path of the best checkpoint.
        best_checkpoint_fn_kwargs: Default ``{"validation_subdir": "validation",
            "loss_file_name": "epe"}``.
        recover_fn: ``fn(network, checkpoint)`` loading network parameters.
        device: Device of the network and decoders (default ``flyvis.device``).

    Attributes:
        dir: The ``NetworkDir``.
        name: Last three parts of the path (``"flow/0000/000"``).
        checkpoints: The checkpoints found at construction.

    Raises:
        ValueError: ``"NetworkDir not found at <path>"`` if the directory does
            not exist or is not a ``NetworkDir``.
    """

    def __init__(
        self,
        network_dir: Union[str, os.PathLike, NetworkDir],
        network_class: Any = None,
        root_dir: Optional[Union[str, os.PathLike]] = None,
        connectome_getter: Callable = default_connectome_getter,
        checkpoint_mapper: Callable = resolve_checkpoints,
        best_checkpoint_fn: Callable = best_checkpoint_default_fn,
        best_checkpoint_fn_kwargs: Optional[Mapping[str, Any]] = None,
        recover_fn: Callable = recover_network,
        device: Optional[Union[str, torch.device]] = None,
    ):
        import flyvis

        self.network_class = network_class or _default_network_class()
        self.dir = self._resolve_dir(network_dir, root_dir)
        self.name = "/".join(self.dir.path.parts[-3:])
        self.connectome_getter = connectome_getter
        self.checkpoint_mapper = checkpoint_mapper
        self.best_checkpoint_fn = best_checkpoint_fn
        self.best_checkpoint_fn_kwargs = dict(
            best_checkpoint_fn_kwargs
            if best_checkpoint_fn_kwargs is not None
            else {"validation_subdir": "validation", "loss_file_name": "epe"}
        )
        self.recover_fn = recover_fn
        self.device = flyvis.select_device(device)
        self.checkpoints: Checkpoints = checkpoint_mapper(self.dir)
        self._network: Optional[torch.nn.Module] = None
        self._connectome = None
        self._decoders: Dict[Any, Dict[str, torch.nn.Module]] = {}
        self.cache: Dict[Any, Any] = {}
        logger.info("Initialized network view at %s", self.dir.path)

    @staticmethod
    def _resolve_dir(network_dir: Any, root_dir: Any) -> NetworkDir:
        if isinstance(network_dir, NetworkDir):
            directory = network_dir
        else:
            path = Path(getattr(network_dir, "path", network_dir)).expanduser()
            if not path.is_absolute():
                # the user's results first, then the models shipped with the package
                path = (
                    Path(root_dir) / path
                    if root_dir is not None
                    else resolve_results_path(path)
                )
            if not (path / "_meta.yaml").is_file():
                raise ValueError(f"NetworkDir not found at {path}")
            directory = NetworkDir(path)
        config = directory.config
        if config is None or config.get("type") != "NetworkDir":
            raise ValueError(f"NetworkDir not found at {directory.path}")
        return directory

    @property
    def config(self) -> Namespace:
        """The stored training config."""
        return self.dir.config

    @property
    def connectome(self) -> Any:
        """The connectome directory (of the held network, else built from the config)."""
        if self._network is not None:
            return self._network.connectome
        if self._connectome is None:
            self._connectome = self.connectome_getter(
                self.config.network.connectome.to_dict()
            )
            if not isinstance(self._connectome, Directory):  # a ConnectomeView
                self._connectome = getattr(self._connectome, "dir", self._connectome)
        return self._connectome

    def get_checkpoint(self, checkpoint: Union[str, int] = "best") -> Optional[Path]:
        """Path of a checkpoint.

        Args:
            checkpoint: ``"best"`` (lowest validation EPE, falling back to the
                validation loss) or a position in :attr:`checkpoints` (``-1`` =
                last).

        Returns:
            The checkpoint path, or ``None`` (with a warning) if there is none.
        """
        try:
            if checkpoint == "best":
                return Path(
                    self.best_checkpoint_fn(
                        self.dir.path, **self.best_checkpoint_fn_kwargs
                    )
                )
            if isinstance(checkpoint, (str, os.PathLike)) and Path(checkpoint).is_file():
                return Path(checkpoint)
            return self.checkpoints.paths[int(checkpoint)]
        except (FileNotFoundError, IndexError) as error:
            logger.warning("No checkpoint %r for %s: %s", checkpoint, self.name, error)
            return None

    def network(
        self,
        checkpoint: Union[str, int] = "best",
        network: Optional[torch.nn.Module] = None,
        lazy: bool = False,
    ) -> CheckpointedNetwork:
        """A :class:`CheckpointedNetwork` handle for a checkpoint.

        Args:
            checkpoint: See :meth:`get_checkpoint`.
            network: Module to reuse (default: the one held by this view).
            lazy: Do not load the checkpoint into an attached module now.

        Returns:
            The handle.
        """
        handle = CheckpointedNetwork(
            self.network_class,
            self.config.network.to_dict(),
            self.name,
            self.get_checkpoint(checkpoint),
            self.recover_fn,
            network=network or self._network,
            device=self.device,
        )
        if handle.network is not None and not lazy:
            handle.recover()
        return handle

    def init_network(
        self,
        checkpoint: Union[str, int] = "best",
        network: Optional[torch.nn.Module] = None,
    ) -> torch.nn.Module:
        """The network with the parameters of a checkpoint, in eval mode.

        Args:
            checkpoint: See :meth:`get_checkpoint`.
            network: Existing module to load the parameters into (reused, e.g.
                to iterate over an ensemble cheaply).

        Returns:
            The network module.
        """
        handle = self.network(checkpoint, network=network, lazy=True)
        handle.init(eval=True)
        if handle.checkpoint is not None:
            try:
                handle.recover()
            except RuntimeError as error:
                # load_state_dict: size mismatch / missing keys -> a clear message
                state = load_checkpoint(handle.checkpoint, map_location="cpu")
                check_state_shapes(handle.network, state, self.name)
                raise ValueError(
                    f"could not load checkpoint {handle.checkpoint} of {self.name}: "
                    f"{error}"
                ) from error
        self._network = handle.network
        return self._network

    def init_decoder(
        self,
        checkpoint: Union[str, int] = "best",
        decoder: Optional[Mapping[str, torch.nn.Module]] = None,
    ) -> Dict[str, torch.nn.Module]:
        """The task decoders with the parameters of a checkpoint, in eval mode.

        Args:
            checkpoint: See :meth:`get_checkpoint`.
            decoder: Decoders to load into; default: built from the stored
                ``task.decoder`` config.

        Returns:
            Mapping task -> decoder module (cached per checkpoint).
        """
        path = self.get_checkpoint(checkpoint)
        key = str(path)
        if decoder is None and key in self._decoders:
            return self._decoders[key]
        owned = decoder is None
        if decoder is None:
            from flyvis.task.tasks import init_decoder

            decoder = init_decoder(self.config.task.decoder.to_dict(), self.connectome)
        decoder = {task: module.to(self.device) for task, module in dict(decoder).items()}
        if path is not None:
            state = load_checkpoint(path, map_location=self.device)
            recover_decoder(decoder, state, strict=True)
        for module in decoder.values():
            module.eval()
        if owned:  # a passed-in (shared, reused) decoder is not cached
            self._decoders[key] = decoder
        return decoder

    @property
    def memory(self) -> Any:
        """``joblib.Memory`` disk cache at ``<dir>/__cache__`` (created on first use).

        Uses the ``"xarray_dataset_h5"`` store backend when one is registered,
        else joblib's default backend. Nothing is created before it is accessed.
        """
        if getattr(self, "_memory", None) is None:
            import joblib
            from joblib.memory import _STORE_BACKENDS

            backend = (
                "xarray_dataset_h5" if "xarray_dataset_h5" in _STORE_BACKENDS else "local"
            )
            self._memory = joblib.Memory(
                location=self.dir.path / "__cache__", backend=backend, verbose=0
            )
        return self._memory

    @property
    def cell_types(self) -> list:
        """The connectome's unique cell types (``str``), in connectome order."""
        from flyvis.utils.nodes_edges_utils import _to_str_list

        return _to_str_list(self.connectome.unique_cell_types)

    def _clear_memory(self) -> None:
        """Clears the joblib disk cache of this model."""
        if (self.dir.path / "__cache__").exists():
            self.memory.clear(warn=False)

    def _clear_cache(self) -> None:
        """Empties the in-memory cache."""
        self.cache = {}
        self._decoders = {}

    def __repr__(self) -> str:
        return f"NetworkView({self.name!r}, path={str(self.dir.path)!r})"
