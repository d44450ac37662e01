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
    ],
)
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()
