"""Small images to convolve: the book's stripes, a diagonal edge, a checkerboard, a photograph;
and real handwritten digits to train on.

The images are float (H, W) arrays, 1 for white and 0 for black. NumPy only at import time;
``photo`` imports Matplotlib (and through it Pillow) when called; ``digits`` reads the data file
that ships inside d2lmini (``digits.csv.gz``). Used in notebooks 02-04, 06 and 08.
"""
import gzip
import operator

import numpy as np

__all__ = ["stripes", "diagonal_edge", "checkerboard", "photo", "digits"]


def _check_int(func, name, value, minimum):
    """``value`` as an int, at least ``minimum``; else an error naming the argument."""
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{func}: {name} must be an int, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"{func}: {name} must be at least {minimum}, got {number}")
    return number


def stripes(dtype=np.float64):
    """The book's 6 x 8 image: white (1) with a black (0) band in columns 2 to 5.

    Its two vertical edges are what the kernel ``[[1, -1]]`` detects.

    Args:
        dtype: the NumPy dtype of the result.

    Returns:
        A (6, 8) array.

    >>> stripes()
    array([[1., 1., 0., 0., 0., 0., 1., 1.],
           [1., 1., 0., 0., 0., 0., 1., 1.],
           [1., 1., 0., 0., 0., 0., 1., 1.],
           [1., 1., 0., 0., 0., 0., 1., 1.],
           [1., 1., 0., 0., 0., 0., 1., 1.],
           [1., 1., 0., 0., 0., 0., 1., 1.]])

    Used in notebooks 02-04 (the book's striped image).
    """
    X = np.ones((6, 8), dtype=dtype)  # (6, 8)
    X[:, 2:6] = 0
    return X


def diagonal_edge(size=8, dtype=np.float64):
    """A square image whose lower-left triangle, diagonal included, is white (1).

    Args:
        size: height and width, at least 2.
        dtype: the NumPy dtype of the result.

    Returns:
        A (size, size) array: ``np.tril`` of ones.

    >>> diagonal_edge(4)
    array([[1., 0., 0., 0.],
           [1., 1., 0., 0.],
           [1., 1., 1., 0.],
           [1., 1., 1., 1.]])

    Used in notebook 03 and its exercises: which edges does ``[[1, -1]]`` find here?
    """
    size = _check_int("diagonal_edge", "size", size, 2)
    return np.tril(np.ones((size, size), dtype=dtype))  # (size, size)


def checkerboard(size=8, square=2, dtype=np.float64):
    """A checkerboard of ``square`` x ``square`` blocks, white (1) in the top-left corner.

    Args:
        size: height and width, at least 2, a multiple of ``square``.
        square: the side of one block, at least 1.
        dtype: the NumPy dtype of the result.

    Returns:
        A (size, size) array.

    >>> checkerboard(4, square=1)
    array([[1., 0., 1., 0.],
           [0., 1., 0., 1.],
           [1., 0., 1., 0.],
           [0., 1., 0., 1.]])

    An image with edges in both directions, for trying the kernels of notebook 03 on.
    """
    size = _check_int("checkerboard", "size", size, 2)
    square = _check_int("checkerboard", "square", square, 1)
    if size % square:
        raise ValueError(
            f"checkerboard: size must be a multiple of square, got size={size}, square={square}"
        )
    block = np.arange(size) // square  # (size,): which block each row or column falls in
    return ((block[:, None] + block[None, :]) % 2 == 0).astype(dtype)  # (size, size)


def photo(size=None, rgb=False):
    """A photograph (Grace Hopper, shipped with Matplotlib), floats in [0, 1]: gray or colour.

    The 600 x 512 colour JPEG is decoded by Pillow (through Matplotlib) and divided by 255.
    In gray, each pixel is 0.299 red + 0.587 green + 0.114 blue (the luminance weights).
    Nothing is downloaded.

    Args:
        size: None for the full 600 x 512 image. Else the image is downsampled by averaging
            blocks of ``f`` x ``f`` pixels, with ``f = 600 // size``; the rows and columns
            that do not fill a whole block are dropped. The result has ``600 // f`` rows and
            ``512 // f`` columns: at least ``size`` rows and fewer than ``2 * size``, not
            exactly ``size``. For example ``size=100`` gives f = 6 and (100, 85);
            ``size=64`` gives f = 9 and (66, 56); ``size=2`` gives f = 300 and (2, 1).
        rgb: False for one gray channel, True for the three colour channels (red, green,
            blue), each downsampled as the gray one is.

    Returns:
        A float64 array: (H, W) in gray, (3, H, W) with ``rgb=True`` (channels first, as
        ``conv2d`` takes them).

    >>> photo().shape
    (600, 512)
    >>> image = photo(size=100)
    >>> image.shape, bool(0 <= image.min() <= image.max() <= 1)
    ((100, 85), True)
    >>> photo(size=64).shape, photo(size=64, rgb=True).shape
    ((66, 56), (3, 66, 56))

    The decoded pixels are the same with the Pillow wheels 10.0 to 13.0 (libjpeg-turbo 2.1
    to 3.2); another JPEG decoder may differ by a few levels in some pixels, about 0.005 after
    averaging at ``size=100``. Taught in notebook 03 (gray) and notebook 06 (``rgb=True``).
    """
    import matplotlib.cbook
    import matplotlib.image

    if not isinstance(rgb, (bool, np.bool_)):
        raise TypeError(f"photo: rgb must be True or False, got {rgb!r}")
    if size is not None:
        size = _check_int("photo", "size", size, 2)
    path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    colour = matplotlib.image.imread(path)[..., :3] / 255.0  # (600, 512, 3) uint8 -> float64
    if rgb:
        image = np.ascontiguousarray(colour.transpose(2, 0, 1))  # (600, 512, 3) -> (3, 600, 512)
    else:
        image = colour @ np.array([0.299, 0.587, 0.114])  # (600, 512)
    if size is None:
        return image
    height, width = image.shape[-2:]
    if size > height:
        raise ValueError(f"photo: size must be at most the photo's {height} rows, got {size}")
    f = height // size
    rows, cols = height // f, width // f
    blocks = image[..., : rows * f, : cols * f].reshape(*image.shape[:-2], rows, f, cols, f)
    return blocks.mean(axis=(-3, -1))  # (..., 600 // f, 512 // f)


# --------------------------------------------------------------------- handwritten digits
DIGITS_TEST_PER_CLASS = 36  # 10 x 36 = 360 test digits; the other 1,437 train


def _digits_file():
    """The digits' data file inside the installed package: 1,797 rows of 64 pixels and a label.

    It is the file scikit-learn ships as ``sklearn/datasets/data/digits.csv.gz``, unchanged
    (tests/test_digits.py compares the two): the test set of E. Alpaydin and C. Kaynak,
    "Optical Recognition of Handwritten Digits", UCI Machine Learning Repository (1998),
    https://doi.org/10.24432/C50P49, under CC BY 4.0
    (https://creativecommons.org/licenses/by/4.0/).
    """
    import importlib.resources  # here, not at the top: it costs `import d2lmini` ~15 ms

    return importlib.resources.files(__package__) / "digits.csv.gz"


def _digits_split(labels):
    """The indices of the test digits: 36 of each class, spread evenly over the file's order.

    Of the n examples of a class, in the order of the file, the test set takes the one in the
    middle of each of 36 equal runs, positions ``(2k + 1) * n // 72`` for k = 0..35.
    """
    test = []
    for digit in range(10):
        members = np.flatnonzero(labels == digit)  # in file order
        n, k = len(members), np.arange(DIGITS_TEST_PER_CLASS)
        test.append(members[(2 * k + 1) * n // (2 * DIGITS_TEST_PER_CLASS)])
    return np.sort(np.concatenate(test))


def digits():
    """1,797 real handwritten digits, 8 x 8 pixels, split into train and test.

    The UCI "optical recognition of handwritten digits" test set, which ships with d2lmini
    (see ``_digits_file``) as it does with scikit-learn (``sklearn.datasets.load_digits``):
    each pixel counts the ink in a 4 x 4 block of a 32 x 32 bitmap, 0..16, divided here by 16.
    Nothing is downloaded and nothing else is imported.

    The split is fixed (no randomness) and stratified: the test set holds 36 digits of each
    class, 360 in all, taken evenly through the file (see ``_digits_split``); the train set
    the other 1,437. Both keep the file's order.

    Returns:
        ``(X_train, y_train, X_test, y_test)``: float32 images of shape (1437, 1, 8, 8) and
        (360, 1, 8, 8) with values in [0, 1], and int64 labels 0..9 of shape (1437,), (360,).

    >>> X_train, y_train, X_test, y_test = digits()
    >>> X_train.shape, X_train.dtype, y_test.shape, y_test.dtype
    ((1437, 1, 8, 8), dtype('float32'), (360,), dtype('int64'))
    >>> np.bincount(y_test).tolist()
    [36, 36, 36, 36, 36, 36, 36, 36, 36, 36]

    Used in notebook 08 (LeNet).
    """
    with _digits_file().open("rb") as packed, gzip.open(packed, "rt") as file:
        table = np.loadtxt(file, delimiter=",")  # (1797, 65): 64 pixels, then the label
    images = (table[:, :-1] / 16).astype(np.float32).reshape(-1, 1, 8, 8)  # (1797, 1, 8, 8)
    labels = table[:, -1].astype(np.int64)  # (1797,)
    test = _digits_split(labels)
    train = np.setdiff1d(np.arange(len(labels)), test)
    return images[train], labels[train], images[test], labels[test]
