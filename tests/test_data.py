"""d2lmini.data: the images the notebooks convolve."""
import numpy as np
import pytest

from d2lmini.data import checkerboard, diagonal_edge, photo, stripes


def test_stripes_is_the_books_image():
    X = np.ones((6, 8))
    X[:, 2:6] = 0
    np.testing.assert_array_equal(stripes(), X)
    assert stripes().dtype == np.float64
    assert stripes(dtype=np.float32).dtype == np.float32


def test_stripes_has_two_vertical_edges():
    X = stripes()
    edges = X[:, :-1] - X[:, 1:]  # the book's kernel [[1, -1]] at every position
    np.testing.assert_array_equal(np.flatnonzero(edges[0]), [1, 5])
    assert (edges == edges[0]).all()


def test_diagonal_edge_is_lower_triangle():
    D = diagonal_edge(5)
    np.testing.assert_array_equal(D, np.tril(np.ones((5, 5))))
    assert diagonal_edge().shape == (8, 8)
    assert diagonal_edge(3, dtype=np.float32).dtype == np.float32


def test_checkerboard_blocks():
    np.testing.assert_array_equal(
        checkerboard(4, square=2),
        [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]],
    )


@pytest.mark.parametrize("size, square", [(8, 2), (6, 3), (4, 1), (4, 4)])
def test_checkerboard_matches_a_loop(size, square):
    white = [[(i // square + j // square) % 2 == 0 for j in range(size)] for i in range(size)]
    np.testing.assert_array_equal(checkerboard(size, square), np.array(white, dtype=float))


def test_photo_is_gray_in_unit_range():
    P = photo()
    assert P.shape == (600, 512) and P.dtype == np.float64
    assert 0 <= P.min() and P.max() <= 1
    assert 0.1 < P.mean() < 0.9 and P.std() > 0.1  # a picture, not a blank


def test_photo_is_deterministic_and_block_averaged():
    P = photo()
    small = photo(size=100)
    assert small.shape == (100, 85)
    np.testing.assert_allclose(small[0, 0], P[:6, :6].mean())
    np.testing.assert_array_equal(small, photo(size=100))
    assert photo(size=64).shape == (66, 56)  # 600 // 64 = 9: blocks of 9 x 9


@pytest.mark.parametrize("size", [2, 3, 7, 64, 100, 299, 300, 301, 599, 600])
def test_photo_size_is_rows_of_whole_blocks(size):
    """What the docstring promises: blocks of 600 // size, at least size rows, fewer than 2 * size."""
    f = 600 // size
    for image in (photo(size=size), photo(size=size, rgb=True)[0]):
        assert image.shape == (600 // f, 512 // f)
        assert size <= image.shape[0] < 2 * size


def test_photo_rgb_is_the_colour_image_channels_first():
    import matplotlib.cbook
    import matplotlib.image

    path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    pixels = matplotlib.image.imread(path)  # (600, 512, 3) uint8, decoded independently
    colour = photo(rgb=True)
    assert colour.shape == (3, 600, 512) and colour.dtype == np.float64
    assert colour.flags.c_contiguous
    np.testing.assert_array_equal(colour[1], pixels[..., 1] / 255.0)  # green
    assert 0 <= colour.min() and colour.max() <= 1
    red, green, blue = colour.reshape(3, -1).mean(axis=1)
    assert abs(red - blue) > 0.01  # the channels differ: a colour photo, not three copies


def test_photo_gray_is_the_luminance_of_the_colour_one():
    weights = np.array([0.299, 0.587, 0.114])
    np.testing.assert_allclose(photo(), np.tensordot(weights, photo(rgb=True), axes=1))
    # block means and the weighted sum commute, so the same holds after downsampling
    np.testing.assert_allclose(photo(size=64), np.tensordot(weights, photo(size=64, rgb=True),
                                                            axes=1))


def test_photo_rgb_is_block_averaged_like_the_gray_one():
    full, small = photo(rgb=True), photo(size=64, rgb=True)
    assert small.shape == (3, 66, 56)
    np.testing.assert_allclose(small[:, 0, 0], full[:, :9, :9].mean(axis=(1, 2)))
    np.testing.assert_allclose(small[2, -1, -1], full[2, 585:594, 495:504].mean())
    np.testing.assert_array_equal(small, photo(size=64, rgb=True))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: diagonal_edge(1), ValueError, "diagonal_edge: size must be at least 2, got 1"),
        (lambda: diagonal_edge(2.5), TypeError, "diagonal_edge: size must be an int, got 2.5"),
        (lambda: checkerboard(7, 2), ValueError,
         "size must be a multiple of square, got size=7, square=2"),
        (lambda: checkerboard(8, 0), ValueError, "checkerboard: square must be at least 1, got 0"),
        (lambda: checkerboard(0), ValueError, "checkerboard: size must be at least 2, got 0"),
        (lambda: photo(size=1), ValueError, "photo: size must be at least 2, got 1"),
        (lambda: photo(size=601), ValueError,
         "photo: size must be at most the photo's 600 rows, got 601"),
        (lambda: photo(size="64"), TypeError, "photo: size must be an int, got '64'"),
        (lambda: photo(rgb="yes"), TypeError, "photo: rgb must be True or False, got 'yes'"),
        (lambda: photo(size=601, rgb=True), ValueError,
         "photo: size must be at most the photo's 600 rows, got 601"),
    ],
)
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()
