"""Shared test setup: the pytest process draws off screen (the notebook kernels keep their inline
backend), and every figure a test leaves open is closed."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")
