"""flyvis 1.2.0's small utility modules: tensor_utils, type_utils, logging_utils."""

import logging

import numpy as np
import pytest
import torch

from flyvis.utils import logging_utils, tensor_utils, type_utils
from flyvis.utils.tensor_utils import AutoDeref, RefTensor


def test_reftensor_and_autoderef_dereference_and_cache():
    values = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ref = RefTensor(values, torch.tensor([2, 0, 0, 1]))
    assert len(ref) == 3
    assert torch.equal(ref.deref(), torch.tensor([3.0, 1.0, 1.0, 2.0]))
    d = AutoDeref(bias=ref, n=5)
    first = d.bias
    assert torch.equal(first, ref.deref()) and d["n"] == 5
    assert d.bias is first  # cached
    assert d.get_as_reftensor("bias") is ref
    d.bias = RefTensor(values * 2, torch.tensor([0]))
    assert torch.equal(d.bias, torch.tensor([2.0]))  # reassignment drops the cache
    with pytest.raises(AttributeError):
        _ = d.missing
    # detach/clone keep the indices and the nesting; mappings become AutoDeref
    nested = AutoDeref(nodes=AutoDeref(bias=ref), items=(values, "x"))
    detached = tensor_utils.detach(nested)
    assert isinstance(detached.nodes, AutoDeref)
    raw = detached.nodes.get_as_reftensor("bias")
    assert isinstance(raw, RefTensor) and raw.indices is ref.indices
    assert not raw.values.requires_grad and values.requires_grad
    assert detached["items"][1] == "x" and isinstance(detached["items"], list)
    cloned = nested.clear_cache()
    cloned.nodes.get_as_reftensor("bias").values.data[0] = 100.0
    assert values[0].item() == 1.0
    assert "bias" in repr(nested.nodes)


def test_row_matching_and_numpy_helpers():
    m2 = np.array([[0, 1], [2, 3], [4, 5], [2, 3]])
    m1 = np.array([[4, 5], [2, 3]])
    assert tensor_utils.where_equal_rows(m1, m2).tolist() == [2, 1]
    assert tensor_utils.where_equal_rows(m1, m2, as_mask=True).tolist() == [
        False,
        True,
        True,
        True,
    ]
    assert tensor_utils.matrix_mask_by_sub(m1, m2).tolist() == [False, True, True, True]
    with pytest.raises(ValueError, match="not rows"):
        tensor_utils.where_equal_rows(np.array([[9, 9]]), m2)
    assert tensor_utils.atleast_column_vector(np.arange(3)).shape == (3, 1)
    assert tensor_utils.to_numpy(torch.ones(2, requires_grad=True)).tolist() == [1, 1]
    assert tensor_utils.to_numpy([1, 2]).tolist() == [1, 2]
    with pytest.raises(ValueError, match="numpy"):
        tensor_utils.to_numpy("text")


def test_scatter_select_and_weighting():
    src = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 6.0, 2.0]])
    index = torch.tensor([0, 0, 2, 2])
    assert torch.equal(
        tensor_utils.scatter_mean(src, index), torch.tensor([[1.5, 0, 3.5], [0, 0, 4]])
    )
    assert torch.equal(
        tensor_utils.scatter_add(src, index, dim=1),
        torch.tensor([[3.0, 0, 7], [0, 0, 8]]),
    )
    with pytest.raises(ValueError, match="mode"):
        tensor_utils.scatter_reduce(src, index, mode="max")
    with pytest.raises(ValueError, match="non-negative"):
        tensor_utils.scatter_add(src, torch.tensor([0, -1, 1, 1]))
    assert tensor_utils.broadcast(index, src, -1).shape == src.shape
    a = np.arange(24).reshape(2, 3, 4)
    picked = tensor_utils.select_along_axes(a, [[1], [0, 3]], [1, 2])
    assert picked.tolist() == [[[4, 7]], [[16, 19]]]
    assert torch.equal(
        tensor_utils.select_along_axes(torch.from_numpy(a), 1, 0), torch.from_numpy(a[1:])
    )
    with pytest.raises(ValueError, match="one index per axis"):
        tensor_utils.select_along_axes(a, [[1]], [1, 2])
    x = torch.tensor([-2.0, 0.0, 3.0])
    assert torch.allclose(
        tensor_utils.asymmetric_weighting(x, gamma=2.0, delta=0.5),
        torch.tensor([-1.0, 0.0, 6.0]),
    )
    assert np.allclose(
        tensor_utils.asymmetric_weighting(np.array([-1.0, 1.0])), [-0.1, 1]
    )


def test_byte_to_str():
    data = {b"types": np.array([b"T4a", b"T5a"]), "n": [b"x", ("y", b"z")]}
    out = type_utils.byte_to_str(data)
    assert out["types"].dtype.kind == "U" and out["types"].tolist() == ["T4a", "T5a"]
    assert out["n"] == ["x", ("y", "z")]
    assert type_utils.byte_to_str(np.arange(2)).dtype.kind == "i"
    with pytest.raises(TypeError, match="byte_to_str"):
        type_utils.byte_to_str(3.0)


def test_warn_once_and_all_logging_disabled(caplog):
    logger = logging.getLogger("flyvis.test_utils_compat")
    with caplog.at_level(logging.WARNING, logger=logger.name):
        logging_utils.warn_once(logger, "only once")
        logging_utils.warn_once(logger, "only once")
        with logging_utils.all_logging_disabled():
            logger.critical("hidden")
        logger.warning("visible")
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["only once", "visible"]
    assert logging.root.manager.disable == 0
