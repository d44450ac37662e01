"""d2lmini: convolutions for images, from first principles, on NumPy."""
from . import autograd, data, init, loss, nn, plot, train
from .activation import relu, sigmoid, tanh
from .conv import conv2d, conv2d_grad, conv2d_naive, corr2d, corr2d_naive
from .pool import pool2d, pool2d_naive
from .train import Trainer

__version__ = "0.1.0"
__all__ = ["autograd", "data", "init", "loss", "nn", "plot", "train",
           "corr2d", "corr2d_naive", "conv2d", "conv2d_naive", "conv2d_grad",
           "pool2d", "pool2d_naive", "relu", "sigmoid", "tanh", "Trainer"]
