"""d2lmini: convolutions for images, from first principles, on NumPy."""
from . import autograd, data, init, nn, plot
from .conv import conv2d, conv2d_grad, conv2d_naive, corr2d, corr2d_naive

__version__ = "0.1.0"
__all__ = ["autograd", "data", "init", "nn", "plot",
           "corr2d", "corr2d_naive", "conv2d", "conv2d_naive", "conv2d_grad"]
