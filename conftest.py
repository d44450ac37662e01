"""Shared test setup: the pytest process draws off screen (the notebook kernels keep their inline
backend), and every figure a test leaves open is closed."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# The same examples on every run and machine: a failure in CI can be reproduced at home.
settings.register_profile("d2lmini", derandomize=True, database=None)
settings.load_profile("d2lmini")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")
