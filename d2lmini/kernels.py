"""Classic 3 x 3 kernels of image processing, and what they make of an image.

- ``PRESETS``: the names of the kernels ``preset`` knows, in the order a menu shows them.
- ``preset``: one of them as a (3, 3) array: identity, box blur, sharpen, Sobel x, Sobel y,
  Laplacian.
- ``parse_kernel``: a kernel typed as text, ``"1 0 -1; 2 0 -2; 1 0 -1"``, as an array.
- ``response_range``: the smallest and largest value a kernel can give on an image in [0, 1].
- ``display_scale``: the colour scale that shows a kernel's feature maps.
- ``feature_map``: the kernel's feature map of an image, computed by ``corr2d``.

Like ``corr2d``, nothing here flips the kernel: Sobel x is positive where the image gets
brighter to the right. Pure NumPy, for the kernel playground of notebook 03.
"""
import numpy as np

from .conv import corr2d

__all__ = ["PRESETS", "preset", "parse_kernel", "response_range", "display_scale",
           "feature_map"]

_KERNELS = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "box blur": [[1 / 9] * 3] * 3,
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "Sobel x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "Sobel y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "Laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
}
PRESETS = tuple(_KERNELS)


def preset(name):
    """The preset kernel called ``name``, a new float (3, 3) array.

    Args:
        name: one of ``PRESETS``: "identity", "box blur", "sharpen", "Sobel x", "Sobel y",
            "Laplacian".

    Returns:
        A float (3, 3) array (a copy: changing it leaves the preset alone).

    >>> preset("Sobel x")
    array([[-1.,  0.,  1.],
           [-2.,  0.,  2.],
           [-1.,  0.,  1.]])
    >>> float(preset("box blur").sum())
    1.0

    Taught in notebook 03.
    """
    if not isinstance(name, str) or name not in _KERNELS:
        raise ValueError(f"preset: name must be one of {', '.join(map(repr, PRESETS))}, "
                         f"got {name!r}")
    return np.array(_KERNELS[name], dtype=float)  # (3, 3)


def parse_kernel(text, shape=(3, 3)):
    """A kernel written as text: numbers separated by spaces or commas, rows by ``;`` or lines.

    Args:
        text: e.g. ``"0 1 0; 1 -4 1; 0 1 0"``; fractions such as ``1/9`` are allowed.
        shape: the (kh, kw) the kernel must have.

    Returns:
        A float array of that shape.

    >>> parse_kernel("0 1 0; 1 -4 1; 0 1 0")
    array([[ 0.,  1.,  0.],
           [ 1., -4.,  1.],
           [ 0.,  1.,  0.]])
    >>> parse_kernel("1/2, -1/2", shape=(1, 2))
    array([[ 0.5, -0.5]])

    Taught in notebook 03.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_kernel: text must be a str such as '1 0 -1; 2 0 -2; 1 0 -1', "
                        f"got {type(text).__name__}")
    rows = [row.replace(",", " ").split() for row in text.replace("\n", ";").split(";")]
    rows = [row for row in rows if row]
    try:
        values = [[_number(entry) for entry in row] for row in rows]
    except ValueError as error:
        raise ValueError(f"parse_kernel: {error} in {text!r}; expected numbers such as 2, -0.5 "
                         f"or 1/9") from None
    found = (len(values), len(values[0]) if values else 0)
    if any(len(row) != found[1] for row in values) or found != tuple(shape):
        raise ValueError(f"parse_kernel: expected {shape[0]} rows of {shape[1]} numbers, got "
                         f"rows of {[len(row) for row in values]} numbers in {text!r}")
    return np.array(values, dtype=float)  # (kh, kw)


def _number(entry):
    """'2', '-0.5' or '1/9' as a float, else a ValueError naming the entry."""
    numerator, slash, denominator = entry.partition("/")
    try:
        value = float(numerator) / float(denominator) if slash else float(entry)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{entry!r} is not a number") from None
    if not np.isfinite(value):
        raise ValueError(f"{entry!r} is not a finite number")
    return value


def _kernel(func, kernel):
    kernel = np.asarray(kernel, dtype=float)
    if kernel.ndim != 2 or kernel.size == 0 or not np.isfinite(kernel).all():
        raise ValueError(f"{func}: kernel must be a non-empty 2-D array of finite numbers "
                         f"(kh, kw), got shape {kernel.shape}")
    return kernel


def response_range(kernel):
    """The smallest and largest output a kernel can give on an image with values in [0, 1].

    The largest output puts 1 under every positive entry and 0 under every negative one, so it
    is the sum of the positive entries; the smallest is the sum of the negative ones. A
    colour scale over this range shows every image's feature map on the same scale.

    Args:
        kernel: a 2-D array.

    Returns:
        ``(low, high)``, two floats with ``low <= 0 <= high``.

    >>> response_range(preset("Sobel x"))
    (-4.0, 4.0)
    >>> response_range(preset("box blur"))
    (0.0, 1.0)

    Taught in notebook 03.
    """
    kernel = _kernel("response_range", kernel)
    return float(kernel[kernel < 0].sum()) + 0.0, float(kernel[kernel > 0].sum())


def display_scale(kernel):
    """The colormap and the limits that show a kernel's feature maps of images in [0, 1].

    A kernel whose entries sum to 1 (identity, box blur, sharpen) keeps the brightness of flat
    regions, so its feature map is a picture: gray from 0 (black) to 1 (white), brighter or
    darker values shown as white or black. Any other kernel gets the scale of
    :func:`response_range`: gray from 0 when it cannot give negative values, else red-blue,
    symmetric around 0 (white), for kernels that respond to change (their entries sum to 0).

    Args:
        kernel: a 2-D array.

    Returns:
        ``(cmap, (vmin, vmax))``: a Matplotlib colormap name and the limits.

    >>> display_scale(preset("sharpen"))
    ('gray', (0.0, 1.0))
    >>> display_scale(preset("Laplacian"))
    ('RdBu_r', (-4.0, 4.0))

    Taught in notebook 03.
    """
    kernel = _kernel("display_scale", kernel)
    if np.isclose(kernel.sum(), 1.0):
        return "gray", (0.0, 1.0)
    low, high = response_range(kernel)
    if low >= 0:
        return "gray", (0.0, high if high > 0 else 1.0)
    edge = max(-low, high)
    return "RdBu_r", (-edge, edge)


def feature_map(image, kernel):
    """The feature map of ``image`` under ``kernel``: ``corr2d(image, kernel)``, checked.

    Args:
        image: a 2-D image (H, W), for example ``data.photo(size=100)``.
        kernel: a 2-D kernel (kh, kw), for example ``preset("Laplacian")``.

    Returns:
        A float (H - kh + 1, W - kw + 1) array.

    >>> image = np.zeros((4, 5)); image[:, 3:] = 1.0   # a dark-to-bright edge
    >>> feature_map(image, preset("Sobel x"))
    array([[0., 4., 4.],
           [0., 4., 4.]])

    Taught in notebook 03.
    """
    kernel = _kernel("feature_map", kernel)
    image = np.asarray(image, dtype=float)
    if image.ndim != 2 or image.shape[0] < kernel.shape[0] or image.shape[1] < kernel.shape[1]:
        raise ValueError(f"feature_map: image must be a 2-D array (H, W) at least as large as "
                         f"the kernel of {kernel.shape}, got shape {image.shape}")
    return corr2d(image, kernel)  # (H, W) -> (H - kh + 1, W - kw + 1)
