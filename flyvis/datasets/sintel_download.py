"""Download helpers for MPI-Sintel: atomic transfers, checksums, extraction.

Used by :func:`flyvis.datasets.sintel_utils.download_sintel`.

Source: ``spec/datasets.md`` §2.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import Optional

from flyvis.datasets.sintel_errors import SintelChecksumError, SintelDownloadError

__all__: list = []

#: The logger of :mod:`flyvis.datasets.sintel_utils` (where these helpers lived).
logger = logging.getLogger("flyvis.datasets.sintel_utils")


# ---------------------------------------------------------------------------
# download


def _zip_name(url: str) -> str:
    name = Path(urllib.parse.urlparse(url).path).name
    return name or "download.zip"


def _download(
    url: str,
    destination: Path,
    sha256: Optional[str],
    progress: bool,
    timeout: float,
) -> Path:
    """Downloads ``url`` to ``destination`` atomically (via ``*.part``)."""
    from tqdm.auto import tqdm

    part = destination.with_name(destination.name + ".part")
    digest = hashlib.sha256()
    received = 0
    try:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length else None
                with (
                    open(part, "wb") as f,
                    tqdm(
                        total=total,
                        unit="B",
                        unit_scale=True,
                        unit_divisor=1024,
                        desc=destination.name,
                        disable=not progress,
                    ) as bar,
                ):
                    while True:
                        chunk = response.read(1 << 20)
                        if not chunk:
                            break
                        f.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
            if total is not None and received != total:
                raise SintelDownloadError(
                    f"incomplete download of {url}: {received} of {total} bytes."
                )
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            if isinstance(error, SintelDownloadError):
                raise
            raise SintelDownloadError(
                f"download of {url} failed after {received} bytes: {error}"
            ) from error
        checksum = digest.hexdigest()
        if sha256 is not None and checksum != sha256.lower():
            raise SintelChecksumError(
                f"SHA-256 mismatch for {url}: got {checksum}, expected {sha256.lower()}; "
                "the download was deleted."
            )
        logger.info("Downloaded %s (%d bytes, sha256 %s).", url, received, checksum)
        os.replace(part, destination)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return destination


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _merge_move(source: Path, target: Path, replace: bool) -> None:
    """Moves the entries of ``source`` into ``target`` (renames, merging dirs)."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in sorted(source.iterdir()):
        destination = target / entry.name
        if not destination.exists():
            os.replace(entry, destination)
        elif entry.is_dir() and destination.is_dir() and not replace:
            _merge_move(entry, destination, replace)
        elif replace:
            if destination.is_dir():
                shutil.rmtree(destination)
            else:
                destination.unlink()
            os.replace(entry, destination)


def _extract(archive: Path, target: Path, replace: bool) -> None:
    """Extracts ``archive`` into a temporary directory, then moves it into ``target``."""
    temporary = Path(tempfile.mkdtemp(prefix=".extract-", dir=target))
    try:
        try:
            with zipfile.ZipFile(archive) as zf:
                for name in zf.namelist():
                    parts = Path(name).parts
                    if Path(name).is_absolute() or ".." in parts:
                        raise SintelDownloadError(
                            f"{archive}: refusing unsafe member path {name!r}."
                        )
                zf.extractall(temporary)
        except zipfile.BadZipFile as error:
            raise SintelDownloadError(
                f"{archive} is not a valid zip file: {error}"
            ) from error
        source = temporary
        children = [c for c in temporary.iterdir() if not c.name.startswith("__MACOSX")]
        if (
            not (temporary / "training").exists()
            and len(children) == 1
            and children[0].is_dir()
            and (children[0] / "training").exists()
        ):
            source = children[0]
        _merge_move(source, target, replace)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
