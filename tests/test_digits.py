"""d2lmini.data.digits: the digits scikit-learn ships, shipped in d2lmini, on a fixed split."""
import gzip
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from d2lmini import data


def test_shapes_dtypes_and_range():
    X_train, y_train, X_test, y_test = data.digits()
    assert X_train.shape == (1437, 1, 8, 8) and X_test.shape == (360, 1, 8, 8)
    assert X_train.dtype == X_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    for X in (X_train, X_test):
        assert X.min() == 0 and X.max() == 1


def test_the_split_is_stratified_and_fixed():
    X_train, y_train, X_test, y_test = data.digits()
    np.testing.assert_array_equal(np.bincount(y_test), [36] * 10)
    np.testing.assert_array_equal(data.digits()[3], y_test)  # the same on every call
    np.testing.assert_array_equal(data.digits()[0], X_train)


def test_the_data_are_scikit_learns():
    datasets = pytest.importorskip("sklearn.datasets")
    digits = datasets.load_digits()
    X_train, y_train, X_test, y_test = data.digits()
    test = data._digits_split(digits.target)
    train = np.setdiff1d(np.arange(1797), test)
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == 1797
    np.testing.assert_array_equal(X_test[:, 0], (digits.images[test] / 16).astype(np.float32))
    np.testing.assert_array_equal(X_train[:, 0], (digits.images[train] / 16).astype(np.float32))
    np.testing.assert_array_equal(y_test, digits.target[test])
    np.testing.assert_array_equal(y_train, digits.target[train])


def test_test_digits_are_spread_over_each_class():
    labels = np.repeat(np.arange(10), 72)  # 72 of each class, in blocks
    test = data._digits_split(labels)
    assert len(test) == 360
    np.testing.assert_array_equal(test[:36], np.arange(36) * 2 + 1)  # every other one


def test_reading_the_digits_imports_neither_scikit_learn_nor_scipy():
    code = ("import sys, d2lmini; d2lmini.data.digits(); "
            "print(sorted({'sklearn', 'scipy', 'matplotlib'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_file_holds_scikit_learns_digits():
    spec = importlib.util.find_spec("sklearn")
    if spec is None:
        pytest.skip("scikit-learn is not installed")
    theirs = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    ours = data._digits_file().read_bytes()
    assert gzip.decompress(ours) == gzip.decompress(theirs.read_bytes())
