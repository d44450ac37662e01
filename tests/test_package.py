"""The package as a learner meets it: what `import d2lmini` costs and what it offers."""
import subprocess
import sys

import pytest

import d2lmini

PUBLIC = ["corr2d", "corr2d_naive", "conv2d", "conv2d_naive", "conv2d_grad",
          "pool2d", "pool2d_naive", "relu", "sigmoid", "tanh", "Trainer",
          "autograd", "nn", "init", "plot", "data", "loss", "train"]


def modules_after(statement):
    """The top-level modules a fresh interpreter has imported after running ``statement``."""
    code = f"import sys\n{statement}\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("statement", [
    "import d2lmini",
    "import d2lmini.autograd, d2lmini.nn, d2lmini.init, d2lmini.conv, d2lmini.plot, d2lmini.data",
    "import d2lmini.pool, d2lmini.activation, d2lmini.loss, d2lmini.train",
    "import d2lmini.windows, d2lmini.landscape, d2lmini.kernels, d2lmini.widgets",
    "from d2lmini import *",
])
def test_import_loads_neither_matplotlib_nor_scipy(statement):
    loaded = modules_after(statement)
    assert {"d2lmini", "numpy"} <= loaded  # the check itself works
    assert "matplotlib" not in loaded
    assert "scipy" not in loaded
    assert "sklearn" not in loaded
    assert "ipywidgets" not in loaded


@pytest.mark.parametrize("name", PUBLIC)
def test_public_names_exist(name):
    assert hasattr(d2lmini, name)
    assert name in d2lmini.__all__


def test_everything_in_all_resolves():
    for name in d2lmini.__all__:
        assert getattr(d2lmini, name) is not None


def test_functions_are_the_ones_in_conv():
    from d2lmini import conv

    for name in ["corr2d", "corr2d_naive", "conv2d", "conv2d_naive", "conv2d_grad"]:
        assert getattr(d2lmini, name) is getattr(conv, name)
        assert callable(getattr(d2lmini, name))
        assert getattr(d2lmini, name).__doc__  # every public function has a docstring


def test_the_layer_api_is_reachable_as_in_gluon():
    assert d2lmini.nn.Conv2D and d2lmini.nn.Block and d2lmini.nn.Parameter
    for name in ["Dense", "Activation", "Flatten", "Sequential", "MaxPool2D", "AvgPool2D"]:
        assert getattr(d2lmini.nn, name).__doc__ and name in d2lmini.nn.__all__
    assert d2lmini.loss.SoftmaxCrossEntropyLoss and d2lmini.loss.L2Loss
    assert d2lmini.Trainer is d2lmini.train.Trainer and d2lmini.train.batches
    assert d2lmini.pool2d is d2lmini.pool.pool2d and d2lmini.relu is d2lmini.activation.relu
    assert d2lmini.autograd.record and d2lmini.autograd.Tensor
    assert d2lmini.init.Uniform and d2lmini.init.Constant and d2lmini.init.Normal


def test_version():
    assert d2lmini.__version__ == "0.1.0"


def test_the_readme_layout_names_every_module():
    """A learner looking for a function reads the README's layout: every module is listed there."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    layout = (root / "README.md").read_text(encoding="utf-8").split("## Layout", 1)[1]
    modules = sorted(p.name for p in (root / "d2lmini").glob("*.py") if p.name != "__init__.py")
    missing = [name for name in modules if f"  {name} " not in layout]
    assert not missing, f"README's Layout does not list {missing}"
