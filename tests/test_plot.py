"""d2lmini.plot, checked through what the figures show."""
import subprocess
import sys

import matplotlib
import numpy as np
import pytest

from d2lmini.plot import loss_curve, set_figsize, show_arrays

X = np.ones((6, 8))
X[:, 2:6] = 0  # the book's stripes
K = np.array([[1.0, -1.0]])
Y = np.zeros((6, 7))
Y[:, 1], Y[:, 5] = 1, -1  # corr2d(X, K)


def test_importing_d2lmini_does_not_import_matplotlib():
    code = "import sys, d2lmini, d2lmini.plot, d2lmini.data; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_set_figsize():
    before = matplotlib.rcParams["figure.figsize"]
    try:
        set_figsize((5, 2))
        assert list(matplotlib.rcParams["figure.figsize"]) == [5, 2]
    finally:
        matplotlib.rcParams["figure.figsize"] = before


def test_each_panel_shows_its_array_with_title():
    fig, axes = show_arrays([X, K, Y], titles=["X", "K", "Y"])
    assert len(axes) == 3
    for ax, array, title in zip(axes, [X, K, Y], ["X", "K", "Y"]):
        np.testing.assert_array_equal(ax.images[0].get_array(), array)
        assert ax.images[0].get_interpolation() == "nearest"
        assert ax.get_title() == title


def test_shared_scale_is_symmetric_diverging_with_one_colorbar():
    fig, axes = show_arrays([X, K, 3 * Y])
    assert {ax.images[0].get_clim() for ax in axes} == {(-3.0, 3.0)}
    assert {ax.images[0].get_cmap().name for ax in axes} == {"RdBu_r"}
    assert len(fig.axes) == 3 + 1  # three panels, one colorbar


def test_nonnegative_arrays_are_gray_from_zero():
    fig, axes = show_arrays([X, 2 * X])
    assert {ax.images[0].get_clim() for ax in axes} == {(0.0, 2.0)}
    assert axes[0].images[0].get_cmap().name == "gray"


def test_unshared_scale_gives_each_panel_its_own_limits_and_colorbar():
    fig, axes = show_arrays([X, 5 * Y], shared_scale=False, cmap="viridis")
    assert [ax.images[0].get_clim() for ax in axes] == [(0.0, 1.0), (-5.0, 5.0)]
    assert axes[1].images[0].get_cmap().name == "viridis"
    assert len(fig.axes) == 2 + 2


def test_no_colorbar():
    fig, axes = show_arrays([X, K], colorbar=False)
    assert len(fig.axes) == 2


def test_small_arrays_are_annotated_with_their_values():
    fig, axes = show_arrays(np.array([[0.5, -2.0], [0.0, 12.0]]))
    assert [t.get_text() for t in axes[0].texts] == ["0.5", "-2", "0", "12"]
    assert [t.get_position() for t in axes[0].texts] == [(0, 0), (1, 0), (0, 1), (1, 1)]


def test_annotation_format_and_switches():
    _, axes = show_arrays(np.array([[1 / 3]]), annotate="{:.2f}")
    assert [t.get_text() for t in axes[0].texts] == ["0.33"]
    _, axes = show_arrays(np.array([[1 / 3]]), annotate=False)
    assert len(axes[0].texts) == 0
    big = np.zeros((20, 20))
    _, axes = show_arrays(big)
    assert len(axes[0].texts) == 0
    _, axes = show_arrays(big, annotate=True)
    assert len(axes[0].texts) == 400


def test_the_values_written_in_cells_are_left_out_of_the_layout():
    """They sit inside their Axes; measuring each for the layout made figures draw slowly."""
    _, axes = show_arrays([np.ones((6, 8)), np.ones((3, 3))])
    texts = [t for ax in axes for t in ax.texts]
    assert len(texts) == 57 and not any(t.get_in_layout() for t in texts)
    assert all(ax.get_in_layout() for ax in axes)


def test_negative_zero_is_written_as_zero():
    _, axes = show_arrays(np.array([[-0.0, 1.0]]))
    assert axes[0].texts[0].get_text() == "0"


def test_pixel_ticks_for_small_arrays_none_for_large():
    _, axes = show_arrays([X, np.zeros((50, 40))])
    np.testing.assert_array_equal(axes[0].get_xticks(), np.arange(8))
    np.testing.assert_array_equal(axes[0].get_yticks(), np.arange(6))
    assert len(axes[1].get_xticks()) == 0 and len(axes[1].get_yticks()) == 0


def test_leading_singleton_axes_are_dropped():
    _, axes = show_arrays(X.reshape(1, 1, 6, 8))
    np.testing.assert_array_equal(axes[0].images[0].get_array(), X)


def test_layout_in_rows():
    fig, axes = show_arrays([X] * 5, ncols=2)
    assert len(axes) == 5
    assert [ax.get_subplotspec().rowspan.start for ax in axes] == [0, 0, 1, 1, 2]
    assert len(fig.axes) == 5 + 1  # the unused sixth cell is removed


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(arrays=[X, np.zeros((2, 3, 4))]),
         r"arrays\[1\] must be a non-empty 2-D .* got shape \(2, 3, 4\).*list\(stack\)"),
        (dict(arrays=[np.zeros(5)]), r"arrays\[0\] .* got shape \(5,\)"),
        (dict(arrays=[]), "at least one array"),
        (dict(arrays=[X, K], titles=["X"]), "got 1 titles for 2 arrays"),
        (dict(arrays=[X], ncols=0), "ncols must be a positive int, got 0"),
        (dict(arrays=[X], scale=0), "scale must be positive"),
    ],
)
def test_show_arrays_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        show_arrays(**kwargs)


def test_loss_curve_one_sequence_steps_from_one():
    losses = [2.0, 1.0, 0.5, 0.25]
    fig, ax = loss_curve(losses)
    (line,) = ax.lines
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(line.get_ydata(), losses)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("step", "loss")
    assert ax.get_legend() is None and ax.get_yscale() == "linear"


def test_loss_curve_dict_gives_legend_and_log_axis():
    fig, ax = loss_curve({"lr=0.03": [4, 2], "lr=0.3": [4, 1, 0.5]}, logy=True, xlabel="epoch")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["lr=0.03", "lr=0.3"]
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [4, 1, 0.5])
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "epoch"


def test_loss_curve_list_of_sequences_on_given_axes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    out = loss_curve([[3, 2, 1], [1, 1]], labels=["a", "b"], ax=ax)
    assert out == (fig, ax)
    assert [len(line.get_xdata()) for line in ax.lines] == [3, 2]


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (({"a": [1]},), dict(labels=["a"]), "labels must be None when losses is a dict"),
        (([[1, 2], [3]],), dict(labels=["a"]), "got 1 labels for 2 loss sequences"),
        (([1, 2],), dict(labels=["a", "b"]), "one loss sequence takes one label"),
        (({"train": [[1, 2]]},), {},
         r"losses\['train'\] must be a non-empty 1-D sequence, got shape \(1, 2\)"),
        (([],), {}, r"losses must be a non-empty 1-D sequence, got shape \(0,\)"),
    ],
)
def test_loss_curve_errors(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        loss_curve(*args, **kwargs)


def test_per_panel_colormaps_and_limits_give_each_panel_its_own_scale():
    image, edges = np.ones((6, 8)), np.zeros((6, 7))
    fig, axes = show_arrays([image, edges], cmap=["gray", "RdBu_r"], limits=[None, (-1, 1)])
    assert axes[0].images[0].get_cmap().name == "gray"
    assert axes[1].images[0].get_cmap().name == "RdBu_r"
    assert axes[0].images[0].get_clim() == (0.0, 1.0)  # the shared default, from the data
    assert axes[1].images[0].get_clim() == (-1, 1)
    assert len(fig.axes) == 4  # two panels, two colorbars


def test_one_pair_of_limits_applies_to_every_panel():
    fig, axes = show_arrays([np.zeros((2, 2)), np.ones((2, 2))], limits=(-2, 2))
    assert [ax.images[0].get_clim() for ax in axes] == [(-2, 2), (-2, 2)]
    assert axes[0].images[0].get_cmap().name == "RdBu_r"
    assert len(fig.axes) == 3  # one shared colorbar


@pytest.mark.parametrize("kwargs, message", [
    ({"cmap": ["gray"]}, r"cmap must be one setting or a list of 2 \(one per array\)"),
    ({"limits": [(0, 1), (0, 1, 2)]}, r"limits must be one setting or a list of 2"),
])
def test_per_panel_settings_must_match_the_arrays(kwargs, message):
    with pytest.raises(ValueError, match=message):
        show_arrays([np.zeros((2, 2)), np.ones((2, 2))], **kwargs)


# --------------------------------------------------------------------- bad arguments, no figure left
@pytest.fixture
def no_new_figure():
    """Asserts that the test leaves no figure open that was not open before."""
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    yield
    assert set(plt.get_fignums()) == before


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(arrays=None), TypeError, "arrays must be a list of 2-D arrays, or one array, got None"),
    (dict(arrays=5), TypeError, "arrays must be a list of 2-D arrays"),
    (dict(arrays="abc"), TypeError, "arrays must be a list of 2-D arrays"),
    (dict(arrays=[X, "abc"]), TypeError, r"arrays\[1\] must hold real numbers"),
    (dict(arrays=[X + 1j]), TypeError, r"arrays\[0\] must hold real numbers"),
    (dict(arrays=[X], titles=5), TypeError, "titles must be None, a str, or a list"),
    (dict(arrays=[X], scale=None), ValueError, "scale must be positive .* got None"),
    (dict(arrays=[X], scale=np.inf), ValueError, "scale must be positive"),
    (dict(arrays=[X], ncols=True), ValueError, "ncols must be a positive int"),
    (dict(arrays=[X, K], cmap=["gray"]), ValueError, "cmap must be one setting or a list of 2"),
    (dict(arrays=[X, K], cmap="no-such-map"), ValueError,
     "cmap must be a Matplotlib colormap name or None"),
    (dict(arrays=[X, K], cmap=["gray", "no-such-map"]), ValueError,
     "each a Matplotlib colormap name or None"),
    (dict(arrays=[X, K], limits=[(0, 1)]), ValueError, "limits must be one setting or a list of 2"),
    (dict(arrays=[X], limits=(1, 0)), ValueError, r"a pair \(vmin, vmax\) of finite numbers with "
                                                  r"vmin < vmax"),
    (dict(arrays=[X], limits=("a", "b")), ValueError, "limits must be"),
    (dict(arrays=[X], limits=(0, np.nan)), ValueError, "limits must be"),
    (dict(arrays=[X], annotate="{:.2q}"), ValueError, r"annotate '\{:.2q\}' is not a format string"),
    (dict(arrays=[X], annotate="{0} {1}"), ValueError, "is not a format string for one number"),
    (dict(arrays=[X], annotate=5), TypeError, "annotate must be None, True, False or a format"),
])
def test_show_arrays_bad_arguments_leave_no_figure(kwargs, error, message, no_new_figure):
    with pytest.raises(error, match=message) as raised:
        show_arrays(**kwargs)
    assert str(raised.value).startswith("show_arrays: ")


def test_show_arrays_closes_its_figure_when_drawing_fails(no_new_figure, monkeypatch):
    from d2lmini import plot

    def fail(*args):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(plot, "_annotate", fail)
    with pytest.raises(RuntimeError, match="drawing failed"):
        show_arrays([X])


@pytest.mark.parametrize("losses, error, message", [
    (None, TypeError, "losses must be a sequence of numbers, a dict"),
    ("abc", TypeError, "losses must be a sequence of numbers"),
    (3.0, TypeError, "losses must be a sequence of numbers"),
    (["a", "b"], TypeError, "losses must hold real numbers"),
    ([[1.0, 2.0], ["a"]], TypeError, r"losses\[1\] must hold real numbers"),
])
def test_loss_curve_bad_losses(losses, error, message, no_new_figure):
    with pytest.raises(error, match=message):
        loss_curve(losses)


def test_loss_curve_bad_axes(no_new_figure):
    with pytest.raises(TypeError, match="ax must be a Matplotlib Axes or None, got 'abc'"):
        loss_curve([1.0, 2.0], ax="abc")


def test_loss_curve_takes_a_generator_of_losses():
    import matplotlib.pyplot as plt

    fig, ax = loss_curve(0.5 ** k for k in range(4))
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [1.0, 0.5, 0.25, 0.125])
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3, 4])
    plt.close(fig)


def test_loss_curve_closes_its_figure_when_drawing_fails(no_new_figure, monkeypatch):
    from matplotlib.axes import Axes

    def fail(*args, **kwargs):
        raise RuntimeError("plot failed")

    monkeypatch.setattr(Axes, "plot", fail)
    with pytest.raises(RuntimeError, match="plot failed"):
        loss_curve([1.0, 2.0])


@pytest.mark.parametrize("labels", ["ab", 5])
def test_loss_curve_several_sequences_need_a_list_of_labels(labels, no_new_figure):
    with pytest.raises(TypeError, match=r"loss_curve: 2 loss sequences take a list of 2 labels"):
        loss_curve([[1.0, 2.0], [3.0, 4.0]], labels=labels)


def test_the_pixel_grid_is_one_collection_of_lines_between_pixels():
    from matplotlib.collections import LineCollection

    fig, axes = show_arrays([np.zeros((2, 3))], annotate=False)
    (grid,) = [c for c in axes[0].collections if isinstance(c, LineCollection)]
    segments = [tuple(map(tuple, s)) for s in grid.get_segments()]
    assert segments == [((x, -0.5), (x, 1.5)) for x in (-0.5, 0.5, 1.5, 2.5)] + \
        [((-0.5, y), (2.5, y)) for y in (-0.5, 0.5, 1.5)]
    assert axes[0].get_xlim() == (-0.5, 2.5) and axes[0].get_ylim() == (1.5, -0.5)
    assert len(axes[0].get_xticks(minor=True)) == 0  # no tick per grid line
    import matplotlib.pyplot as plt
    plt.close(fig)
