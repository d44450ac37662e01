"""Pictures of arrays: images, kernels and feature maps side by side, loss curves, and a plot
of training that updates as it goes.

Matplotlib is imported inside each function, so ``import d2lmini`` stays NumPy-only.
Used in notebooks 01-04 and 08; ``show_arrays`` plays the part of d2l's ``show_images``,
``Animator`` is d2l's.
"""
import math
import numbers
import sys
import time
from collections.abc import Iterable, Mapping

import numpy as np

__all__ = ["set_figsize", "show_arrays", "loss_curve", "Animator"]

SMALL = 10  # arrays up to SMALL x SMALL get a pixel grid, integer ticks and their values written in


def set_figsize(figsize=(3.5, 2.5)):
    """Set Matplotlib's default figure size, in inches (d2l's ``set_figsize``).

    Args:
        figsize: ``(width, height)`` in inches.

    >>> import matplotlib
    >>> set_figsize((4, 3))
    >>> matplotlib.rcParams["figure.figsize"]
    [4.0, 3.0]
    >>> set_figsize()  # back to the book's default

    Used in notebook 01.
    """
    import matplotlib

    matplotlib.rcParams["figure.figsize"] = figsize


def _as_2d(index, value):
    """``value`` as a float (H, W) array, without leading axes of size 1: (1, 1, H, W) -> (H, W)."""
    array = _real_array(f"show_arrays: arrays[{index}]", value)
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]  # (1, ..., H, W) -> (..., H, W)
    if array.ndim != 2 or array.size == 0:
        raise ValueError(
            f"show_arrays: arrays[{index}] must be a non-empty 2-D array (H, W), or (1, 1, H, W) "
            f"and the like, got shape {np.shape(value)}"
            + ("; to show the maps of a (C, H, W) stack side by side, pass list(stack)"
               if array.ndim == 3 else "")
        )
    return array


def _real_array(place, value):
    """``value`` as a float array, with an error naming ``place`` for anything else."""
    try:
        array = np.asarray(value)
    except ValueError:  # ragged nested lists
        raise ValueError(
            f"{place} must be an array or nested lists of equal lengths; got a "
            f"{type(value).__name__} whose rows differ in length"
        ) from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{place} must hold real numbers, got {type(value).__name__} {value!r:.60}"
            f" (dtype {array.dtype})"
        )
    return array.astype(float)


def _limits(arrays):
    """``(vmin, vmax, cmap)`` for values shown together: 0 is black on 'gray' when no value is
    negative, and white in the middle of 'RdBu_r' when some are."""
    finite = [a[np.isfinite(a)] for a in arrays]
    low = min((f.min() for f in finite if f.size), default=0.0)
    high = max((f.max() for f in finite if f.size), default=1.0)
    if low >= 0:
        return 0.0, (high if high > 0 else 1.0), "gray"
    edge = max(-low, high)
    return -edge, edge, "RdBu_r"


def _annotate(ax, image, array, fmt):
    """Write each value in its cell, black on light cells and white on dark ones.

    The values sit inside the Axes, so the layout need not measure them (``in_layout=False``):
    a figure of many small arrays draws a quarter faster.
    """
    for (i, j), value in np.ndenumerate(array):
        red, green, blue, _ = image.cmap(image.norm(value))
        light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.5
        ax.text(j, i, fmt.format(value + 0.0), ha="center", va="center",  # + 0.0: no "-0"
                color="black" if light else "white", fontsize="small", in_layout=False)


def _pixel_grid(ax, height, width):
    """Integer ticks on every pixel, thin lines between pixels.

    The lines are one LineCollection (a single artist), not minor ticks with grid lines: each
    tick is several artists to lay out and draw, which made a small panel slow to show.
    """
    from matplotlib.collections import LineCollection

    ax.set_xticks(range(width))
    ax.set_yticks(range(height))
    ax.tick_params(which="both", length=0, labelsize="x-small")
    top, right = height - 0.5, width - 0.5
    segments = ([[(x, -0.5), (x, top)] for x in np.arange(-0.5, width)]  # between columns
                + [[(-0.5, y), (right, y)] for y in np.arange(-0.5, height)])  # between rows
    ax.add_collection(LineCollection(segments, colors="0.6", linewidths=0.5),
                      autolim=False)  # the image's extent stays the axes' limits


def _is_range(value):
    """Whether ``value`` is None or one ``(vmin, vmax)`` pair of finite numbers, vmin < vmax."""
    return value is None or (isinstance(value, (tuple, list)) and len(value) == 2
                             and all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                                     and math.isfinite(v) for v in value)
                             and value[0] < value[1])


def _is_cmap(value):
    """Whether ``value`` is None or the name of a Matplotlib colormap."""
    import matplotlib

    return value is None or (isinstance(value, str) and value in matplotlib.colormaps)


def _per_panel(name, value, count, valid_one):
    """``value`` for every panel: a tuple repeating one setting, or the list given per panel."""
    if valid_one(value):
        return (value,) * count
    what = {"cmap": "a Matplotlib colormap name or None",
            "limits": "a pair (vmin, vmax) of finite numbers with vmin < vmax, or None"}[name]
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"show_arrays: {name} must be {what}, or a list of {count} of them "
                         f"(one per array), got {value!r}")
    value = list(value)
    if len(value) != count or not all(valid_one(v) for v in value):
        raise ValueError(
            f"show_arrays: {name} must be one setting or a list of {count} (one per array), "
            f"each {what}; got {value!r}"
        )
    return value


def _check_annotate(annotate):
    """None, a bool, or a format string that formats a float."""
    if annotate is None or isinstance(annotate, (bool, np.bool_)):
        return
    if not isinstance(annotate, str):
        raise TypeError(
            f"show_arrays: annotate must be None, True, False or a format string such as "
            f"'{{:.2f}}', got {annotate!r}"
        )
    try:
        annotate.format(0.5)
    except (ValueError, IndexError, KeyError) as error:
        raise ValueError(
            f"show_arrays: annotate {annotate!r} is not a format string for one number, such "
            f"as '{{:.2f}}' ({error})"
        ) from None


def show_arrays(arrays, titles=None, ncols=None, cmap=None, shared_scale=True, annotate=None,
                colorbar=True, scale=2.0, limits=None):
    """Draw 2-D arrays (images, kernels, feature maps) side by side, one pixel per entry.

    Every array is shown with ``imshow`` (no smoothing). With ``shared_scale`` all panels use
    one colour scale and one colorbar, so equal values look equal across panels. Unless
    ``cmap`` is given the colours are 'gray' from 0 (black) to the largest value (white)
    when no value is negative, else 'RdBu_r' from -m (blue) through 0 (white) to m (red).

    Args:
        arrays: a sequence of arrays, each (H, W) or (1, ..., 1, H, W); or one NumPy array.
        titles: one title per array, or None.
        ncols: panels per row; default all in one row.
        cmap: a Matplotlib colormap name, or None for the default above; or a list with one
            name (or None) per panel, e.g. ``["gray", "RdBu_r"]`` for an image and an edge map.
        shared_scale: one colour scale for all panels (True) or one per panel (False).
        limits: None (from the data, as above); a pair ``(vmin, vmax)`` for every panel; or
            a list with one pair (or None) per panel. Per-panel colormaps or limits give each
            panel its own colorbar.
        annotate: write the values in the cells: None writes them for arrays up to
            10 x 10, True and False always and never; a format string such as ``"{:.2f}"``
            writes them always in that format (the default is ``"{:.3g}"``).
        colorbar: draw the colorbar (one per figure, or one per panel when not shared).
        scale: size of a panel in inches, as in d2l's ``show_images``.

    Returns:
        ``(fig, axes)``: the figure and a 1-D array of Axes, ``axes[i]`` showing ``arrays[i]``.

    >>> import numpy as np
    >>> X = np.ones((6, 8)); X[:, 2:6] = 0
    >>> fig, axes = show_arrays([X, np.array([[1.0, -1.0]])], titles=["X", "K"])
    >>> [ax.get_title() for ax in axes]
    ['X', 'K']
    >>> axes[1].images[0].get_clim()  # one scale for both, symmetric around 0
    (-1.0, 1.0)
    >>> import matplotlib.pyplot as plt; plt.close(fig)

    Used in notebooks 01-04.
    """
    import matplotlib.pyplot as plt

    # Every argument is checked before the figure exists, so a failed call leaves none open.
    if hasattr(arrays, "shape"):  # one array, not a list of them
        arrays = [arrays]
    if isinstance(arrays, str) or not isinstance(arrays, Iterable):
        raise TypeError(
            f"show_arrays: arrays must be a list of 2-D arrays, or one array, got {arrays!r:.60}"
        )
    arrays = [_as_2d(i, a) for i, a in enumerate(arrays)]
    if not arrays:
        raise ValueError("show_arrays: arrays must hold at least one array, got none")
    titles = [titles] if isinstance(titles, str) else titles
    if titles is not None and (not isinstance(titles, Iterable) or hasattr(titles, "shape")):
        raise TypeError(
            f"show_arrays: titles must be None, a str, or a list of one str per array, got "
            f"{titles!r:.60}"
        )
    titles = None if titles is None else list(titles)
    if titles is not None and len(titles) != len(arrays):
        raise ValueError(
            f"show_arrays: got {len(titles)} titles for {len(arrays)} arrays; "
            "give one title per array"
        )
    ncols = len(arrays) if ncols is None else ncols
    if not isinstance(ncols, (int, np.integer)) or isinstance(ncols, bool) or ncols < 1:
        raise ValueError(f"show_arrays: ncols must be a positive int, got {ncols!r}")
    if (not isinstance(scale, numbers.Real) or isinstance(scale, bool)
            or not (math.isfinite(scale) and scale > 0)):
        raise ValueError(f"show_arrays: scale must be positive (inches per panel), got {scale!r}")
    cmaps = _per_panel("cmap", cmap, len(arrays), _is_cmap)
    ranges = _per_panel("limits", limits, len(arrays), _is_range)
    _check_annotate(annotate)
    panel_scales = not isinstance(cmaps, tuple) or not isinstance(ranges, tuple)
    ncols = min(ncols, len(arrays))
    nrows = math.ceil(len(arrays) / ncols)
    width = ncols * scale + (0.8 if colorbar and shared_scale else 0.0)
    fig, grid = plt.subplots(nrows, ncols, figsize=(width, nrows * scale), squeeze=False,
                             layout="constrained")
    try:
        _draw_panels(fig, grid, arrays, titles, cmaps, ranges, panel_scales, shared_scale,
                     annotate, colorbar)
    except BaseException:
        plt.close(fig)  # no half-drawn figure left for Jupyter to show under the traceback
        raise
    return fig, grid.ravel()[: len(arrays)]


def _draw_panels(fig, grid, arrays, titles, cmaps, ranges, panel_scales, shared_scale,
                 annotate, colorbar):
    """The drawing part of ``show_arrays``, on checked arguments."""
    for ax in grid.flat[len(arrays):]:
        fig.delaxes(ax)
    axes = grid.ravel()[: len(arrays)]
    shared = _limits(arrays)
    for i, (ax, array) in enumerate(zip(axes, arrays)):
        vmin, vmax, default_cmap = shared if shared_scale else _limits([array])
        if ranges[i] is not None:
            vmin, vmax = ranges[i]
            default_cmap = "gray" if vmin >= 0 else "RdBu_r"
        image = ax.imshow(array, cmap=cmaps[i] or default_cmap, vmin=vmin, vmax=vmax,
                          interpolation="nearest")
        small = max(array.shape) <= SMALL
        if small:
            _pixel_grid(ax, *array.shape)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
        if annotate or (annotate is None and small):
            _annotate(ax, image, array, annotate if isinstance(annotate, str) else "{:.3g}")
        if titles is not None:
            ax.set_title(titles[i])
        if colorbar and (panel_scales or not shared_scale):
            fig.colorbar(image, ax=ax, shrink=0.8)
    if colorbar and shared_scale and not panel_scales:
        fig.colorbar(axes[0].images[0], ax=list(axes), shrink=0.8)


def _as_1d(place, value):
    curve = _real_array(f"loss_curve: {place}", value)
    if curve.ndim != 1 or curve.size == 0:
        raise ValueError(
            f"loss_curve: {place} must be a non-empty 1-D sequence, got shape {curve.shape}"
        )
    return curve


def loss_curve(losses, labels=None, xlabel="step", ylabel="loss", logy=False, ax=None):
    """Plot one or several loss sequences against the step number, counted from 1.

    Args:
        losses: a 1-D sequence of losses; a dict ``{label: sequence}``; or a sequence of
            1-D sequences (they may differ in length).
        labels: the legend label (a str) for one sequence, or a list with one label per
            sequence; must be None when ``losses`` is a dict (its keys are the labels).
        xlabel, ylabel: the axis labels.
        logy: use a logarithmic y axis (a loss that falls by factors shows as a straight line).
        ax: the Axes to draw on; default a new figure.

    Returns:
        ``(fig, ax)``.

    >>> fig, ax = loss_curve({"train": [4.0, 1.0, 0.25]}, logy=True)
    >>> ax.lines[0].get_xdata()
    array([1, 2, 3])
    >>> ax.get_legend().get_texts()[0].get_text()
    'train'
    >>> import matplotlib.pyplot as plt; plt.close(fig)

    Used in notebook 04.
    """
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes
    from matplotlib.ticker import MaxNLocator

    if isinstance(losses, (str, bytes)) or not isinstance(losses, Iterable):
        raise TypeError(
            "loss_curve: losses must be a sequence of numbers, a dict {label: sequence} or a "
            f"list of sequences, got {losses!r:.60}"
        )
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"loss_curve: ax must be a Matplotlib Axes or None, got {ax!r:.60}")
    if not isinstance(losses, Mapping) and not hasattr(losses, "__len__"):
        losses = list(losses)  # a generator or another one-pass iterable: its values
    if isinstance(losses, Mapping):
        if labels is not None:
            raise ValueError(
                "loss_curve: labels must be None when losses is a dict; its keys are the labels"
            )
        names, curves = [str(k) for k in losses], list(losses.values())
        where = [f"losses[{k!r}]" for k in losses]
    elif len(losses) and np.ndim(losses[0]) == 1:
        curves = list(losses)
        if labels is not None and (isinstance(labels, str) or not isinstance(labels, Iterable)):
            raise TypeError(
                f"loss_curve: {len(curves)} loss sequences take a list of {len(curves)} labels, "
                f"got {labels!r:.60}"
            )
        names = [None] * len(curves) if labels is None else list(labels)
        where = [f"losses[{i}]" for i in range(len(curves))]
        if len(names) != len(curves):
            raise ValueError(
                f"loss_curve: got {len(names)} labels for {len(curves)} loss sequences"
            )
    else:
        if labels is not None and not isinstance(labels, str):
            raise ValueError(
                f"loss_curve: one loss sequence takes one label (a str), got {labels!r}"
            )
        names, curves, where = [labels], [losses], ["losses"]
    curves = [_as_1d(place, curve) for place, curve in zip(where, curves)]
    new_figure = ax is None
    if new_figure:
        fig, ax = plt.subplots(layout="constrained")
    else:
        fig = ax.figure
    try:
        for name, curve in zip(names, curves):
            ax.plot(np.arange(1, curve.size + 1), curve, label=name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if logy:
            ax.set_yscale("log")
        if any(name is not None for name in names):
            ax.legend()
    except BaseException:
        if new_figure:
            plt.close(fig)  # no half-drawn figure left open
        raise
    return fig, ax


# --------------------------------------------------------------------- training, live
def _notebook_shell():
    """The IPython kernel's shell when running in a notebook, else None (a script, a test)."""
    if "IPython" not in sys.modules:  # never imported: certainly not a notebook
        return None
    from IPython import get_ipython

    shell = get_ipython()
    return shell if shell is not None and hasattr(shell, "kernel") else None


def _number(name, value):
    """``value`` (a number, a NumPy scalar or a one-value array) as a float; None stays None."""
    if value is None:
        return None
    if isinstance(value, (str, bytes, bool)) or np.ndim(value) != 0:
        raise TypeError(f"Animator.add: {name} must hold numbers (or None), got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"Animator.add: {name} must hold numbers (or None), got {value!r}") from None


class Animator:
    """A figure of curves that grow as training goes, redrawn in place: d2l's ``Animator``.

    Call ``add(x, y)`` once per epoch (or every few steps) with the x value and one y value
    per curve; the figure is redrawn with every point so far. In a notebook it is shown once
    and then updated in place (an IPython display handle), so the cell's output ends as the
    one final figure; in a script or a test nothing is shown, and ``fig`` holds the figure.

    Args:
        xlabel, ylabel: the axis labels.
        legend: one label per curve, or None.
        xlim, ylim: ``(low, high)`` limits of the axes, or None for Matplotlib's.
        xscale, yscale: ``"linear"`` or ``"log"``.
        fmts: a format string per curve, as ``plt.plot`` takes them (at least one per curve).
        nrows, ncols: subplots in the figure (the curves go in the first, as in d2l).
        figsize: ``(width, height)`` in inches.

    Attributes:
        fig: the Matplotlib Figure (not managed by pyplot: ``plt.show()`` leaves it alone).
        axes: the 1-D array of its Axes; the curves are in ``axes[0]``.
        X, Y: lists with one list of x values and one of y values per curve.

    >>> animator = Animator(xlabel="epoch", legend=["train loss", "test acc"])
    >>> for epoch in range(1, 4):
    ...     animator.add(epoch, (1 / epoch, 0.5 + epoch / 10))
    >>> animator.Y[1]
    [0.6, 0.7, 0.8]
    >>> [line.get_label() for line in animator.axes[0].lines]
    ['train loss', 'test acc']

    Used in notebook 08 (LeNet's training).
    """

    def __init__(self, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
                 xscale="linear", yscale="linear", fmts=("-", "m--", "g-.", "r:"), nrows=1,
                 ncols=1, figsize=(3.5, 2.5)):
        from matplotlib.figure import Figure  # not pyplot's: shown by _show, once

        if legend is not None and (isinstance(legend, str)
                                   or not all(isinstance(t, str) for t in legend)):
            raise ValueError(f"Animator: legend must be a list of str (one per curve), got "
                             f"{legend!r}")
        if isinstance(fmts, str) or not len(fmts) or not all(isinstance(f, str) for f in fmts):
            raise ValueError(f"Animator: fmts must be a list of format strings, got {fmts!r}")
        for name, value in (("nrows", nrows), ("ncols", ncols)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Animator: {name} must be a positive int, got {value!r}")
        for name, value in (("xlim", xlim), ("ylim", ylim), ("figsize", figsize)):
            if value is not None and not (len(value) == 2 and all(
                    isinstance(v, numbers.Real) and np.isfinite(v) for v in value)):
                raise ValueError(f"Animator: {name} must be a pair of numbers, got {value!r}")
        for name, value in (("xscale", xscale), ("yscale", yscale)):
            if value not in ("linear", "log"):
                raise ValueError(f"Animator: {name} must be 'linear' or 'log', got {value!r}")
        self.fig = Figure(figsize=figsize, layout="constrained")
        self.axes = self.fig.subplots(nrows, ncols, squeeze=False).ravel()
        self._config = dict(xlabel=xlabel, ylabel=ylabel, xlim=xlim, ylim=ylim,
                            xscale=xscale, yscale=yscale)
        self.legend, self.fmts = None if legend is None else list(legend), list(fmts)
        self.X = self.Y = None
        self._handle = None
        self._shown_at = None  # time.monotonic() of the last picture sent to the notebook
        self._pending = False  # points added since then
        self._hooked = None  # the shell whose post_execute event will send the last picture

    redraw_interval = 2.0  # seconds: in a notebook, at most one new picture per interval

    def add(self, x, y):
        """Add one point to each curve and redraw.

        Args:
            x: the x value, one for all curves, or a list with one per curve.
            y: a number (one curve) or a list with one y value per curve; a None leaves
                that curve without a point this time.

        In a notebook the picture is sent at the first call, then at most once per
        ``redraw_interval`` seconds (making a PNG costs more than a fast epoch), at the point
        that reaches the end of ``xlim``, and at the end of the cell: the cell always ends
        with every point shown.
        """
        ys = [y] if y is None or np.ndim(y) == 0 else list(y)
        xs = [x] * len(ys) if x is None or np.ndim(x) == 0 else list(x)
        n = len(ys) if self.Y is None else len(self.Y)
        if len(ys) != n or len(xs) != n:
            raise ValueError(
                f"Animator.add: got {len(xs)} x and {len(ys)} y values, expected one per curve "
                f"({n})"
            )
        xs = [_number("x", v) for v in xs]
        ys = [_number("y", v) for v in ys]
        if len(self.fmts) < n or (self.legend is not None and len(self.legend) != n):
            raise ValueError(
                f"Animator.add: {n} curves, but {len(self.fmts)} fmts and "
                f"{'no' if self.legend is None else len(self.legend)} legend labels; expected "
                "at least one format and exactly one label (if any) per curve"
            )
        if self.Y is None:
            self.X, self.Y = [[] for _ in range(n)], [[] for _ in range(n)]
        for i, (a, b) in enumerate(zip(xs, ys)):
            if a is not None and b is not None:
                self.X[i].append(a)
                self.Y[i].append(b)
        self._draw()
        self._pending = True
        shell = _notebook_shell()
        if shell is None:
            return
        xlim = self._config["xlim"]
        last = xlim is not None and any(a is not None and a >= max(xlim) for a in xs)
        if (self._shown_at is None or last
                or time.monotonic() - self._shown_at >= self.redraw_interval):
            self._show()
        elif self._hooked is None:  # the cell's end sends the points not shown yet
            shell.events.register("post_execute", self._flush)
            self._hooked = shell

    def _flush(self):
        """post_execute: show the points added since the last picture, once."""
        if self._hooked is not None:
            self._hooked.events.unregister("post_execute", self._flush)
            self._hooked = None
        if self._pending:
            self._show()

    def _draw(self):
        """Put the data into the curves: lines and axes are made at the first call, then
        only their data changes (no clearing and re-making at every point)."""
        ax, config = self.axes[0], self._config
        if not ax.lines:
            labels = self.legend or [None] * len(self.Y)
            for fmt, label in zip(self.fmts, labels):
                ax.plot([], [], fmt, label=label)
            ax.set_xlabel(config["xlabel"] or "")
            ax.set_ylabel(config["ylabel"] or "")
            ax.set_xscale(config["xscale"])
            ax.set_yscale(config["yscale"])
            if config["xlim"] is not None:
                ax.set_xlim(config["xlim"])
            if config["ylim"] is not None:
                ax.set_ylim(config["ylim"])
            if self.legend:
                ax.legend()
            ax.grid(True)
        for line, xs, ys in zip(ax.lines, self.X, self.Y):
            line.set_data(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
        ax.relim()
        ax.autoscale_view()  # the axes given a limit keep it

    def _show(self):
        """Show the figure in the notebook the first time; replace it there afterwards."""
        import base64
        import io

        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", bbox_inches="tight")  # as the inline backend
        bundle = {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
                  "text/plain": repr(self.fig)}
        self._publish(bundle)
        self._shown_at, self._pending = time.monotonic(), False

    def _publish(self, bundle):
        from IPython.display import display

        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)
