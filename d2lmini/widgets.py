"""Interactive figures for the lessons: move a slider, see the picture change.

Four figures, each a drawing function of its arguments and a widget that redraws it when a
control moves:

- ``draw_window_step`` / ``sliding_window``: the window of a cross-correlation, its products and
  the output filling in, step by step (notebook 01);
- ``draw_kernel`` / ``kernel_playground``: a 3 x 3 kernel and the feature map it makes of a
  photo (notebook 03);
- ``draw_descent`` / ``learning_rate``: gradient descent in the loss bowl for one learning
  rate, its loss curve and the stability limit (notebook 04);
- ``draw_windows`` / ``padding_and_stride``: the windows on the padded input and the output's
  shape (notebook 05).

The numbers come from the pure functions of ``windows``, ``kernels`` and ``landscape``; this
module only draws them. ``small_multiples`` draws one figure for several settings side by side:
the static version of a widget, for a page without a running kernel. Matplotlib and ipywidgets
are imported inside the functions, so ``import d2lmini`` loads neither.

Every widget is an ``ipywidgets.VBox`` with the class ``d2lmini-widget``: its controls, then an
``Output`` in which the figure is drawn anew each time a control changes.
"""
import math

import numpy as np

from . import kernels, landscape, windows

__all__ = ["draw_window_step", "sliding_window", "draw_kernel", "kernel_playground",
           "draw_descent", "learning_rate", "draw_windows", "padding_and_stride",
           "small_multiples"]

WINDOW = "tab:orange"  # the colour of the window (and of what it computes) in every figure
# A loss axis spanning more decades than this shows the decades only, no minor ticks: they
# crowd, and drawing them took a fifth of draw_descent's time.
MANY_DECADES = 3


# --------------------------------------------------------------------- drawing helpers
def _axes(func, axes, count, scale):
    """``(fig, [count Axes])``: the Axes given, checked, or a new figure with one row of them."""
    import matplotlib.pyplot as plt

    if axes is None:
        fig, grid = plt.subplots(1, count, figsize=(count * scale, scale), squeeze=False,
                                 layout="constrained")
        return fig, list(grid[0])
    axes = list(np.ravel(axes))
    if len(axes) != count:
        raise ValueError(f"{func}: axes must be {count} Matplotlib Axes (one per panel), got "
                         f"{len(axes)}")
    return axes[0].figure, axes


def _grid(ax, array, cmap, limits, fmt=None):
    """``array`` as one cell per entry, NaN cells left blank, values written in with ``fmt``."""
    array = np.asarray(array, dtype=float)
    image = ax.imshow(np.ma.masked_invalid(array), cmap=cmap, vmin=limits[0], vmax=limits[1],
                      interpolation="nearest")
    height, width = array.shape
    ax.set_xticks(range(width))
    ax.set_yticks(range(height))
    ax.set_xticks(np.arange(-0.5, width), minor=True)
    ax.set_yticks(np.arange(-0.5, height), minor=True)
    ax.grid(which="minor", color="0.6", linewidth=0.5)
    ax.tick_params(which="both", length=0, labelsize="x-small")
    if fmt is not None:
        for (i, j), value in np.ndenumerate(array):
            if np.isfinite(value):
                red, green, blue, _ = image.cmap(image.norm(value))
                light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.5
                # inside the Axes: the layout need not measure it (see plot._annotate)
                ax.text(j, i, fmt.format(value + 0.0), ha="center", va="center",
                        color="black" if light else "white", fontsize="small", in_layout=False)
    return image


def _scale(low, high):
    """``(cmap, (vmin, vmax))``: gray from 0 when nothing is negative, else red-blue around 0."""
    if low >= 0:
        return "gray", (0.0, high if high > 0 else 1.0)
    edge = max(-low, high)
    return "RdBu_r", (-edge, edge)


def _outline(ax, row, col, height, width, colour=WINDOW, linewidth=3):
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((col - 0.5, row - 0.5), width, height, fill=False, edgecolor=colour,
                           linewidth=linewidth))


# --------------------------------------------------------------------- widget plumbing
_BOX = []  # the VBox subclass, made on first use (ipywidgets is imported only then)


def _box(children, summary):
    """A VBox of ``children`` with the class ``d2lmini-widget``; ``summary`` is its text/plain."""
    if not _BOX:
        import ipywidgets

        class LessonWidget(ipywidgets.VBox):
            """A lesson's interactive figure; its plain-text form says what it is."""
            summary = ""

            def __repr__(self):
                return self.summary

        _BOX.append(LessonWidget)
    box = _BOX[0](children=children)
    box.summary = summary
    box.add_class("d2lmini-widget")
    return box


def _in_kernel():
    """True when running in a Jupyter kernel (a notebook), where an Output shows its figure."""
    import sys

    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def _live(children, draw, summary, watch=None):
    """The widget: ``children`` (its controls), then an Output redrawn by ``draw()``.

    The figure is redrawn whenever the value of a control in ``watch`` (default: every child)
    changes, and by ``widget.redraw()``. ``draw()`` returns ``(fig, axes)``; the widget keeps the
    last figure drawn in ``widget.figure`` (closed once shown), so what it shows can be checked.
    """
    import ipywidgets
    import matplotlib.pyplot as plt

    out = ipywidgets.Output()
    box = _box([*children, out], summary)
    box.figure = None

    def redraw(change=None):
        if not _in_kernel():  # a script or a test: nothing shows the Output; just draw
            fig, _ = draw()
            box.figure = fig
            plt.close(fig)
            return
        with out:
            out.clear_output(wait=True)
            fig, _ = draw()
            box.figure = fig
            plt.show()
            plt.close(fig)

    for control in children if watch is None else watch:
        control.observe(redraw, names="value")
    box.redraw = redraw
    redraw()
    return box


def small_multiples(draw, settings, per_row=1, scale=2.6, titles=None):
    """One figure with ``draw(**setting)`` drawn for every setting: a widget's static version.

    Args:
        draw: one of this module's drawing functions (it has a ``panels`` attribute).
        settings: a list of dicts of keyword arguments for ``draw``, one per drawing.
        per_row: drawings per row of the figure.
        scale: the size of a panel in inches.
        titles: one line per drawing, put above its first panel, or None.

    Returns:
        ``(fig, axes)``: ``axes[k]`` is the list of Axes of drawing ``k``.

    >>> import numpy as np
    >>> X, K = np.arange(9.0).reshape(3, 3), np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> fig, axes = small_multiples(draw_window_step, [dict(X=X, K=K, step=s) for s in range(4)],
    ...                             per_row=2)
    >>> len(axes), len(axes[0])
    (4, 3)
    >>> import matplotlib.pyplot as plt; plt.close(fig)

    Used in notebooks 01, 03, 04 and 05.
    """
    import matplotlib.pyplot as plt

    settings = list(settings)
    panels = getattr(draw, "panels", None)
    if panels is None:
        raise TypeError(f"small_multiples: draw must be a drawing function of d2lmini.widgets, "
                        f"got {draw!r:.60}")
    if not settings or not all(isinstance(s, dict) for s in settings):
        raise ValueError("small_multiples: settings must be a non-empty list of dicts of "
                         "keyword arguments")
    if titles is not None and len(titles) != len(settings):
        raise ValueError(f"small_multiples: got {len(titles)} titles for {len(settings)} "
                         f"settings")
    per_row = min(per_row, len(settings))
    rows = math.ceil(len(settings) / per_row)
    fig, grid = plt.subplots(rows, per_row * panels, squeeze=False, layout="constrained",
                             figsize=(per_row * panels * scale, rows * scale))
    drawn = []
    try:
        for k, setting in enumerate(settings):
            row, first = divmod(k, per_row)
            axes = list(grid[row, first * panels:(first + 1) * panels])
            draw(**setting, axes=axes)
            if titles is not None:
                axes[0].annotate(titles[k], (0, 1), xycoords="axes fraction",
                                 xytext=(0, 28), textcoords="offset points",
                                 fontweight="bold", va="bottom")
            drawn.append(axes)
        for ax in grid.ravel()[len(settings) * panels:]:
            fig.delaxes(ax)
    except BaseException:
        plt.close(fig)
        raise
    return fig, drawn


# --------------------------------------------------------------------- 01: the sliding window
def draw_window_step(X, K, step, axes=None, scale=2.6):
    """Step ``step`` of the sliding window: the window on ``X``, its products, ``Y`` so far.

    Three panels: ``X`` with the window outlined and the kernel entry that multiplies each
    input entry written under it (``×2``); the products, whose sum is this step's output value;
    and the output with the values computed up to this step (the rest blank). The products
    and the output keep one colour scale over all the steps.

    Args:
        X, K, step: as for :func:`d2lmini.windows.window_step`.
        axes: three Matplotlib Axes to draw on; default a new figure.
        scale: the size of a panel in inches, for a new figure.

    Returns:
        ``(fig, axes)``.

    >>> import numpy as np
    >>> X, K = np.arange(9.0).reshape(3, 3), np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> fig, axes = draw_window_step(X, K, 2)
    >>> axes[0].patches[0].get_xy(), axes[2].get_title()
    ((-0.5, 0.5), 'Y: 3 of 4 values')
    >>> import matplotlib.pyplot as plt; plt.close(fig)

    Taught in notebook 01.
    """
    (i, j), products, partial = windows.window_step(X, K, step)
    X, K = np.asarray(X, dtype=float), np.asarray(K, dtype=float)
    kh, kw = K.shape
    full = windows.window_step(X, K, partial.size - 1)[2]  # every value, for a fixed scale
    every_product = [X[r:r + kh, c:c + kw] * K for r in range(full.shape[0])
                     for c in range(full.shape[1])]
    fig, (ax_x, ax_p, ax_y) = _axes("draw_window_step", axes, 3, scale)
    _grid(ax_x, X, *_scale(X.min(), X.max()), fmt="{:g}")
    _outline(ax_x, i, j, kh, kw)
    for a in range(kh):
        for b in range(kw):
            ax_x.text(j + b, i + a + 0.32, f"×{K[a, b]:g}", ha="center", va="center",
                      color=WINDOW, fontsize="small", fontweight="bold", in_layout=False)
    ax_x.set_title(f"window X[{i}:{i + kh}, {j}:{j + kw}]")
    _grid(ax_p, products, *_scale(min(p.min() for p in every_product),
                                  max(p.max() for p in every_product)), fmt="{:g}")
    ax_p.set_title(f"products, sum {products.sum():g}")
    _grid(ax_y, partial, *_scale(full.min(), full.max()), fmt="{:g}")
    _outline(ax_y, i, j, 1, 1)
    ax_y.set_title(f"Y: {step + 1} of {partial.size} values")
    return fig, [ax_x, ax_p, ax_y]


draw_window_step.panels = 3


def sliding_window(X, K):
    """A slider that steps the window of ``corr2d(X, K)`` over ``X``; see ``draw_window_step``.

    Args:
        X: a 2-D input (H, W), small enough to read its values (up to about 6 x 6).
        K: a 2-D kernel (kh, kw).

    Returns:
        An ``ipywidgets.VBox``: an ``IntSlider`` "step" (from 0) and the figure.

    >>> import numpy as np
    >>> box = sliding_window(np.arange(9.0).reshape(3, 3), np.ones((2, 2)))
    >>> slider = box.children[0]; slider.value = 3
    >>> box.figure.axes[2].get_title()
    'Y: 4 of 4 values'

    Taught in notebook 01.
    """
    import ipywidgets

    _, _, partial = windows.window_step(X, K, 0)  # checks X and K
    slider = ipywidgets.IntSlider(value=0, min=0, max=partial.size - 1, description="step",
                                  continuous_update=False)
    return _live([slider], lambda: draw_window_step(X, K, slider.value),
                 "Sliding window: a slider steps the kernel over X (in a running notebook)")


# --------------------------------------------------------------------- 03: the kernel playground
def draw_kernel(image, kernel, axes=None, scale=3.0, name=None):
    """A kernel and the feature map it computes from ``image``, with ``corr2d``.

    Two panels: the kernel with its values, on a red-blue scale symmetric around 0; the feature
    map on the scale of :func:`d2lmini.kernels.display_scale`: gray from 0 (black) to 1 (white)
    for a kernel whose entries sum to 1, which keeps the brightness (a picture), else the
    range of everything the kernel can give on an image in [0, 1], red-blue around 0 when it
    can be negative.

    Args:
        image: a 2-D image with values in [0, 1], e.g. ``data.photo(size=100)``.
        kernel: a 2-D kernel, e.g. ``kernels.preset("Sobel x")``.
        axes: two Matplotlib Axes; default a new figure.
        scale: the size of a panel in inches, for a new figure.
        name: the kernel's name for the titles, or None.

    Returns:
        ``(fig, axes)``.

    >>> import numpy as np
    >>> from d2lmini import kernels
    >>> image = np.zeros((8, 8)); image[:, 4:] = 1.0
    >>> fig, axes = draw_kernel(image, kernels.preset("Sobel x"), name="Sobel x")
    >>> axes[1].images[0].get_clim(), axes[1].images[0].get_array().shape
    ((-4.0, 4.0), (6, 6))
    >>> import matplotlib.pyplot as plt; plt.close(fig)

    Taught in notebook 03.
    """
    features = kernels.feature_map(image, kernel)  # (H - kh + 1, W - kw + 1)
    kernel = np.asarray(kernel, dtype=float)
    fig, (ax_k, ax_f) = _axes("draw_kernel", axes, 2, scale)
    edge = max(np.abs(kernel).max(), 1e-12)
    _grid(ax_k, kernel, "RdBu_r", (-edge, edge), fmt="{:.3g}")
    ax_k.set_title("kernel" if name is None else f"kernel: {name}")
    cmap, limits = kernels.display_scale(kernel)
    ax_f.imshow(features, cmap=cmap, vmin=limits[0], vmax=limits[1], interpolation="nearest")
    ax_f.set_xticks([])
    ax_f.set_yticks([])
    ax_f.set_title(f"feature map {features.shape[0]} x {features.shape[1]}\n"
                   f"scale {limits[0]:.3g} to {limits[1]:.3g}", fontsize="medium")
    return fig, [ax_k, ax_f]


draw_kernel.panels = 2


def kernel_playground(image, kernel="Sobel x"):
    """Edit a 3 x 3 kernel, or pick a preset, and see its feature map of ``image``.

    Args:
        image: a 2-D image with values in [0, 1], e.g. ``data.photo(size=100)``.
        kernel: the preset shown first, one of ``kernels.PRESETS``.

    Returns:
        An ``ipywidgets.VBox``: a ``Dropdown`` of the presets, a 3 x 3 grid of ``FloatText``
        boxes holding the kernel's entries (edit any), and the figure.

    >>> import numpy as np
    >>> box = kernel_playground(np.zeros((8, 8)))
    >>> menu, entries = box.children[0], box.children[1].children
    >>> menu.value = "Laplacian"
    >>> [entry.value for entry in entries[3:6]]
    [1.0, -4.0, 1.0]
    >>> entries[4].value = -8.0
    >>> float(box.figure.axes[0].images[0].get_array()[1, 1])
    -8.0

    Taught in notebook 03.
    """
    import ipywidgets

    values = kernels.preset(kernel)
    kernels.feature_map(image, values)  # checks the image
    menu = ipywidgets.Dropdown(options=kernels.PRESETS, value=kernel, description="preset")
    entries = [ipywidgets.FloatText(value=float(v), step=0.5,
                                    layout=ipywidgets.Layout(width="5.5em"))
               for v in values.ravel()]
    grid = ipywidgets.GridBox(entries, layout=ipywidgets.Layout(
        grid_template_columns="repeat(3, 6em)"))
    state = {"loading": False, "name": kernel}

    def current():
        return np.array([entry.value for entry in entries], dtype=float).reshape(3, 3)

    def draw():
        matrix = current()
        name = state["name"] if np.array_equal(matrix, kernels.preset(state["name"])) else "yours"
        return draw_kernel(image, matrix, name=name)

    def load(change):  # a preset fills the nine boxes, then the figure is drawn once
        state["loading"], state["name"] = True, change["new"]
        for entry, v in zip(entries, kernels.preset(change["new"]).ravel()):
            entry.value = float(v)
        state["loading"] = False
        box.redraw()

    def edited(change):
        if not state["loading"]:
            box.redraw()

    box = _live([menu, grid], draw, "Kernel playground: edit a 3 x 3 kernel or pick a preset "
                                    "(in a running notebook)", watch=[])
    menu.observe(load, names="value")
    for entry in entries:
        entry.observe(edited, names="value")
    return box


# --------------------------------------------------------------------- 04: the learning rate
def draw_descent(A, y, start, lr, num_steps, k0_values, k1_values, axes=None, scale=3.4):
    """Gradient descent on ``|A k - y|^2`` for one learning rate: path, loss curve, limit.

    Three panels: the path of a two-entry kernel on the contour lines of the loss (the best
    kernel starred); the loss at every step, on a log axis; and, against the learning rate,
    the factor ``|1 - lr * lambda|`` by which a step multiplies the error along each axis of
    the bowl, with the largest stable rate (:func:`d2lmini.landscape.largest_stable_lr`)
    marked by a dashed line and this rate by dots. Right of the dashed line the factor across
    the valley exceeds 1.

    Args:
        A: a design matrix with two columns (n, 2).
        y: the target, n values.
        start: the starting kernel, 2 values.
        lr: the learning rate, positive.
        num_steps: how many steps, an int >= 1.
        k0_values, k1_values: the grid of the contour map (1-D each).
        axes: three Matplotlib Axes; default a new figure.
        scale: the size of a panel in inches, for a new figure.

    Returns:
        ``(fig, axes)``.

    >>> import numpy as np
    >>> from d2lmini import landscape
    >>> A = landscape.design_matrix(np.eye(3), (1, 2)); y = A @ [1.0, -1.0]
    >>> fig, axes = draw_descent(A, y, [0.0, 0.0], 0.1, 5, np.linspace(-2, 2, 21),
    ...                          np.linspace(-2, 2, 21))
    >>> axes[0].lines[0].get_xydata().shape   # the path: the start and 5 steps
    (6, 2)
    >>> import matplotlib.pyplot as plt; plt.close(fig)

    Taught in notebook 04.
    """
    from matplotlib.ticker import MaxNLocator, NullLocator

    path = landscape.descent_path(A, y, start, lr, num_steps)  # (num_steps + 1, 2)
    with np.errstate(over="ignore", invalid="ignore"):
        losses = landscape.squared_error(A, y, path)  # (num_steps + 1,)
    bowl = landscape.loss_grid(A, y, k0_values, k1_values)  # (len(k1), len(k0))
    best = np.linalg.lstsq(np.asarray(A, dtype=float), np.asarray(y, dtype=float).ravel(),
                           rcond=None)[0]
    curvatures = np.linalg.eigvalsh(landscape.hessian(A))  # ascending
    limit = landscape.largest_stable_lr(A)
    fig, (ax_b, ax_l, ax_f) = _axes("draw_descent", axes, 3, scale)

    levels = np.quantile(bowl, [0.01, 0.03, 0.08, 0.15, 0.3, 0.5, 0.75])
    ax_b.contour(k0_values, k1_values, bowl, levels=np.unique(levels), colors="0.6",
                 linewidths=0.8)
    ax_b.plot(path[:, 0], path[:, 1], "o-", color="tab:red", markersize=3, linewidth=1)
    ax_b.plot(*best, "k*", markersize=10)
    ax_b.set(xlim=(k0_values[0], k0_values[-1]), ylim=(k1_values[0], k1_values[-1]),
             aspect="equal", xlabel="k0", ylabel="k1")
    ax_b.set_title(f"lr = {lr:.3f}: {num_steps} steps", fontsize="medium")

    ax_l.semilogy(np.arange(num_steps + 1), losses, "o-", color="tab:red", markersize=3)
    ax_l.xaxis.set_major_locator(MaxNLocator(integer=True))
    shown = losses[np.isfinite(losses) & (losses > 0)]
    if shown.size and np.log10(shown.max() / shown.min()) > MANY_DECADES:
        ax_l.yaxis.set_minor_locator(NullLocator())  # no minor ticks: they crowd, and cost
    ax_l.set(xlabel="step", ylabel="loss")
    ax_l.set_title("stable" if lr < limit else "unstable", fontsize="medium")

    rates = np.linspace(0, 1.3 * limit, 131)
    for curvature, style in zip(curvatures, ["-", "-."]):
        ax_f.plot(rates, np.abs(1 - rates * curvature), style, color="tab:green",
                  label=f"curvature {curvature:.3g}")
        ax_f.plot(lr, abs(1 - lr * curvature), "o", color="tab:red")
    ax_f.axhline(1, color="0.6", linewidth=0.8)
    ax_f.axvline(limit, color="k", linestyle="--", linewidth=1)
    inverse = 1 / limit
    named = f"1/{inverse:.0f}" if abs(inverse - round(inverse)) < 1e-9 else f"{limit:.3g}"
    ax_f.annotate(f"limit {named}", (limit, 0.05), xytext=(-4, 0), textcoords="offset points",
                  ha="right", fontsize="small")
    ax_f.set(xlabel="learning rate", ylabel="|1 - lr · curvature|", ylim=(0, 1.6))
    ax_f.set_title("error factor per step", fontsize="medium")
    ax_f.legend(fontsize="x-small", loc="upper left")
    return fig, [ax_b, ax_l, ax_f]


draw_descent.panels = 3


def learning_rate(A, y, start, k0_values, k1_values, lr=0.03, num_steps=20, max_lr=None):
    """A learning-rate slider for gradient descent in the loss bowl; see ``draw_descent``.

    Args:
        A, y, start, k0_values, k1_values: as for :func:`draw_descent`.
        lr: the rate shown first.
        num_steps: steps per path.
        max_lr: the slider's largest rate; default 1.2 times the stability limit.

    Returns:
        An ``ipywidgets.VBox``: a ``FloatSlider`` "lr" and the figure.

    >>> import numpy as np
    >>> from d2lmini import landscape
    >>> A = landscape.design_matrix(np.eye(3), (1, 2)); y = A @ [1.0, -1.0]
    >>> grid = np.linspace(-2, 2, 21)
    >>> box = learning_rate(A, y, [0.0, 0.0], grid, grid, lr=0.1, num_steps=5)
    >>> box.children[0].value = 0.2
    >>> box.figure.axes[0].get_title()
    'lr = 0.200: 5 steps'

    Taught in notebook 04.
    """
    import ipywidgets

    limit = landscape.largest_stable_lr(A)
    top = 1.2 * limit if max_lr is None else max_lr
    step = 10 ** math.floor(math.log10(top / 40))  # about 40 to 400 positions
    slider = ipywidgets.FloatSlider(value=lr, min=step, max=top, step=step, description="lr",
                                    readout_format=".3f", continuous_update=False)
    return _live([slider], lambda: draw_descent(A, y, start, slider.value, num_steps,
                                                k0_values, k1_values),
                 "Learning rate: a slider sets the step of gradient descent (in a running "
                 "notebook)")


# --------------------------------------------------------------------- 05: padding and stride
_FIRST_THREE = [((1, 0), "tab:blue"), ((0, 1), "tab:green"), ((0, 0), WINDOW)]


def draw_windows(input_shape, kernel_size, padding=0, strides=1, axes=None, scale=3.2):
    """The windows of a convolution on its padded input, and the output they make.

    Two panels. Left: the input (white) and its padding (gray), each cell shaded by how many
    windows read it (:func:`d2lmini.windows.coverage`; the count is written in the cell's
    corner), a dot at the centre of every window, the
    first window outlined in orange, the next one to the right in green and the next one down
    in blue. Right: the output, one cell per window, the same three cells outlined.

    Args:
        input_shape, kernel_size, padding, strides: as for :func:`d2lmini.windows.output_shape`.
        axes: two Matplotlib Axes; default a new figure.
        scale: the size of a panel in inches, for a new figure.

    Returns:
        ``(fig, axes)``.

    >>> fig, axes = draw_windows((6, 6), 3, padding=1, strides=2)
    >>> axes[1].images[0].get_array().shape
    (3, 3)
    >>> import matplotlib.pyplot as plt; plt.close(fig)

    Taught in notebook 05.
    """
    corners = windows.window_corners(input_shape, kernel_size, padding, strides)  # (Ho, Wo, 2)
    counts = windows.coverage(input_shape, kernel_size, padding, strides, include_padding=True)
    (H, W), (kh, kw), (ph, pw), (sh, _), _ = windows._checked(
        "draw_windows", input_shape, kernel_size, padding, strides)
    H_out, W_out = corners.shape[:2]
    fig, (ax_in, ax_out) = _axes("draw_windows", axes, 2, scale)
    extent = (-pw - 0.5, W + pw - 0.5, H + ph - 0.5, -ph - 0.5)  # padded row r + ph is row r
    ax_in.imshow(counts, cmap="Purples", vmin=0, vmax=max(counts.max(), 1) * 2.5,
                 extent=extent, interpolation="nearest")
    from matplotlib.patches import Rectangle

    for r in range(-ph, H + ph):
        for c in range(-pw, W + pw):
            if not (0 <= r < H and 0 <= c < W):
                ax_in.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor="0.55",
                                          alpha=0.6, edgecolor="none"))
    ax_in.add_patch(Rectangle((-0.5, -0.5), W, H, fill=False, edgecolor="k", linewidth=1.5))
    for (r, c), count in np.ndenumerate(counts):  # in the corner: the centre holds the dots
        ax_in.text(c - pw - 0.42, r - ph - 0.38, f"{count}", ha="left", va="top",
                   fontsize="xx-small", color="0.25", in_layout=False)
    centres = corners + (np.array([kh, kw]) - 1) / 2  # (Ho, Wo, 2): (row, column) of each
    ax_in.plot(centres[..., 1].ravel(), centres[..., 0].ravel(), "k.", markersize=6)
    for (i, j), colour in _FIRST_THREE:  # drawn last to first: the first window on top
        if i < H_out and j < W_out:
            _outline(ax_in, *corners[i, j], kh, kw, colour)
    ax_in.set(xlim=extent[:2], ylim=extent[2:], aspect="equal")
    ax_in.set_xticks(range(-pw, W + pw))
    ax_in.set_yticks(range(-ph, H + ph))
    ax_in.set_xticks(np.arange(-pw - 0.5, W + pw), minor=True)
    ax_in.set_yticks(np.arange(-ph - 0.5, H + ph), minor=True)
    ax_in.grid(which="minor", color="0.6", linewidth=0.5)
    ax_in.tick_params(which="both", length=0, labelsize="x-small")
    ax_in.set_title(f"input {H} x {W}, kernel {kh} x {kw},\npadding {ph}, stride "
                    f"{sh}", fontsize="medium")
    _grid(ax_out, np.zeros((H_out, W_out)), "gray", (-1, 0))
    for (i, j), colour in _FIRST_THREE:
        if i < H_out and j < W_out:
            _outline(ax_out, i, j, 1, 1, colour)
    ax_out.set_title(f"output {H_out} x {W_out}", fontsize="medium")
    return fig, [ax_in, ax_out]


draw_windows.panels = 2


def padding_and_stride(input_shape=(6, 6), kernel_size=3, padding=0, strides=1):
    """Sliders for the kernel size, the padding and the stride; see ``draw_windows``.

    Args:
        input_shape: the (H, W) of the input.
        kernel_size, padding, strides: the square setting shown first (ints).

    Returns:
        An ``ipywidgets.VBox``: three ``IntSlider`` ("kernel", "padding", "stride") and the
        figure. A kernel larger than the padded input is refused in the figure's place.

    >>> box = padding_and_stride((6, 6))
    >>> kernel, padding, stride = box.children[:3]
    >>> padding.value, stride.value = 1, 2
    >>> box.figure.axes[-1].get_title()
    'output 3 x 3'

    Taught in notebook 05.
    """
    import ipywidgets
    import matplotlib.pyplot as plt

    (H, W), *_ = windows._checked("padding_and_stride", input_shape, kernel_size, padding,
                                  strides)  # checks the setting
    sliders = [ipywidgets.IntSlider(value=value, min=low, max=high, description=name,
                                    continuous_update=False)
               for name, value, low, high in [("kernel", kernel_size, 1, min(H, W)),
                                              ("padding", padding, 0, 3),
                                              ("stride", strides, 1, 4)]]

    def draw():
        k, p, s = (slider.value for slider in sliders)
        try:
            return draw_windows(input_shape, k, p, s)
        except ValueError as error:  # cannot happen with these ranges; said, not raised
            fig, ax = plt.subplots(figsize=(6, 1))
            ax.axis("off")
            ax.text(0, 0.5, str(error), wrap=True, va="center")
            return fig, [ax]

    return _live(sliders, draw, "Padding and stride: sliders set the kernel, the padding and "
                                "the stride (in a running notebook)")
