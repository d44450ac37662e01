"""d2lmini.kernels: the presets, kernels typed as text, the colour scale and the feature map."""
import numpy as np
import pytest

from d2lmini import corr2d_naive, data
from d2lmini.kernels import (PRESETS, display_scale, feature_map, parse_kernel, preset,
                             response_range)


def test_presets_are_the_six_of_the_menu_and_3x3():
    assert PRESETS == ("identity", "box blur", "sharpen", "Sobel x", "Sobel y", "Laplacian")
    for name in PRESETS:
        assert preset(name).shape == (3, 3) and preset(name).dtype == float


def test_presets_do_what_their_names_say():
    image = np.random.default_rng(0).random((7, 9))
    np.testing.assert_allclose(feature_map(image, preset("identity")), image[1:-1, 1:-1])
    flat = np.full((5, 5), 0.3)  # a flat image: blur and sharpen keep it, the others give 0
    for name in ("box blur", "sharpen"):
        np.testing.assert_allclose(feature_map(flat, preset(name)), 0.3)
    for name in ("Sobel x", "Sobel y", "Laplacian"):
        np.testing.assert_allclose(feature_map(flat, preset(name)), 0.0, atol=1e-12)
    ramp = np.tile(np.arange(6.0), (6, 1))  # brighter to the right by 1 per column
    np.testing.assert_allclose(feature_map(ramp, preset("Sobel x")), 8.0)
    np.testing.assert_allclose(feature_map(ramp, preset("Sobel y")), 0.0)
    np.testing.assert_allclose(feature_map(ramp.T, preset("Sobel y")), 8.0)
    np.testing.assert_allclose(feature_map(ramp ** 2, preset("Laplacian")), 2.0)  # 2nd difference


def test_preset_is_a_copy():
    kernel = preset("Sobel x")
    kernel[:] = 0
    assert preset("Sobel x")[0, 2] == 1.0


def test_feature_map_is_corr2d_on_the_photo():
    photo = data.photo(size=40)
    kernel = np.random.default_rng(1).normal(size=(3, 3))
    np.testing.assert_allclose(feature_map(photo, kernel), corr2d_naive(photo, kernel))


def test_response_range_is_reached_and_never_left():
    rng = np.random.default_rng(2)
    for kernel in [preset(name) for name in PRESETS] + [rng.normal(size=(3, 3))]:
        low, high = response_range(kernel)
        best = (kernel > 0).astype(float)  # 1 under the positive entries
        assert np.isclose(feature_map(best, kernel)[0, 0], high)
        assert np.isclose(feature_map(1 - best, kernel)[0, 0], low)
        values = feature_map(rng.random((30, 30)), kernel)
        assert low - 1e-12 <= values.min() and values.max() <= high + 1e-12


def test_display_scale_pictures_for_brightness_keeping_kernels():
    assert display_scale(preset("box blur")) == ("gray", (0.0, 1.0))
    assert display_scale(preset("identity")) == ("gray", (0.0, 1.0))
    assert display_scale(preset("Sobel y")) == ("RdBu_r", (-4.0, 4.0))
    assert display_scale(np.full((3, 3), 0.5)) == ("gray", (0.0, 4.5))  # sums to 4.5, all >= 0
    assert display_scale([[2.0, -1.0]]) == ("gray", (0.0, 1.0))  # sums to 1: a sharpen
    assert display_scale([[2.0, -1.5]]) == ("RdBu_r", (-2.0, 2.0))


def test_parse_kernel_reads_rows_and_fractions():
    np.testing.assert_array_equal(parse_kernel("-1 0 1\n-2 0 2\n-1 0 1"), preset("Sobel x"))
    np.testing.assert_allclose(parse_kernel("1/9 1/9 1/9; 1/9,1/9,1/9; 1/9 1/9 1/9"),
                               preset("box blur"))


@pytest.mark.parametrize("text, message", [
    ("1 2 3; 4 5 6", "expected 3 rows of 3 numbers"),
    ("1 2; 3 4 5; 6 7 8", "expected 3 rows of 3 numbers"),
    ("1 2 x; 1 2 3; 1 2 3", "'x' is not a number"),
    ("1 2 1/0; 1 2 3; 1 2 3", "'1/0' is not a number"),
    ("1 2 inf; 1 2 3; 1 2 3", "not a finite number"),
])
def test_parse_kernel_names_what_is_wrong(text, message):
    with pytest.raises(ValueError, match="parse_kernel: .*" + message):
        parse_kernel(text)


def test_errors_name_the_function_and_argument():
    with pytest.raises(ValueError, match="preset: name must be one of 'identity'"):
        preset("blur")
    with pytest.raises(TypeError, match="parse_kernel: text must be a str"):
        parse_kernel([[1, 2]])
    with pytest.raises(ValueError, match=r"feature_map: image must be .*got shape \(2, 8\)"):
        feature_map(np.zeros((2, 8)), preset("identity"))
    with pytest.raises(ValueError, match=r"response_range: kernel must be .*\(3,\)"):
        response_range([1.0, 2.0, 3.0])
