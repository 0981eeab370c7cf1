"""The public neural-network namespace: ``from mlcourse import nn`` then ``nn.Dense(4, 3)``.

Re-exports the layers, Sequential, the losses and the stable softmax / log_softmax / sigmoid.
"""
from .conv import Conv2D, MaxPool2D
from .layers import Dense, Dropout, Flatten, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, get_activation
from .losses import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, log_softmax, sigmoid,
                     softmax)
from .model import Sequential
from .normalization import BatchNorm, LayerNorm

__all__ = ["Dense", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Dropout", "Flatten",
           "Conv2D", "MaxPool2D", "BatchNorm", "LayerNorm", "Sequential", "MSELoss", "BCELoss", "BCEWithLogitsLoss",
           "CrossEntropyLoss", "softmax", "log_softmax", "sigmoid", "get_activation"]
