"""Sequential: a stack of layers that is itself a layer."""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from .layers import get_activation

__all__ = ["Sequential"]


class Sequential:
    """Layers applied in order: forward goes first→last, backward last→first.

    ``Sequential([Dense(4, 16), "relu", Dense(16, 3)])`` — activation names are accepted
    as shorthand for the activation layers. ``params`` / ``grads`` are flat dicts keyed
    "{index}.{name}" (e.g. "0.W") whose values *are* the layers' own arrays, so an
    optimizer updating them in place updates the layers.
    """

    def __init__(self, layers: Any = (), *more: Any) -> None:
        items = list(layers) if isinstance(layers, (list, tuple)) else [layers]
        items += list(more)
        self.layers: list = []
        for i, layer in enumerate(items):
            if isinstance(layer, str):
                layer = get_activation(layer)
            if not (callable(getattr(layer, "forward", None)) and callable(getattr(layer, "backward", None))):
                raise TypeError(f"Sequential: item {i} ({layer!r}) is not a layer "
                                "(it needs forward() and backward() methods)")
            self.layers.append(layer)

    # Rebuilt on every access: backward() stores new gradient arrays in each layer.
    @property
    def params(self) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, l in enumerate(self.layers) for k, v in l.params.items()}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, l in enumerate(self.layers) for k, v in l.grads.items()}

    def __call__(self, x: Any, training: bool = False) -> np.ndarray:
        return self.forward(x, training=training)

    def forward(self, x: Any, training: bool = False) -> np.ndarray:
        """x (N, ...) → output of the last layer."""
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """grad wrt the output → grad wrt the input; every layer fills its grads.

        input_grad=False (what training uses) skips the gradient wrt the network's input when
        the first layer can (Dense, Conv2D): nobody needs it, and it is a third of that layer's
        work. Returns None then.
        """
        if not self.layers:
            return grad_out
        first, *rest = self.layers
        for layer in reversed(rest):
            grad_out = layer.backward(grad_out)
        if not input_grad and hasattr(first, "backward_params"):
            first.backward_params(grad_out)
            return None
        return first.backward(grad_out)

    def predict(self, x: Any, batch_size: int | None = None) -> np.ndarray:
        """forward(x, training=False); with ``batch_size``, in chunks to bound memory (big CNN inputs)."""
        if batch_size is None or len(x) <= batch_size:
            return self.forward(x, training=False)
        return np.concatenate([self.forward(x[i:i + batch_size], training=False)
                               for i in range(0, len(x), batch_size)])

    @property
    def dtype(self) -> np.dtype | None:
        """The dtype of the first parameter (None for a model without parameters)."""
        return next((p.dtype for p in self.params.values()), None)

    def num_params(self) -> int:
        """Total number of trainable numbers."""
        return int(sum(p.size for p in self.params.values()))

    def __getitem__(self, i: int) -> Any:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator:
        return iter(self.layers)

    def __repr__(self) -> str:
        lines = []
        for i, layer in enumerate(self.layers):
            n = sum(p.size for p in layer.params.values())
            lines.append(f"  ({i}) {layer!r}" + (f"  # {n:,} params" if n else ""))
        return "Sequential(\n" + "\n".join(lines) + f"\n)  # {self.num_params():,} params total"
