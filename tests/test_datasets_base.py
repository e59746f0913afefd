"""Base dataset classes, temporal augmentations and cross-validation splits."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from flyvis.datasets.augmentation.augmentation import Augmentation, randint
from flyvis.datasets.augmentation.temporal import (
    CropFrames,
    Interpolate,
    get_temporal_sample_indices,
)
from flyvis.datasets.datasets import MultiTaskDataset, SequenceDataset, StimulusDataset
from flyvis.utils.dataset_utils import (
    CrossValIndices,
    IndexSampler,
    get_random_data_split,
)


class Toy(SequenceDataset):
    dt = 1 / 24
    arg_df = pd.DataFrame({"a": [0, 1, 2, 3, 4]})

    def get_item(self, key):
        return key * 10


class ToyStimuli(StimulusDataset):
    arg_df = pd.DataFrame({"angle": [0, 0, 90, 90], "name": ["x", "y", "x", "y"]})

    def get_item(self, key):
        return key


class ToyMultiTask(MultiTaskDataset):
    arg_df = pd.DataFrame({"i": range(10)})
    tasks = ["flow"]

    def get_item(self, key):
        return {"lum": torch.zeros(1)}


# -- SequenceDataset indexing -------------------------------------------------------


def test_getitem_int_negative_and_numpy():
    d = Toy()
    assert len(d) == 5
    assert d[0] == 0 and d[4] == 40
    assert d[-1] == 40 and d[-5] == 0
    assert d[np.int64(2)] == 20
    assert d[torch.tensor(3)] == 30


def test_getitem_slice_and_iterables():
    d = Toy()
    assert d[1:3] == [10, 20]
    assert d[::-2] == [40, 20, 0]
    assert d[[0, 2, -1]] == [0, 20, 40]
    assert d[(1,)] == [10]
    assert d[np.array([3, 4])] == [30, 40]
    assert d[range(2)] == [0, 10]


def test_getitem_errors():
    d = Toy()
    with pytest.raises(IndexError, match=r"The index \(5\) is out of range."):
        d[5]
    with pytest.raises(IndexError, match="out of range"):
        d[-6]
    with pytest.raises(TypeError, match="Invalid argument type."):
        d[1.5]
    with pytest.raises(TypeError, match="Invalid argument type."):
        d["a"]
    with pytest.raises(NotImplementedError):
        SequenceDataset.get_item(d, 0)


def test_sequence_dataset_temporal_indices_uses_framerates():
    d = Toy()  # no original_framerate: step 1
    assert d.get_temporal_sample_indices(5, 10).tolist() == [0, 1, 2, 3, 4]

    class WithFramerate(Toy):
        framerate = 24
        dt = 0.01

    idx = WithFramerate().get_temporal_sample_indices(20, 20)
    assert len(idx) == 84

    class WithOriginal(Toy):
        original_framerate = 24
        framerate = 1000  # ignored: original_framerate wins
        dt = 1 / 48

    assert WithOriginal().get_temporal_sample_indices(3, 3).tolist() == [0, 0, 1, 1, 2, 2]


def test_sequence_dataset_temporal_indices_augment_generator():
    class Aug(Toy):
        original_framerate = 24
        augment = True

    d = Aug()
    a = d.get_temporal_sample_indices(5, 30, generator=np.random.default_rng(1))
    b = d.get_temporal_sample_indices(5, 30, generator=np.random.default_rng(1))
    assert torch.equal(a, b)
    starts = {
        int(d.get_temporal_sample_indices(5, 30, generator=np.random.default_rng(s))[0])
        for s in range(40)
    }
    assert len(starts) > 5 and min(starts) >= 0 and max(starts) <= 24
    assert d.get_temporal_sample_indices(5, 30, augment=False)[0] == 0


def test_stimulus_index():
    d = ToyStimuli()
    assert d.get_stimulus_index({"angle": 90, "name": "x"}) == 2
    assert d.get_stimulus_index(dict(self=None, angle=0, name="y")) == 1
    with pytest.raises(ValueError):
        d.get_stimulus_index({"angle": 0})
    with pytest.raises(ValueError):
        d.get_stimulus_index({"angle": 45})

    class NoDf(StimulusDataset):
        pass

    with pytest.raises(ValueError, match="arg_df attribute not specified."):
        NoDf().get_stimulus_index({"a": 1})


def test_multitask_augmentation_context_and_split():
    d = ToyMultiTask()
    assert d.augment is False
    with d.augmentation(True):
        assert d.augment is True
    assert d.augment is False
    with pytest.raises(RuntimeError):
        with d.augmentation(True):
            raise RuntimeError
    assert d.augment is False
    train, val = d.get_random_data_split(0, 4, shuffle=True, seed=0)
    assert train.tolist() == [2, 8, 9, 6, 7, 3, 5] and val.tolist() == [4, 1, 0]
    train, val = d.get_random_data_split(1, 4, shuffle=False)
    assert val.tolist() == [3, 4, 5] and len(train) == 7


# -- CrossValIndices ------------------------------------------------------------------


def test_cross_val_indices_example():
    cv = CrossValIndices(10, 4, shuffle=True, seed=0)
    assert cv.indices.tolist() == [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]
    train, test = cv(0)
    assert train.tolist() == [2, 8, 9, 6, 7, 3, 5]
    assert test.tolist() == [4, 1, 0]
    folds = list(cv.iter())
    assert len(folds) == 4
    assert [len(t) for _, t in folds] == [3, 3, 2, 2]
    train, test = get_random_data_split(0, n_samples=10, n_folds=4)
    assert test.tolist() == [4, 1, 0]


def test_cross_val_unshuffled_is_contiguous_kfold():
    cv = CrossValIndices(10, 4, shuffle=False)
    tests = [t.tolist() for _, t in cv.iter()]
    assert tests == [[0, 1, 2], [3, 4, 5], [6, 7], [8, 9]]
    with pytest.raises(IndexError):
        cv(4)


def test_index_sampler():
    s = IndexSampler([3, 1, 2])
    assert list(s) == [3, 1, 2] and len(s) == 3
    loader = torch.utils.data.DataLoader(list(range(10)), batch_size=2, sampler=s)
    assert [b.tolist() for b in loader] == [[3, 1], [2]]


# -- temporal augmentations ----------------------------------------------------------


def test_temporal_indices_test_vector():
    idx = get_temporal_sample_indices(20, 20, 24, 0.01, augment=False)
    assert idx.dtype == torch.long
    assert len(idx) == 84 == math.ceil((20 - 1e-6) / 0.24)
    assert idx[:10].tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, 2]
    assert idx[-1] == 19
    counts = np.bincount(idx.numpy())
    assert set(counts.tolist()) <= {4, 5}
    assert get_temporal_sample_indices(7, 7, 24, 1 / 24, False).tolist() == list(range(7))


def test_temporal_indices_errors_and_augment():
    with pytest.raises(ValueError, match="cannot interpolate"):
        get_temporal_sample_indices(21, 20, 24, 0.01, augment=False)
    rng = np.random.default_rng(0)
    starts = [
        int(get_temporal_sample_indices(19, 49, 24, 1 / 24, True, rng)[0])
        for _ in range(300)
    ]
    assert min(starts) == 0 and max(starts) == 29
    # total == n_frames: the start range is empty -> always 0
    assert get_temporal_sample_indices(5, 5, 24, 1 / 24, True, rng)[0] == 0
    # torch generators are accepted too
    g = torch.Generator().manual_seed(0)
    assert len(get_temporal_sample_indices(5, 30, 24, 1 / 24, True, g)) == 5


def test_interpolate_nearest_exact_vector():
    interp = Interpolate(24, 50, mode="nearest-exact")
    assert interp.align_corners is None
    x = torch.arange(10).float()[:, None, None]
    out = interp(x)
    expected = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]
    assert out.shape == (21, 1, 1)
    assert out.flatten().tolist() == expected
    assert interp.piecewise_constant_indices(10).tolist() == expected
    # long input is converted to float
    assert interp(torch.arange(10)[:, None, None]).dtype == torch.float32
    # other dims
    y = torch.arange(10).float()[None, None, :]
    assert interp(y, dim=2).flatten().tolist() == expected


def test_interpolate_linear_vector():
    interp = Interpolate(24, 50, mode="linear")
    assert interp.align_corners is True
    angles = np.radians([0, 90, 180])
    x = torch.tensor(np.stack([np.cos(angles), np.sin(angles)], 1), dtype=torch.float32)
    out = interp(x[:, :, None])[:, :, 0]
    expected = torch.tensor(
        [
            [1, 0],
            [2 / 3, 1 / 3],
            [1 / 3, 2 / 3],
            [0, 1],
            [-1 / 3, 2 / 3],
            [-2 / 3, 1 / 3],
            [-1, 0],
        ]
    )
    assert out.shape == (7, 2)
    assert torch.allclose(out, expected, atol=1e-6)


def test_interpolate_requires_3d_and_respects_augment():
    interp = Interpolate(24, 50, mode="linear")
    with pytest.raises(AssertionError):
        interp(torch.zeros(5, 2))
    interp.augment = False
    x = torch.zeros(5, 1, 1)
    assert interp(x) is x
    assert Interpolate(24, 24, "nearest-exact")(torch.zeros(19, 1, 3)).shape[0] == 19


def test_crop_frames():
    x = torch.arange(20)[:, None]
    crop = CropFrames(5)
    assert crop(x).flatten().tolist() == [0, 1, 2, 3, 4]
    crop.set_or_sample(start=7, total_sequence_length=20)
    assert crop.start == 7
    assert crop(x).flatten().tolist() == [0, 1, 2, 3, 4]  # not random -> start 0
    crop.random = True
    assert crop(x).flatten().tolist() == [7, 8, 9, 10, 11]
    crop.all_frames = True
    assert crop(x) is x
    y = torch.arange(20)[None, :]
    assert CropFrames(3)(y, dim=1).tolist() == [[0, 1, 2]]


def test_crop_frames_errors_and_sampling():
    crop = CropFrames(19, random=True)
    with pytest.raises(ValueError, match="cannot crop"):
        crop(torch.zeros(10, 1))
    with pytest.raises(ValueError, match="cannot crop"):
        crop.set_or_sample(total_sequence_length=10)
    rng = np.random.default_rng(0)
    starts = set()
    for _ in range(400):
        crop.set_or_sample(total_sequence_length=49, generator=rng)
        starts.add(crop.start)
    assert starts == set(range(30))
    crop.set_or_sample()
    assert crop.start is None
    assert crop(torch.arange(19)[:, None]).shape == (19, 1)  # None start -> 0
    a, b = CropFrames(3), CropFrames(3)
    a.set_or_sample(total_sequence_length=50, generator=np.random.default_rng(5))
    b.set_or_sample(total_sequence_length=50, generator=np.random.default_rng(5))
    assert a.start == b.start


def test_augmentation_base_and_randint():
    aug = Augmentation()
    x = object()
    assert aug(x) is x and aug.transform(x) is x
    aug.set_or_sample(1, 2)
    assert randint(3, 4, np.random.default_rng(0)) == 3
    assert randint(0, 5, torch.Generator().manual_seed(1)) in range(5)
    with pytest.raises(ValueError):
        randint(2, 2)
    with pytest.raises(TypeError):
        randint(0, 3, generator=42)


def test_datasets_import_is_cheap():
    code = (
        "import sys, flyvis.datasets, flyvis.datasets.photo_flow;"
        "import flyvis.datasets.augmentation.temporal, flyvis.utils.dataset_utils;"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported';"
        "assert 'skimage' not in sys.modules, 'skimage imported'"
    )
    repo = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=repo)
