"""d2lmini.widgets: the figures show the numbers of the pure functions, and the widgets redraw
them when a control moves (checked without a kernel, through the figure each widget keeps)."""
import ipywidgets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from d2lmini import data, kernels, landscape, widgets, windows  # noqa: E402

X = np.arange(9.0).reshape(3, 3)
K = np.array([[0.0, 1.0], [2.0, 3.0]])
STRIPES = data.stripes()
A = landscape.design_matrix(STRIPES, (1, 2))
Y = A @ [1.0, -1.0]
K0, K1 = np.linspace(-0.5, 2.5, 31), np.linspace(-2.5, 0.5, 31)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def shown(image):
    """An image's array as drawn, with NaN where it is masked (blank)."""
    array = image.get_array()
    return np.ma.filled(np.ma.asarray(array, dtype=float), np.nan)


def rectangles(ax):
    return [(p.get_xy(), p.get_width(), p.get_height(), p.get_edgecolor()) for p in ax.patches]


# --------------------------------------------------------------------- drawing
@pytest.mark.parametrize("step", range(4))
def test_window_step_draws_the_window_its_products_and_the_partial_output(step):
    (i, j), products, partial = windows.window_step(X, K, step)
    fig, (ax_x, ax_p, ax_y) = widgets.draw_window_step(X, K, step)
    (xy, width, height, _), = rectangles(ax_x)
    assert xy == (j - 0.5, i - 0.5) and (width, height) == K.shape[::-1]
    np.testing.assert_array_equal(shown(ax_x.images[0]), X)
    np.testing.assert_array_equal(shown(ax_p.images[0]), products)
    np.testing.assert_array_equal(shown(ax_y.images[0]), partial)  # NaN (blank) not yet reached
    (xy, _, _, _), = rectangles(ax_y)
    assert xy == (j - 0.5, i - 0.5)
    written = {t.get_text() for t in ax_x.texts}
    assert {f"×{k:g}" for k in K.ravel()} <= written
    # the values inside the grids are not measured by the layout (see plot._annotate)
    assert not any(t.get_in_layout() for ax in (ax_x, ax_p, ax_y) for t in ax.texts)
    # the scales do not jump from step to step: the output's is that of the whole output
    assert ax_y.images[0].get_clim() == (0.0, 43.0)


def test_window_step_draws_on_given_axes_and_refuses_a_wrong_number():
    fig, axes = plt.subplots(1, 3)
    assert widgets.draw_window_step(X, K, 0, axes=axes)[1] == list(axes)
    with pytest.raises(ValueError, match="draw_window_step: axes must be 3 Matplotlib Axes"):
        widgets.draw_window_step(X, K, 0, axes=axes[:2])


@pytest.mark.parametrize("name", kernels.PRESETS)
def test_kernel_panel_and_feature_map_are_the_presets(name):
    photo = data.photo(size=40)
    fig, (ax_k, ax_f) = widgets.draw_kernel(photo, kernels.preset(name), name=name)
    np.testing.assert_array_equal(shown(ax_k.images[0]), kernels.preset(name))
    np.testing.assert_allclose(shown(ax_f.images[0]),
                               kernels.feature_map(photo, kernels.preset(name)))
    cmap, limits = kernels.display_scale(kernels.preset(name))
    assert ax_f.images[0].get_cmap().name == cmap
    assert ax_f.images[0].get_clim() == limits
    assert ax_k.get_title() == f"kernel: {name}"


@pytest.mark.parametrize("lr", [0.01, 0.03, 0.034])
def test_descent_draws_the_path_its_losses_and_the_limit(lr):
    start = [0.0, 0.5]
    fig, (ax_b, ax_l, ax_f) = widgets.draw_descent(A, Y, start, lr, 20, K0, K1)
    path = landscape.descent_path(A, Y, start, lr, 20)
    np.testing.assert_allclose(ax_b.lines[0].get_xydata(), path)
    np.testing.assert_allclose(ax_l.lines[0].get_ydata(), landscape.squared_error(A, Y, path))
    limit_lines = [line for line in ax_f.lines if line.get_linestyle() == "--"]
    assert [line.get_xdata()[0] for line in limit_lines] == [pytest.approx(1 / 30)]
    dots = [line for line in ax_f.lines if line.get_marker() == "o"]
    assert [dot.get_xdata()[0] for dot in dots] == [lr, lr]
    np.testing.assert_allclose(sorted(dot.get_ydata()[0] for dot in dots),
                               sorted(abs(1 - lr * np.array([12.0, 60.0]))))
    assert any("1/30" in text.get_text() for text in ax_f.texts)
    assert ax_l.get_title() == ("stable" if lr < 1 / 30 else "unstable")
    losses = ax_l.lines[0].get_ydata()
    decades = np.log10(losses.max() / losses.min())  # 2.3, 4.7 and 0.6
    minor = ax_l.yaxis.get_minor_locator()()
    assert (len(minor) == 0) == (decades > widgets.MANY_DECADES), (decades, minor)


@pytest.mark.parametrize("kernel_size, padding, strides", [(3, 0, 1), (3, 1, 1), (3, 1, 2),
                                                           (5, 2, 3), (1, 0, 4)])
def test_windows_drawn_where_window_corners_puts_them(kernel_size, padding, strides):
    shape = (6, 6)
    fig, (ax_in, ax_out) = widgets.draw_windows(shape, kernel_size, padding, strides)
    corners = windows.window_corners(shape, kernel_size, padding, strides)
    centres = corners + (kernel_size - 1) / 2
    dots = ax_in.lines[0].get_xydata()  # (column, row) of each window's centre
    np.testing.assert_allclose(dots, centres[..., ::-1].reshape(-1, 2))
    np.testing.assert_array_equal(
        shown(ax_in.images[0]),
        windows.coverage(shape, kernel_size, padding, strides, include_padding=True))
    counts = windows.coverage(shape, kernel_size, padding, strides, include_padding=True)
    written = {(round(t.get_position()[1] + 0.38), round(t.get_position()[0] + 0.42)):
               t.get_text() for t in ax_in.texts}  # (row, column) of the cell: its count
    assert written == {(r - padding, c - padding): str(n) for (r, c), n in np.ndenumerate(counts)}
    first = [r for r in rectangles(ax_in) if r[1:3] == (kernel_size, kernel_size)
             and matplotlib.colors.same_color(r[3], widgets.WINDOW)]
    assert [r[0] for r in first] == [(corners[0, 0, 1] - 0.5, corners[0, 0, 0] - 0.5)]
    assert shown(ax_out.images[0]).shape == windows.output_shape(shape, kernel_size, padding,
                                                                 strides)
    assert ax_out.get_title() == "output {} x {}".format(*corners.shape[:2])


def test_small_multiples_draws_each_setting_on_its_own_axes():
    settings = [dict(X=X, K=K, step=s) for s in range(4)]
    fig, drawn = widgets.small_multiples(widgets.draw_window_step, settings, per_row=2,
                                         titles=[f"step {s}" for s in range(4)])
    assert len(fig.axes) == 12 and [len(axes) for axes in drawn] == [3] * 4
    for s, axes in enumerate(drawn):
        np.testing.assert_array_equal(shown(axes[2].images[0]), windows.window_step(X, K, s)[2])
    with pytest.raises(TypeError, match="small_multiples: draw must be a drawing function"):
        widgets.small_multiples(print, settings)
    with pytest.raises(ValueError, match="small_multiples: got 1 titles for 4 settings"):
        widgets.small_multiples(widgets.draw_window_step, settings, titles=["one"])


# --------------------------------------------------------------------- widgets
def check_contract(box, control_type):
    assert isinstance(box, ipywidgets.VBox)
    assert "d2lmini-widget" in box._dom_classes
    assert any(isinstance(child, control_type) for child in box.children)
    assert isinstance(box.children[-1], ipywidgets.Output)
    text = box._repr_mimebundle_()["text/plain"]
    assert "running notebook" in text and "model_id" not in text and len(text) <= 110


def test_sliding_window_redraws_when_the_slider_moves():
    box = widgets.sliding_window(X, K)
    check_contract(box, ipywidgets.IntSlider)
    slider = box.children[0]
    assert (slider.min, slider.max, slider.value) == (0, 3, 0)
    first = box.figure
    slider.value = 2
    assert box.figure is not first
    np.testing.assert_array_equal(shown(box.figure.axes[2].images[0]),
                                  windows.window_step(X, K, 2)[2])


def test_kernel_playground_presets_and_edits():
    photo = data.photo(size=40)
    box = widgets.kernel_playground(photo)
    check_contract(box, ipywidgets.Dropdown)
    menu, grid = box.children[0], box.children[1]
    entries = grid.children
    assert tuple(menu.options) == kernels.PRESETS and len(entries) == 9
    assert all(isinstance(entry, ipywidgets.FloatText) for entry in entries)
    drawn = []
    for name in ("Laplacian", "box blur"):
        before = box.figure
        menu.value = name
        assert box.figure is not before
        drawn.append(box.figure)
        np.testing.assert_array_equal([e.value for e in entries], kernels.preset(name).ravel())
        np.testing.assert_allclose(shown(box.figure.axes[1].images[0]),
                                   kernels.feature_map(photo, kernels.preset(name)))
        assert box.figure.axes[0].get_title() == f"kernel: {name}"
    entries[4].value = 0.5  # an edit: the figure shows the edited kernel
    edited = np.array([e.value for e in entries]).reshape(3, 3)
    np.testing.assert_allclose(shown(box.figure.axes[1].images[0]),
                               kernels.feature_map(photo, edited))
    assert box.figure.axes[0].get_title() == "kernel: yours"


def test_a_preset_is_drawn_once_not_once_per_entry(monkeypatch):
    box = widgets.kernel_playground(data.photo(size=40))
    calls = []
    real = widgets.draw_kernel
    monkeypatch.setattr(widgets, "draw_kernel", lambda *a, **k: calls.append(1) or real(*a, **k))
    box.children[0].value = "sharpen"
    assert len(calls) == 1


def test_learning_rate_slider_moves_the_path():
    box = widgets.learning_rate(A, Y, [0.0, 0.5], K0, K1)
    check_contract(box, ipywidgets.FloatSlider)
    slider = box.children[0]
    assert slider.min < 0.03 == slider.value < 1 / 30 < slider.max
    slider.value = 0.034
    np.testing.assert_allclose(box.figure.axes[0].lines[0].get_xydata(),
                               landscape.descent_path(A, Y, [0.0, 0.5], 0.034, 20))


def test_padding_and_stride_sliders_change_the_output_shape():
    box = widgets.padding_and_stride((6, 6))
    check_contract(box, ipywidgets.IntSlider)
    kernel, padding, stride = box.children[:3]
    assert [s.description for s in (kernel, padding, stride)] == ["kernel", "padding", "stride"]
    for k, p, s in [(3, 1, 1), (5, 2, 3), (1, 0, 4)]:
        kernel.value, padding.value, stride.value = k, p, s
        assert box.figure.axes[-1].get_title() == "output {} x {}".format(
            *windows.output_shape((6, 6), k, p, s))
