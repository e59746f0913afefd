"""Reading the packaged Hydra configuration (``flyvis/config/**.yaml``).

The training defaults live in one place, the YAML files shipped inside the
package (``CONFIG_PATH``). They are composed with Hydra's compose API:

>>> from flyvis.utils.config_utils import get_default_config
>>> config = get_default_config(["task_name=flow", "ensemble_and_network_id=0"])
>>> config.network_name
'flow/0'

Differences to flyvis 1.2.0 (deliberate):

* the default ``path`` is the packaged ``solver.yaml`` (flyvis resolved a path
  relative to the calling file, which fails in an installed wheel);
* an override of a key that does not exist (a typo, without ``+``) raises a
  :class:`ConfigError` (a ``ValueError``) that lists the valid keys at that
  level; an unknown group option lists the valid options;
* ``config_dir`` adds a directory of custom config files (as written by
  ``flyvis init-config``) to Hydra's search path.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from datamate import Namespace, namespacify

__all__ = [
    "CONFIG_PATH",
    "ConfigError",
    "get_default_config",
    "get_config_from_file",
    "config_groups",
]

#: Directory of the packaged Hydra configuration (contains ``solver.yaml``).
CONFIG_PATH: str = str(Path(__file__).resolve().parent.parent / "config")


class ConfigError(ValueError):
    """A config could not be composed (typo in a key, unknown group option)."""


def _caller_dir(depth: int = 2) -> Path:
    """Directory of the file that called the public function (best effort)."""
    frame = inspect.stack()[depth]
    filename = frame.filename
    if filename.startswith("<"):
        return Path.cwd()
    return Path(filename).resolve().parent


def _resolve_config_file(path: Union[str, Path], caller_dir: Path) -> Path:
    path = Path(path).expanduser()
    if path.is_absolute():
        return path
    for base in (caller_dir, Path.cwd(), Path(CONFIG_PATH)):
        candidate = (base / path).resolve()
        if candidate.exists():
            return candidate
    return (caller_dir / path).resolve()


def _compose(
    config_dir: Path,
    config_name: str,
    overrides: Sequence[str],
    extra_dirs: Sequence[Union[str, Path]] = (),
):
    """Composes a config with a clean global Hydra state (cleared before/after)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    overrides = list(overrides)
    if extra_dirs:
        paths = ",".join(f"file://{Path(d).expanduser().resolve()}" for d in extra_dirs)
        overrides = [f"hydra.searchpath=[{paths}]", *overrides]
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir), version_base=None):
            return compose(config_name=config_name, overrides=overrides)
    finally:
        GlobalHydra.instance().clear()


def _override_key(override: str) -> Optional[str]:
    """Key of a plain ``key=value`` override (``None`` for ``+``/``~`` forms)."""
    if override.startswith(("+", "~")) or "=" not in override:
        return None
    return override.split("=", 1)[0].strip()


def _explain(
    error: Exception,
    config_dir: Path,
    config_name: str,
    overrides: List[str],
    extra_dirs: Sequence[Union[str, Path]],
) -> ConfigError:
    """Turns a Hydra composition error into a readable :class:`ConfigError`."""
    from omegaconf import OmegaConf

    message = str(error)
    match = re.search(r"Could not override '([^']+)'", message)
    if match and "To append to your config" in message:
        bad_key = match.group(1)
        rest = [o for o in overrides if _override_key(o) != bad_key]
        try:
            cfg = _compose(config_dir, config_name, rest, extra_dirs)
        except Exception:  # noqa: BLE001 - another problem; report the first one
            cfg = None
        parent, _, leaf = bad_key.rpartition(".")
        valid: Iterable[str] = []
        level = parent or "<top level>"
        if cfg is not None:
            # walk down as far as the key path exists
            node = cfg
            walked: List[str] = []
            for part in parent.split(".") if parent else []:
                child = OmegaConf.select(node, part, throw_on_missing=False)
                if not OmegaConf.is_dict(child):
                    break
                node = child
                walked.append(part)
            if OmegaConf.is_dict(node):
                valid = [str(k) for k in node.keys() if str(k) != "hydra"]
            level = ".".join(walked) or "<top level>"
        return ConfigError(
            f"Unknown config key {bad_key!r} (typo?). Valid keys under {level}: "
            f"{', '.join(sorted(valid))}. To add a new key use '+{bad_key}=...'."
        )
    return ConfigError(f"Invalid configuration override(s) {overrides}: {message}")


def get_config_from_file(
    path: Union[str, Path],
    overrides: Optional[Sequence[str]] = None,
    resolve: bool = False,
    throw_on_missing: bool = False,
    config_dir: Optional[Union[str, Path, Sequence[Union[str, Path]]]] = None,
    _caller: Optional[Path] = None,
) -> Dict[str, Any]:
    """Composes a Hydra config file and returns plain containers.

    Args:
        path: The primary config file (e.g. ``.../solver.yaml``); absolute, or
            relative to the calling file's directory (then the working
            directory, then ``CONFIG_PATH``).
        overrides: Hydra overrides such as ``"task.n_iters=10"``,
            ``"task=photoflow"`` (group selection), ``"+task.new_key=1"``.
        resolve: Resolve ``${...}`` interpolations. Values that depend on a
            missing (``???``) value are left as the string ``"???"``.
        throw_on_missing: Raise on missing (``???``) values instead of
            returning them as the string ``"???"``.
        config_dir: Extra directory (or directories) searched for config
            groups, e.g. one written by ``flyvis init-config``.
        _caller: Internal: the directory relative paths are resolved against.

    Returns:
        The composed config as nested dicts and lists (the ``hydra`` node
        removed).

    Raises:
        ConfigError: On an unknown key (the message lists the valid keys at
            that level) or an unknown group option.
        FileNotFoundError: If the config file does not exist.
    """
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    caller = _caller or _caller_dir()
    file = _resolve_config_file(path, caller)
    if not file.is_file():
        raise FileNotFoundError(f"config file not found: {file}")
    overrides = list(overrides or [])
    extra_dirs: List[Union[str, Path]] = []
    if config_dir is not None:
        extra_dirs = (
            [config_dir] if isinstance(config_dir, (str, Path)) else list(config_dir)
        )
    try:
        cfg = _compose(file.parent, file.stem, overrides, extra_dirs)
    except (HydraException, OmegaConfBaseException) as error:
        raise _explain(error, file.parent, file.stem, overrides, extra_dirs) from error

    if "hydra" in cfg:
        OmegaConf.set_struct(cfg, False)
        cfg.pop("hydra")
    if resolve and not throw_on_missing:
        return _resolve_keep_missing(cfg)
    return OmegaConf.to_container(cfg, resolve=resolve, throw_on_missing=throw_on_missing)


def _resolve_keep_missing(cfg) -> Dict[str, Any]:
    """Resolves interpolations; missing values (and what depends on them) -> "???"."""
    from omegaconf import DictConfig, ListConfig, OmegaConf
    from omegaconf.errors import InterpolationResolutionError, MissingMandatoryValue

    try:
        return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    except (InterpolationResolutionError, MissingMandatoryValue):
        pass

    def walk(node):
        if isinstance(node, DictConfig):
            out = {}
            for key in node.keys():
                if OmegaConf.is_missing(node, key):
                    out[key] = "???"
                    continue
                try:
                    value = node[key]
                except (InterpolationResolutionError, MissingMandatoryValue):
                    out[key] = "???"
                    continue
                out[key] = walk(value)
            return out
        if isinstance(node, ListConfig):
            return [walk(item) for item in node]
        return node

    return walk(cfg)


def get_default_config(
    overrides: Optional[Sequence[str]] = None,
    path: Optional[Union[str, Path]] = None,
    as_namespace: bool = True,
    config_dir: Optional[Union[str, Path]] = None,
) -> Union[Namespace, Dict[str, Any]]:
    """The default training configuration with overrides applied, resolved.

    Args:
        overrides: Hydra overrides, typically
            ``["task_name=flow", "ensemble_and_network_id=0045/000"]``; see
            :func:`get_config_from_file`.
        path: Primary config file; default: the packaged ``solver.yaml``.
            Relative paths are resolved against the calling file's directory.
        as_namespace: Return a ``datamate.Namespace`` (attribute and item
            access, ``to_dict()``, ``deepcopy()``) instead of plain dicts.
        config_dir: Extra directory searched for config groups.

    Returns:
        The composed and resolved config; missing mandatory values (``???``)
        stay the string ``"???"``.

    Raises:
        ConfigError: On an unknown key or group option.
    """
    caller = _caller_dir()
    path = Path(CONFIG_PATH) / "solver.yaml" if path is None else path
    config = get_config_from_file(
        path,
        overrides,
        resolve=True,
        throw_on_missing=False,
        config_dir=config_dir,
        _caller=caller,
    )
    return namespacify(config) if as_namespace else config


def config_groups(config_path: Union[str, Path] = CONFIG_PATH) -> List[str]:
    """Lists the config groups and files of a config tree (relative paths).

    Args:
        config_path: Root of the config tree (default: the packaged one).

    Returns:
        Sorted relative paths of all group directories and YAML files, e.g.
        ``"network/edge_config/syn_strength"``,
        ``"network/edge_config/syn_strength/syn_strength.yaml"``.
    """
    root = Path(config_path)
    entries = [p.relative_to(root).as_posix() for p in root.rglob("*")]
    return sorted(e for e in entries if "__pycache__" not in e)
