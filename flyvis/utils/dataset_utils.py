"""Dataset helpers: cross-validation splits, index samplers and example movies.

Example movies for custom stimuli (``spec/utilities.md`` §4):
:func:`load_moving_mnist` (the real Moving MNIST test set, downloaded once),
:func:`moving_mnist_offline` (moving digits generated offline from the digits
bundled with scikit-learn) and :func:`random_walk_of_blocks`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence, Tuple, Union

import numpy as np
from torch.utils.data import Sampler

__all__ = [
    "CrossValIndices",
    "get_random_data_split",
    "IndexSampler",
    "load_moving_mnist",
    "moving_mnist_offline",
    "random_walk_of_blocks",
    "MOVING_MNIST_URL",
]


class CrossValIndices:
    """K-fold cross-validation indices, reproducing flyvis' split exactly.

    ``indices = arange(n_samples)``, shuffled in place with
    ``numpy.random.RandomState(seed)`` if ``shuffle``. Fold ``k`` takes the
    slice of ``indices`` belonging to the fold (sizes ``n // folds``, plus one
    for the first ``n % folds`` folds) and uses its *values* as *positions* of
    a boolean mask; the split is ``(indices[~mask], indices[mask])``. Without
    shuffling this is the ordinary contiguous k-fold split.

    Example:
        ``CrossValIndices(10, 4)(0)`` with shuffled indices
        ``[2 8 4 9 1 6 7 3 0 5]`` gives train ``[2 8 9 6 7 3 5]`` and
        validation ``[4 1 0]``.

    Args:
        n_samples: Number of samples.
        folds: Number of folds.
        shuffle: Shuffle the indices before splitting.
        seed: Seed of the legacy ``RandomState`` used for shuffling.
    """

    def __init__(self, n_samples: int, folds: int, shuffle: bool = True, seed: int = 0):
        if folds < 1:
            raise ValueError(f"folds must be >= 1, got {folds}.")
        self.n_samples = n_samples
        self.folds = folds
        self.shuffle = shuffle
        self.seed = seed
        self.indices = np.arange(n_samples)
        if shuffle:
            np.random.RandomState(seed).shuffle(self.indices)
        self.fold_sizes = np.full(folds, n_samples // folds, dtype=int)
        self.fold_sizes[: n_samples % folds] += 1

    def __call__(self, fold: int) -> Tuple[np.ndarray, np.ndarray]:
        """Returns the split of one fold.

        Args:
            fold: Fold index in ``0 .. folds - 1``.

        Returns:
            Tuple ``(train_indices, validation_indices)`` of integer arrays.
        """
        if not 0 <= fold < self.folds:
            raise IndexError(f"fold {fold} out of range for {self.folds} folds.")
        start = int(self.fold_sizes[:fold].sum())
        stop = start + int(self.fold_sizes[fold])
        test_values = self.indices[start:stop]
        mask = np.zeros(self.n_samples, dtype=bool)
        mask[test_values] = True
        return self.indices[~mask], self.indices[mask]

    def iter(self) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
        """Yields the splits of all folds in order.

        Yields:
            ``(train_indices, validation_indices)`` per fold.
        """
        for fold in range(self.folds):
            yield self(fold)


def get_random_data_split(
    fold: int, n_samples: int, n_folds: int, shuffle: bool = True, seed: int = 0
) -> Tuple[np.ndarray, np.ndarray]:
    """Train and validation indices of one cross-validation fold.

    Args:
        fold: Fold index.
        n_samples: Number of samples.
        n_folds: Number of folds.
        shuffle: Shuffle before splitting.
        seed: Seed of the shuffle.

    Returns:
        ``CrossValIndices(n_samples, n_folds, shuffle, seed)(fold)``.
    """
    return CrossValIndices(
        n_samples=n_samples, folds=n_folds, shuffle=shuffle, seed=seed
    )(fold)


class IndexSampler(Sampler):
    """Sampler that yields the given indices in their order.

    Args:
        indices: Sample indices.
    """

    def __init__(self, indices: Sequence[int]):
        self.indices = indices

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


# ---------------------------------------------------------------------------
# Example movies: Moving MNIST (download or offline generator), random blocks

#: Source of the Moving MNIST test set (Srivastava et al. 2015), 0.78 GB.
MOVING_MNIST_URL = (
    "https://www.cs.toronto.edu/~nitish/unsupervised_video/mnist_test_seq.npy"
)
#: File name of the Moving MNIST test set under the flyvis root directory.
MOVING_MNIST_FILE = "mnist_test_seq.npy"


def _flyvis_root() -> Path:
    """The flyvis data root as configured now (``$FLYVIS_ROOT_DIR`` first)."""
    import flyvis

    if os.environ.get("FLYVIS_ROOT_DIR"):
        return flyvis.get_root_dir()
    return Path(flyvis.root_dir)


def _moving_mnist_path(path: Optional[Union[str, Path]]) -> Path:
    if path is None:
        return _flyvis_root() / MOVING_MNIST_FILE
    path = Path(path).expanduser()
    if path.is_dir() or path.suffix != ".npy":
        return path / MOVING_MNIST_FILE
    return path


def _unavailable_message(file: Path, url: str, reason: str) -> str:
    return (
        f"Moving MNIST is not available: {reason}\n"
        f"Download {url} (0.78 GB) and place it at {file} (or pass "
        "load_moving_mnist(path=...) pointing to the file). Without network "
        "access, use the offline generator "
        "flyvis.utils.dataset_utils.moving_mnist_offline(), which returns "
        "moving-digit sequences of the same shape, or random_walk_of_blocks()."
    )


def _download(url: str, file: Path, timeout: float = 30.0) -> None:
    """Streams ``url`` to ``file`` with a progress bar (atomic rename at the end)."""
    import urllib.request

    from tqdm.auto import tqdm

    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(file.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = response.headers.get("Content-Length")
            total = int(total) if total else None
            with (
                open(tmp, "wb") as out,
                tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    desc=f"Downloading {file.name}",
                ) as bar,
            ):
                while True:
                    chunk = response.read(1 << 20)
                    if not chunk:
                        break
                    out.write(chunk)
                    bar.update(len(chunk))
        os.replace(tmp, file)
    except Exception as err:
        tmp.unlink(missing_ok=True)
        raise FileNotFoundError(
            _unavailable_message(file, url, f"the download failed ({err!r}).")
        ) from err


def load_moving_mnist(
    delete_if_exists: bool = False,
    path: Optional[Union[str, Path]] = None,
    url: str = MOVING_MNIST_URL,
    dtype: Any = np.float32,
) -> np.ndarray:
    """Loads the Moving MNIST test set, downloading it once if needed.

    The file ``mnist_test_seq.npy`` (uint8 ``(20, 10000, 64, 64)`` = frames x
    sequences; Srivastava et al., 2015) is looked up at ``path`` (a file or a
    directory holding it), by default ``<flyvis root_dir>/mnist_test_seq.npy``.
    If it is missing it is downloaded from ``url`` with a progress bar to a
    ``.part`` file that is renamed when complete. A corrupt file (``ValueError``
    when loading) is deleted and downloaded again.

    Deliberate difference from flyvis 1.2.0: the result is float32 by default
    (3.3 GB instead of 6.6 GB for float64); pass ``dtype=np.float64`` for
    flyvis' dtype.

    Args:
        delete_if_exists: Delete an existing file and download it again.
        path: File or directory of ``mnist_test_seq.npy`` (default: the flyvis
            root directory).
        url: Download address.
        dtype: Floating dtype of the result.

    Returns:
        Array ``(10000, 20, 64, 64)`` (sequences, frames, height, width) with
        values in ``[0, 1]``.

    Raises:
        FileNotFoundError: If the file is missing and cannot be downloaded
            (offline); the message says where to put the file and mentions
            :func:`moving_mnist_offline`.
    """
    file = _moving_mnist_path(path)
    if delete_if_exists and file.exists():
        file.unlink()
    if not file.exists():
        _download(url, file)
    try:
        raw = np.load(file)
    except ValueError:
        file.unlink(missing_ok=True)
        _download(url, file)
        raw = np.load(file)
    if raw.ndim != 4:
        raise ValueError(
            f"{file} holds an array of shape {raw.shape}; expected "
            "(frames, sequences, height, width)."
        )
    out = np.empty((raw.shape[1], raw.shape[0], *raw.shape[2:]), dtype=dtype)
    out[:] = raw.transpose(1, 0, 2, 3)
    out /= 255
    return out


def _offline_digits(digit_size: int = 28) -> np.ndarray:
    """Digit images ``(1797, digit_size, digit_size)`` in ``[0, 1]``.

    The 8 x 8 handwritten digits of ``sklearn.datasets.load_digits`` (UCI
    optical recognition of handwritten digits, bundled with scikit-learn) are
    upsampled bicubically to ``round(20/28 * digit_size)`` pixels and centred
    with a blank margin, like the 20 x 20 digit box of a 28 x 28 MNIST image.
    """
    import torch
    import torch.nn.functional as F
    from sklearn.datasets import load_digits

    images = torch.from_numpy(load_digits().images.astype(np.float32) / 16.0)
    inner = max(1, int(round(digit_size * 20 / 28)))
    up = F.interpolate(images[:, None], size=(inner, inner), mode="bicubic")[:, 0]
    up = up.clamp(0, 1).numpy()
    before = (digit_size - inner) // 2
    after = digit_size - inner - before
    return np.pad(up, ((0, 0), (before, after), (before, after)))


def moving_mnist_offline(
    n_sequences: int = 1000,
    n_frames: int = 20,
    size: int = 64,
    n_digits: int = 2,
    seed: int = 0,
    digit_size: int = 28,
    step_length: float = 0.1,
    dtype: Any = np.float32,
) -> np.ndarray:
    """Generates Moving-MNIST-like sequences offline from bundled digits.

    Same layout and generative process as the Moving MNIST test set
    (Srivastava et al., 2015): every sequence shows ``n_digits`` handwritten
    digits (``digit_size`` px) moving on a black ``size x size`` canvas. Each
    digit starts at a uniformly random position with a random direction and
    moves ``step_length * (size - digit_size)`` px per frame; it bounces off
    the borders (the velocity component is reversed when the position leaves
    ``[0, size - digit_size]``). Overlapping digits combine by their maximum.
    The digits are the 8 x 8 scikit-learn digits upsampled smoothly
    (:func:`_offline_digits`), since MNIST itself is not installed.

    Args:
        n_sequences: Number of sequences (the real test set has 10000; the
            default 1000 keeps memory at 33 MB; 10000 takes 328 MB).
        n_frames: Frames per sequence.
        size: Canvas side length in pixels.
        n_digits: Digits per sequence.
        seed: Seed of ``numpy.random.default_rng`` (deterministic output).
        digit_size: Side length of a digit image in pixels.
        step_length: Step per frame as a fraction of ``size - digit_size``.
        dtype: Floating dtype of the result.

    Returns:
        Array ``(n_sequences, n_frames, size, size)`` with values in ``[0, 1]``.
    """
    if size < digit_size:
        raise ValueError(f"size ({size}) must be at least digit_size ({digit_size}).")
    rng = np.random.default_rng(seed)
    digits = _offline_digits(digit_size).astype(dtype)
    canvas = size - digit_size
    which = rng.integers(0, len(digits), size=(n_sequences, n_digits))
    pos = rng.random((n_sequences, n_digits, 2))
    theta = rng.random((n_sequences, n_digits)) * 2 * np.pi
    vel = np.stack([np.sin(theta), np.cos(theta)], axis=-1)
    starts = np.empty((n_sequences, n_digits, n_frames, 2), dtype=np.int64)
    for t in range(n_frames):
        pos += vel * step_length
        low, high = pos <= 0, pos >= 1
        pos = np.where(low, 0.0, np.where(high, 1.0, pos))
        vel = np.where(low | high, -vel, vel)
        starts[:, :, t] = (canvas * pos).astype(np.int64)
    out = np.zeros((n_sequences, n_frames, size, size), dtype=dtype)
    # writable view of all digit-sized windows: (N, T, canvas+1, canvas+1, D, D)
    s0, s1, s2, s3 = out.strides
    windows = np.lib.stride_tricks.as_strided(
        out,
        shape=(n_sequences, n_frames, canvas + 1, canvas + 1, digit_size, digit_size),
        strides=(s0, s1, s2, s3, s2, s3),
    )
    seq = np.repeat(np.arange(n_sequences), n_frames)
    frm = np.tile(np.arange(n_frames), n_sequences)
    for d in range(n_digits):
        rows = starts[:, d, :, 0].ravel()
        cols = starts[:, d, :, 1].ravel()
        img = digits[np.repeat(which[:, d], n_frames)]
        windows[seq, frm, rows, cols] = np.maximum(windows[seq, frm, rows, cols], img)
    return out


def random_walk_of_blocks(
    n_blocks: int = 20,
    block_size: int = 4,
    top_lum: float = 0,
    bottom_lum: float = 0,
    dataset_size: Sequence[int] = [3, 20, 64, 64],
    noise_mean: float = 0.5,
    noise_std: float = 0.1,
    step_size: int = 4,
    p_random: float = 0.6,
    p_center_attraction: float = 0.3,
    p_edge_attraction: float = 0.1,
    seed: int = 42,
) -> np.ndarray:
    """Random walks of small blocks on a noisy background (offline example movie).

    Algorithm (numpy's global RNG; the draw order defines the output):
    ``np.random.seed(seed)``; the background is
    ``np.random.normal(noise_mean, noise_std, dataset_size)``. For each block,
    sequence and frame: at frame 0 the block position is drawn as ``a =
    np.random.choice(arange(w))`` then ``b = np.random.choice(arange(h))``;
    later frames update ``a`` then ``b`` with one step each: ``q =
    np.random.rand()``; ``q < p_center_attraction`` moves ``step_size``
    towards ``h // 2`` (no move at the centre); ``q > 1 - p_edge_attraction``
    moves ``step_size`` away from it (towards larger values at the centre);
    otherwise the step is ``np.random.choice([-1, 1]) * step_size``;
    positions wrap modulo ``h``. The block's rows ``[a, a + bs)`` are set to
    ``bottom_lum`` and then rows ``[a - bs, a)`` to ``top_lum``, over columns
    ``[b - bs, b + bs)`` (``bs = block_size // 2``, indices wrap). The result
    is divided by its global maximum. ``p_random`` is accepted but unused (as
    in flyvis 1.2.0).

    Args:
        n_blocks: Number of blocks per sequence.
        block_size: Block side length in pixels.
        top_lum: Luminance of the upper half of a block.
        bottom_lum: Luminance of the lower half of a block.
        dataset_size: ``(sequences, frames, height, width)``; frames must be square.
        noise_mean: Mean of the Gaussian background.
        noise_std: Standard deviation of the background.
        step_size: Step of the random walk in pixels.
        p_random: Unused.
        p_center_attraction: Probability of a step towards the centre.
        p_edge_attraction: Probability of a step away from the centre.
        seed: Seed of numpy's global RNG.

    Returns:
        float64 array ``dataset_size`` (``(3, 20, 64, 64)`` by default) with
        maximum 1.

    Raises:
        ValueError: If the frames are not square.
    """
    n_seq, n_frames, h, w = (int(x) for x in dataset_size)
    if h != w:
        raise ValueError(f"frames must be square, got {h} x {w}.")
    np.random.seed(seed)
    sequences = np.random.normal(noise_mean, noise_std, size=tuple(dataset_size))
    center = h // 2
    half = block_size // 2

    def step(c: int) -> int:
        q = np.random.rand()
        if q < p_center_attraction:
            if c < center:
                c += step_size
            elif c > center:
                c -= step_size
        elif q > 1 - p_edge_attraction:
            c = c - step_size if c < center else c + step_size
        else:
            c += np.random.choice([-1, 1]) * step_size
        return int(c % h)

    for _ in range(n_blocks):
        for s in range(n_seq):
            for t in range(n_frames):
                if t == 0:
                    a = int(np.random.choice(np.arange(w)))
                    b = int(np.random.choice(np.arange(h)))
                else:
                    a = step(a)
                    b = step(b)
                cols = np.arange(b - half, b + half) % w
                lower = np.arange(a, a + half) % h
                upper = np.arange(a - half, a) % h
                sequences[s, t][np.ix_(lower, cols)] = bottom_lum
                sequences[s, t][np.ix_(upper, cols)] = top_lum
    return sequences / sequences.max()
